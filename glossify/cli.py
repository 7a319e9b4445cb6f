"""``glossify`` command line: ``glossify up`` runs the whole local stack in the foreground."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
APP_NAME = "glossify"


def serve_config_args(path: Path, app_name: str = APP_NAME) -> dict[str, Any]:
    """The ``args`` of our application in a Serve config file."""
    document = yaml.safe_load(path.read_text())
    for app in (document or {}).get("applications", []):
        if (
            app.get("name", APP_NAME) == app_name
            or app.get("import_path") == "glossify.app:build_app"
        ):
            return dict(app.get("args") or {})
    raise SystemExit(f"{path}: no application named {app_name!r}")


def wait_for_health(url: str, timeout_s: float, stop: threading.Event | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    last_error = "no answer"
    while time.monotonic() < deadline and not (stop and stop.is_set()):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last_error = f"HTTP {exc.code}"
        except OSError as exc:
            last_error = str(exc)
        time.sleep(0.5)
    if stop and stop.is_set():
        return
    raise SystemExit(f"{url} did not answer 200 within {timeout_s:.0f}s ({last_error})")


def prepare_local_env() -> None:
    # Token auth would make the `serve` CLI get 401 against this cluster; locals run without it.
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def _stop_on_signals() -> threading.Event:
    """SIGINT/SIGTERM set the returned event. Installed after ray.init, whose own fatal-signal
    handler would otherwise abort the process on SIGTERM and skip our clean shutdown."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def run_up(args: argparse.Namespace) -> None:
    prepare_local_env()
    from glossify.database import database_url

    app_args = serve_config_args(args.config) if args.config else {}
    with database_url() as url:
        os.environ["DATABASE_URL"] = url
        _serve_until_signal(app_args, args.host, args.port, args.dashboard)


def _serve_until_signal(app_args: dict[str, Any], host: str, port: int, dashboard: bool) -> None:
    import ray
    from ray import serve

    from glossify.app import build_app
    from glossify.config import load_config
    from glossify.meeting_hosts import MeetingHosts
    from glossify.model_files import default_llm_path

    config = load_config(app_args)
    if config.explainer.model_path is None:
        print("Preparing the local explanation model (first run assembles it)...", flush=True)
        default_llm_path()
    ray.init(
        address="local",
        include_dashboard=dashboard,
        _node_ip_address=DEFAULT_HOST,
        logging_level=logging.WARNING,
    )
    stop = _stop_on_signals()
    try:
        serve.start(http_options={"host": host, "port": port})
        serve.run(build_app(app_args), name=APP_NAME, route_prefix="/", blocking=False)
        wait_for_health(f"http://{host}:{port}/health", timeout_s=600, stop=stop)
        if not stop.is_set():
            print(f"Glossify is up on http://{host}:{port} (Ctrl-C stops it)", flush=True)
        while not stop.wait(1.0):
            pass
        print("Shutting down...", flush=True)
    finally:
        serve.shutdown()
        MeetingHosts(config.model_copy(update={"app_name": APP_NAME})).kill_all()
        ray.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="glossify", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run Ray, Serve and PostgreSQL locally until Ctrl-C")
    up.add_argument("--host", default=DEFAULT_HOST)
    up.add_argument("--port", type=int, default=DEFAULT_PORT)
    up.add_argument("--config", type=Path, help="a Serve config file whose glossify args to use")
    up.add_argument("--no-dashboard", dest="dashboard", action="store_false")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "up":
        run_up(args)
    else:  # pragma: no cover - argparse refuses unknown commands
        parser.error(f"unknown command {args.command}")
    sys.exit(0)
