"""``glossify`` command line: ``glossify up`` runs the whole local stack in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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


_STOP = threading.Event()
_DEMO_RUNNING = threading.Event()


def _stop_on_signals() -> threading.Event:
    """SIGINT/SIGTERM set the returned event. Installed after ray.init, whose own fatal-signal
    handler would otherwise abort the process on SIGTERM and skip our clean shutdown."""

    def on_signal(*_: object) -> None:
        _STOP.set()
        # The demo is inside asyncio.run: interrupt it like Ctrl-C would.
        if threading.current_thread() is threading.main_thread() and _DEMO_RUNNING.is_set():
            raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    return _STOP


@contextmanager
def local_stack(app_args: dict[str, Any], host: str, port: int, dashboard: bool) -> Iterator[str]:
    """Ray + Serve + (embedded) PostgreSQL for the duration of the block; yields the base URL.

    Raises KeyboardInterrupt when SIGINT/SIGTERM arrive before the stack is ready."""
    prepare_local_env()
    import ray
    from ray import serve

    from glossify.app import build_app
    from glossify.config.settings import load_config
    from glossify.meetings.hosts import MeetingHosts
    from glossify.store.database import database_url
    from glossify.weights.packaged import default_llm_path

    with database_url() as url:
        os.environ["DATABASE_URL"] = url
        config = load_config(app_args)
        if config.explainer.model_path is None:
            print("Preparing the local explanation model (first run assembles it)...", flush=True)
            default_llm_path()
        if config.transcriber.enabled and config.transcriber.model is None:
            from glossify.weights.whisper import default_whisper_dir

            default_whisper_dir()
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
            base = f"http://{host}:{port}"
            wait_for_health(f"{base}/health", timeout_s=600, stop=stop)
            if stop.is_set():
                raise KeyboardInterrupt
            yield base
        finally:
            serve.shutdown()
            MeetingHosts(config.model_copy(update={"app_name": APP_NAME})).kill_all()
            ray.shutdown()


def _app_args(config_path: Path | None) -> dict[str, Any]:
    return serve_config_args(config_path) if config_path else {}


def run_up(args: argparse.Namespace) -> None:
    with local_stack(_app_args(args.config), args.host, args.port, args.dashboard) as base:
        print(f"Glossify is up on {base} (Ctrl-C stops it)", flush=True)
        while not _STOP.wait(1.0):
            pass
        print("Shutting down...", flush=True)


def run_stream(args: argparse.Namespace) -> None:
    from glossify.cli.stream_client import CaptionPrinter, stream_file
    from glossify.protocol import ProtocolError, check_meeting_id

    try:
        check_meeting_id(args.meeting)
    except ProtocolError as exc:
        print(f"glossify stream: {exc.message}", file=sys.stderr)
        sys.exit(2)
    report = asyncio.run(
        stream_file(
            args.url,
            args.meeting,
            args.file,
            fast=args.fast,
            language=args.language,
            on_event=CaptionPrinter(),
        )
    )
    print(
        f"streamed {report.audio_seconds:.1f} s of audio in {report.sent_seconds:.1f} s: "
        f"{len(report.finals())} lines, {len(report.terms())} terms"
    )


def run_demo(args: argparse.Namespace) -> None:
    from glossify.cli.demo import run_demo_meeting

    with local_stack(_app_args(args.config), args.host, args.port, args.dashboard) as base:
        print(f"Glossify is up on {base}; streaming the sample meeting...", flush=True)
        _DEMO_RUNNING.set()
        asyncio.run(run_demo_meeting(base, args.file, fast=args.fast))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="glossify", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run Ray, Serve and PostgreSQL locally until Ctrl-C")
    up.add_argument("--host", default=DEFAULT_HOST)
    up.add_argument("--port", type=int, default=DEFAULT_PORT)
    up.add_argument("--config", type=Path, help="a Serve config file whose glossify args to use")
    up.add_argument("--no-dashboard", dest="dashboard", action="store_false")

    stream = commands.add_parser("stream", help="stream an audio file into a meeting")
    stream.add_argument("file", type=Path, help="wav, flac, mp3, … (anything ffmpeg reads)")
    stream.add_argument("--meeting", required=True, help="meeting id")
    stream.add_argument("--url", default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}")
    stream.add_argument("--fast", action="store_true", help="send as fast as accepted")
    stream.add_argument("--language", default=None, help="e.g. en, ko (default: detect)")

    demo = commands.add_parser("demo", help="run the local stack on a sample jargon meeting")
    demo.add_argument("--file", type=Path, default=None, help="another recording to use")
    demo.add_argument("--fast", action="store_true", help="stream faster than real time")
    demo.add_argument("--host", default=DEFAULT_HOST)
    demo.add_argument("--port", type=int, default=DEFAULT_PORT)
    demo.add_argument("--config", type=Path, help="a Serve config file whose glossify args to use")
    demo.add_argument("--no-dashboard", dest="dashboard", action="store_false")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    commands_run = {"up": run_up, "stream": run_stream, "demo": run_demo}
    try:
        commands_run[args.command](args)
    except KeyboardInterrupt:
        print("Interrupted.", flush=True)
    sys.exit(0)
