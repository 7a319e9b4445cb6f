"""`glossify up`: the local stack in the foreground, ready on /health, gone after SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
import yaml

from glossify.cli.local_stack import free_port, wait_for_health
from glossify.weights.packaged import smollm2_path


def tiny_config(tmp_path: Path) -> Path:
    config = tmp_path / "serve.yaml"
    args = {
        "explainer": {"model_path": str(smollm2_path()), "n_threads": 1, "max_tokens": 32},
        "audio": {"max_speed": 8.0},  # --fast streams as fast as this allows
    }
    config.write_text(yaml.safe_dump({"applications": [{"name": "glossify", "args": args}]}))
    return config


def local_env(tmp_path: Path) -> dict[str, str]:
    # The CLI makes its own secrets under GLOSSIFY_HOME when none come from the environment.
    ignored = ("DATABASE_URL", "RAY_ADDRESS", "GLOSSIFY_API_KEYS", "GLOSSIFY_AUTH_SECRET")
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    env["GLOSSIFY_HOME"] = str(tmp_path / "home")
    return env


def test_glossify_demo_hears_explains_and_upserts(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "glossify", "demo", "--fast", "--no-dashboard"]
    done = subprocess.run(
        [*command, "--port", str(free_port()), "--config", str(tiny_config(tmp_path))],
        env=local_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout
    assert done.returncode == 0, (output + done.stderr)[-4000:]
    lines = [line for line in output.splitlines() if line.startswith("[")]
    assert len(lines) >= 8, output
    assert "EBITDA" in output and "feature flag" in output
    glossary = output.split("Glossary of", 1)[1]
    assert "▸" in output and "EBITDA" in glossary
    upserted = int(output.split("Upserted ", 1)[1].split()[0])
    assert upserted == len([g for g in glossary.splitlines()[1:] if g.startswith("  ")])


def test_glossify_up_serves_and_shuts_everything_down(tmp_path: Path) -> None:
    config = tiny_config(tmp_path)
    port = free_port()
    env = local_env(tmp_path)
    command = [sys.executable, "-m", "glossify", "up", "--port", str(port), "--no-dashboard"]
    log_path = tmp_path / "up.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, "--config", str(config)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    ready_line = f"Glossify is up on http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while ready_line not in log_path.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.5)
        health = wait_for_health(f"http://127.0.0.1:{port}/health", timeout_s=10)
        assert health["status"] == "ok"
        line = json.dumps({"text": "The SLA covers the API gateway.", "is_final": True}).encode()
        url = f"http://127.0.0.1:{port}/meeting/cli-check/stt"
        anonymous = urllib.request.Request(
            url, data=line, headers={"content-type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(anonymous, timeout=30)
        assert refused.value.code == 401
        refused.value.close()  # the error holds the response's socket open
        key = (tmp_path / "home" / "secrets" / "service-key").read_text().strip()
        request = urllib.request.Request(
            url,
            data=line,
            headers={"content-type": "application/json", "authorization": f"Bearer {key}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.loads(response.read()) == {"status": "ok"}
        started = psutil.Process(process.pid).children(recursive=True)
        postgres = [p for p in psutil.process_iter(["name", "cmdline"]) if _serves(p, tmp_path)]
        assert postgres, "glossify up should have started an embedded PostgreSQL"
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    output = log_path.read_text()
    assert process.returncode == 0, output[-3000:]
    assert "Shutting down..." in output
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(p.is_running() for p in started + postgres):
        time.sleep(0.5)
    leftovers = [p for p in started + postgres if p.is_running() and p.status() != "zombie"]
    assert not leftovers, [p.cmdline() for p in leftovers]
    # The glossary lives on between runs in GLOSSIFY_HOME.
    assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()


def _serves(process: psutil.Process, data_root: Path) -> bool:
    cmdline = process.info.get("cmdline") or []
    return process.info.get("name") == "postgres" and any(str(data_root) in a for a in cmdline)
