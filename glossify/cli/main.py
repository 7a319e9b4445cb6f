"""``glossify`` command line: ``glossify up`` runs the whole local stack in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from glossify.access.keys import API_KEYS_VARIABLE
from glossify.access.local_secrets import SECRETS_DIRECTORY, SERVICE_KEY_FILE, default_home
from glossify.cli.console import Console
from glossify.cli.local_stack import (
    APP_NAME,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEMO_RUNNING,
    RAY_SESSION,
    STOP,
    cli_credential,
    host_link,
    local_stack,
)


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


def _app_args(config_path: Path | None) -> dict[str, Any]:
    return serve_config_args(config_path) if config_path else {}


def _say_starting(console: Console) -> None:
    console.say(f"Starting Ray, Serve and PostgreSQL; their logs go to {console.log_path}")


def _say_session(console: Console) -> None:
    if "logs" in RAY_SESSION:
        console.say(f"Ray's session logs: {RAY_SESSION['logs']}")


def run_up(args: argparse.Namespace, console: Console) -> None:
    # Decided before the local stack exports the local key into the environment.
    if API_KEYS_VARIABLE in os.environ:
        where = f"one of your {API_KEYS_VARIABLE}"
    else:
        where = f"the local key in {default_home() / SECRETS_DIRECTORY / SERVICE_KEY_FILE}"
    app_args = _app_args(args.config)
    _say_starting(console)
    with local_stack(app_args, args.host, args.port, args.dashboard, console.say) as base:
        console.say(f"Glossify is up on {base} (Ctrl-C stops it)")
        console.say(f"Open {host_link(base, app_args)} to host a meeting")
        console.say(f"API calls send 'Authorization: Bearer <key>' with {where}")
        _say_session(console)
        while not STOP.wait(1.0):
            pass
        console.say("Shutting down...")


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
            credential=cli_credential(args.token),
        )
    )
    print(
        f"streamed {report.audio_seconds:.1f} s of audio in {report.sent_seconds:.1f} s: "
        f"{len(report.finals())} lines, {len(report.terms())} terms"
    )


def run_demo(args: argparse.Namespace, console: Console) -> None:
    from glossify.cli.demo import run_demo_meeting

    app_args = _app_args(args.config)
    _say_starting(console)
    with local_stack(app_args, args.host, args.port, args.dashboard, console.say) as base:
        console.say(f"Glossify is up on {base}; streaming the sample meeting...")
        _say_session(console)
        DEMO_RUNNING.set()
        demo = run_demo_meeting(
            base, cli_credential(), args.file, fast=args.fast, out=console.stream
        )
        asyncio.run(demo)


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
    stream.add_argument(
        "--token",
        default=None,
        help="speaker token or service key (default: $GLOSSIFY_TOKEN, else the local key)",
    )

    demo = commands.add_parser("demo", help="run the local stack on a sample jargon meeting")
    demo.add_argument("--file", type=Path, default=None, help="another recording to use")
    demo.add_argument("--fast", action="store_true", help="stream faster than real time")
    demo.add_argument("--host", default=DEFAULT_HOST)
    demo.add_argument("--port", type=int, default=DEFAULT_PORT)
    demo.add_argument("--config", type=Path, help="a Serve config file whose glossify args to use")
    demo.add_argument("--no-dashboard", dest="dashboard", action="store_false")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "stream":
        try:
            run_stream(args)
        except KeyboardInterrupt:
            print("Interrupted.", flush=True)
        sys.exit(0)
    # Ray's and Serve's output goes to a log file from here on; the terminal gets ours.
    console = Console.take_over(default_home())
    run = run_up if args.command == "up" else run_demo
    try:
        run(args, console)
    except KeyboardInterrupt:
        console.say("Interrupted.")
    except SystemExit as exc:
        # A reason for stopping (a bad config, a stack that never got ready) is ours to say.
        if isinstance(exc.code, str):
            console.say(f"glossify {args.command}: {exc.code}")
            sys.exit(1)
        raise
    except Exception as exc:
        console.failed(args.command, exc)
        sys.exit(1)
    sys.exit(0)
