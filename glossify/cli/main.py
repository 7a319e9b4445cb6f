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
from glossify.cli.local_stack import (
    APP_NAME,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEMO_RUNNING,
    STOP,
    cli_credential,
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


def run_up(args: argparse.Namespace) -> None:
    # Decided before the local stack exports the local key into the environment.
    if API_KEYS_VARIABLE in os.environ:
        where = f"one of your {API_KEYS_VARIABLE}"
    else:
        where = f"the local key in {default_home() / SECRETS_DIRECTORY / SERVICE_KEY_FILE}"
    with local_stack(_app_args(args.config), args.host, args.port, args.dashboard) as base:
        print(f"Glossify is up on {base} (Ctrl-C stops it)", flush=True)
        print(f"API calls send 'Authorization: Bearer <key>' with {where}", flush=True)
        while not STOP.wait(1.0):
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
            credential=cli_credential(args.token),
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
        DEMO_RUNNING.set()
        asyncio.run(run_demo_meeting(base, cli_credential(), args.file, fast=args.fast))


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
    commands_run = {"up": run_up, "stream": run_stream, "demo": run_demo}
    try:
        commands_run[args.command](args)
    except KeyboardInterrupt:
        print("Interrupted.", flush=True)
    sys.exit(0)
