"""The local stack for `glossify up` and `glossify demo`: Ray, Serve and (embedded) PostgreSQL
in this process, shut down cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from glossify.cli.cpu_budget import fitting_max_replicas

if TYPE_CHECKING:
    from glossify.config.settings import GlossifyConfig

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
APP_NAME = "glossify"
TOKEN_VARIABLE = "GLOSSIFY_TOKEN"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((DEFAULT_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_health(
    url: str, timeout_s: float, stop: threading.Event | None = None
) -> dict[str, Any]:
    """Poll ``url`` until it answers 200 and return its JSON body (``{}`` when ``stop`` is set
    first). Raises TimeoutError naming the last answer when none is 200 within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last_error = "no answer"
    while time.monotonic() < deadline and not (stop and stop.is_set()):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    body: dict[str, Any] = json.loads(response.read())
                    return body
        except urllib.error.HTTPError as exc:
            last_error = f"HTTP {exc.code}"
        except OSError as exc:
            last_error = str(exc)
        time.sleep(0.5)
    if stop and stop.is_set():
        return {}
    raise TimeoutError(f"{url} did not answer 200 within {timeout_s:.0f}s ({last_error})")


def prepare_local_env() -> None:
    # Token auth would make the `serve` CLI get 401 against this cluster; locals run without it.
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


STOP = threading.Event()
DEMO_RUNNING = threading.Event()
# Where Ray keeps this run's own logs (workers, raylet, GCS, Serve): set once Ray is up.
RAY_SESSION: dict[str, str] = {}


def _stop_on_signals() -> threading.Event:
    """SIGINT/SIGTERM set the returned event. Installed after ray.init, whose own fatal-signal
    handler would otherwise abort the process on SIGTERM and skip our clean shutdown."""

    def on_signal(*_: object) -> None:
        STOP.set()
        # The demo is inside asyncio.run: interrupt it like Ctrl-C would.
        if threading.current_thread() is threading.main_thread() and DEMO_RUNNING.is_set():
            raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    return STOP


@contextmanager
def local_stack(
    app_args: dict[str, Any],
    host: str,
    port: int,
    dashboard: bool,
    say: Callable[[str], None] = print,
) -> Iterator[str]:
    """Ray + Serve + (embedded) PostgreSQL for the duration of the block; yields the base URL.
    ``say`` prints the one line a long first start has ("Preparing ...").

    Raises KeyboardInterrupt when SIGINT/SIGTERM arrive before the stack is ready."""
    prepare_local_env()
    from glossify.access.local_secrets import default_home, ensure_local_secrets

    os.environ.update(ensure_local_secrets(default_home()).environment())
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
            say("Preparing the local explanation model (first run assembles it)...")
            default_llm_path()
        if config.transcriber.enabled and config.transcriber.model is None:
            from glossify.weights.whisper import default_whisper_dir

            default_whisper_dir()
        app_args = scaled_to_fit(app_args, config, os.cpu_count() or 1)
        context = ray.init(
            address="local",
            include_dashboard=dashboard,
            _node_ip_address=DEFAULT_HOST,
            logging_level=logging.WARNING,
        )
        # ray.init returns a RayContext (typed as its base class) when it starts Ray here.
        session_dir = getattr(context, "address_info", {}).get("session_dir")
        if session_dir:
            RAY_SESSION["logs"] = os.path.join(session_dir, "logs")
        stop = _stop_on_signals()
        try:
            serve.start(http_options={"host": host, "port": port})
            serve.run(build_app(app_args), name=APP_NAME, route_prefix="/", blocking=False)
            base = f"http://{host}:{port}"
            try:
                wait_for_health(f"{base}/health", timeout_s=600, stop=stop)
            except TimeoutError as exc:
                raise SystemExit(str(exc)) from exc
            if stop.is_set():
                raise KeyboardInterrupt
            yield base
        finally:
            serve.shutdown()  # type: ignore[no-untyped-call]  # untyped in Ray
            MeetingHosts(config.model_copy(update={"app_name": APP_NAME})).kill_all()
            ray.shutdown()


def scaled_to_fit(app_args: dict[str, Any], config: GlossifyConfig, cpus: int) -> dict[str, Any]:
    """``app_args`` with each autoscaled backend's max_replicas lowered to what fits in
    ``cpus`` beside the Transcriber (see cpu_budget); a maximum the config sets is kept."""
    from glossify.app import fixed_cpus, scaled_backends

    maxima = fitting_max_replicas(float(cpus), fixed_cpus(config), scaled_backends(config))
    autoscaling = {name: dict(values) for name, values in app_args.get("autoscaling", {}).items()}
    for name, highest in maxima.items():
        autoscaling.setdefault(name, {}).setdefault("max_replicas", highest)
    return {**app_args, "autoscaling": autoscaling}


def host_link(base: str, app_args: dict[str, Any], now: datetime | None = None) -> str:
    """A link to host a fresh meeting in the meeting page: ``<base>/m/standup-<date>-<4 hex>``
    with a host token in the fragment, signed with the secret the stack serves with (no token
    when the app's auth mode is off). Call it while the local stack is up: its environment
    holds the secrets and the database URL."""
    from glossify.access.scopes import Role
    from glossify.config.access import load_access_secrets
    from glossify.config.settings import load_config

    stamp = (now or datetime.now()).strftime("%Y-%m-%d")
    meeting_id = f"standup-{stamp}-{secrets.token_hex(2)}"
    auth = load_config(app_args).auth
    if auth.mode == "off":
        return f"{base}/m/{meeting_id}"
    signer = load_access_secrets(os.environ).signer(auth.token_max_ttl_s)
    assert signer is not None  # auth mode on always has a signing secret
    minted = signer.mint(meeting_id, Role.HOST, "host", auth.token_default_ttl_s)
    return base + minted.response()["url"]


def cli_credential(explicit: str | None = None) -> str:
    """What the CLI sends as its Bearer credential: ``explicit`` (``--token``), else
    ``GLOSSIFY_TOKEN``, else the local service key under GLOSSIFY_HOME (made on first use)."""
    chosen = explicit or os.environ.get(TOKEN_VARIABLE)
    if chosen:
        return chosen
    from glossify.access.local_secrets import default_home, ensure_local_secrets

    return ensure_local_secrets(default_home()).cli_key.get_secret_value()
