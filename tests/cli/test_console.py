"""`glossify up` and `glossify demo` print Glossify's own lines only: Ray's and Serve's logs
go to a file under GLOSSIFY_HOME whose path is printed, and `up` prints a link to host a
meeting in the meeting page."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pydantic import SecretStr

from glossify.access.scopes import Role
from glossify.access.tokens import TokenSigner
from glossify.cli.local_stack import free_port
from tests.cli.test_up import local_env, tiny_config

# Ray's relayed worker output, raylet messages, Ray's and Serve's log format, any traceback.
RAY_LINE = re.compile(
    r"\(pid=|\(raylet\)|raylet|(INFO|WARNING|ERROR) .* -- |Traceback|\b\w+Warning:|"
    r"\(ServeController|\(ProxyActor|\(ServeReplica"
)
LOGS_LINE = re.compile(r"^Starting Ray, Serve and PostgreSQL; their logs go to (\S+)$", re.M)


def ray_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if RAY_LINE.search(line)]


def log_file(output: str, home: Path) -> Path:
    found = LOGS_LINE.search(output)
    assert found, output
    path = Path(found.group(1))
    assert path.parent == home / "logs" and path.name.startswith("ray-"), path
    return path


def test_take_over_sends_everything_else_to_the_log(tmp_path: Path) -> None:
    script = (
        "import logging, os, sys\n"
        "from pathlib import Path\n"
        "from glossify.cli.console import Console\n"
        f"console = Console.take_over(Path({str(tmp_path)!r}))\n"
        "print('from print'); sys.stderr.write('from stderr\\n')\n"
        "os.write(1, b'fd one\\n'); os.write(2, b'fd two\\n')\n"
        "logging.getLogger('ray.serve').warning('serve says')\n"
        "logging.getLogger('glossify.x').warning('ours, also logged')\n"
        "console.say('our line')\n"
        "print(console.log_path)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["glossify: ours, also logged", "our line"]
    assert done.stderr == ""
    logs = list((tmp_path / "logs").glob("ray-*.log"))
    assert len(logs) == 1 and logs[0].stat().st_mode & 0o077 == 0
    text = logs[0].read_text()
    for written in ["from print", "from stderr", "fd one", "fd two", "serve says", str(logs[0])]:
        assert written in text, (written, text)


def test_glossify_demo_prints_no_ray_log_line(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "glossify", "demo", "--fast", "--no-dashboard"]
    port = free_port()
    done = subprocess.run(
        [*command, "--port", str(port), "--config", str(tiny_config(tmp_path))],
        env=local_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert done.stderr == "", done.stderr[-4000:]
    assert not ray_lines(output), ray_lines(output)[:20]
    lines = output.splitlines()
    assert lines[0].startswith("Starting Ray, Serve and PostgreSQL; their logs go to ")
    assert f"Glossify is up on http://127.0.0.1:{port}; streaming" in output
    assert re.search(rf"watch it live: http://127\.0\.0\.1:{port}/m/demo-\d+#token=\S+\)", output)
    assert "Glossary of demo-" in output and "Upserted " in output
    assert lines[-1].endswith("s of audio."), lines[-3:]
    # Ray's and Serve's lines are in the file instead.
    logged = log_file(output, tmp_path / "home").read_text()
    assert "Started Serve" in logged and "(ServeController pid=" in logged


def test_glossify_up_prints_a_link_to_host_a_meeting(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "glossify", "up", "--port", str(port), "--no-dashboard"]
    out_path, err_path = tmp_path / "up.out", tmp_path / "up.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            [*command, "--config", str(tiny_config(tmp_path))],
            env=local_env(tmp_path),
            stdout=out,
            stderr=err,
        )
    link = re.compile(rf"^Open ({re.escape(base)}/m/(standup-[\w-]+)#token=(\S+)) to host", re.M)
    try:
        deadline = time.monotonic() + 300
        while not link.search(out_path.read_text()) and process.poll() is None:
            assert time.monotonic() < deadline, out_path.read_text()[-3000:]
            time.sleep(0.5)
        found = link.search(out_path.read_text())
        assert found, out_path.read_text() + err_path.read_text()
        url, meeting_id, token = found.groups()
        secret = (tmp_path / "home" / "secrets" / "auth-secret").read_text().strip()
        claims = TokenSigner([SecretStr(secret)]).verify(token)
        assert (claims.meeting_id, claims.role) == (meeting_id, Role.HOST)
        assert re.fullmatch(r"standup-\d{4}-\d{2}-\d{2}-[0-9a-f]{4}", meeting_id)
        with urllib.request.urlopen(url.split("#")[0], timeout=30) as page:
            assert page.headers["content-type"] == "text/html; charset=utf-8"
        # The link's token hosts its meeting: the page starts it with the token.
        start = urllib.request.Request(
            f"{base}/meeting/{meeting_id}/start",
            method="POST",
            headers={"authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(start, timeout=30) as started:
            assert json.loads(started.read()) == {"status": "ok", "meeting_id": meeting_id}
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
    output = out_path.read_text()
    assert process.returncode == 0, output[-3000:] + err_path.read_text()[-3000:]
    assert err_path.read_text() == ""
    assert not ray_lines(output), ray_lines(output)[:20]
    assert output.splitlines()[-1] == "Shutting down..."
    assert f"Glossify is up on {base} (Ctrl-C stops it)" in output
    assert "Ray's session logs: " in output
    assert "Started Serve" in log_file(output, tmp_path / "home").read_text()
