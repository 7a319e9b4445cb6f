"""A second Glossify application on the session's cluster, under its own route prefix, with
the remote backends served by the local stand-ins (a sliver of CPU each, so it fits beside the
main test app); optionally on a database that a test can take down and bring back."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest
from ray import serve

from glossify.app import build_graph
from glossify.cli.local_stack import wait_for_health
from glossify.config.settings import GlossifyConfig, load_config
from glossify.meetings.hosts import MeetingHosts
from tests.serve.tcp_proxy import CuttableProxy
from tests.standins import StandIns

AGENT = "glossary-agent"


@dataclass
class App:
    base_url: str
    ws_url: str
    config: GlossifyConfig


def standin_backends(env: pytest.MonkeyPatch, standins: StandIns) -> dict[str, Any]:
    """Exports what an operator would for Azure AI Language and a Foundry agent, and returns
    the app args that point the detector and the explainer at the stand-ins."""
    env.setenv("LANGUAGE_ENDPOINT", standins.language_endpoint)
    env.setenv("LANGUAGE_KEY", standins.state.language_key)
    env.setenv("PROJECT_ENDPOINT", standins.project_endpoint)
    env.setenv("AGENT_NAME", AGENT)
    for name in ("AGENT_ID", "AGENT_VERSION"):
        env.delenv(name, raising=False)
    return {
        "detector": {
            "backend": "azure",
            "azure": {"ca_file": standins.ca_file, "retry_backoff_s": 0.1},
        },
        "explainer": {
            "backend": "foundry",
            "deadline_s": 10.0,
            "foundry": {
                "ca_file": standins.ca_file,
                "poll_interval_s": 0.1,
                "retry_backoff_s": 0.05,
            },
        },
        "transcriber": {"enabled": False},
    }


def own_database(url: str) -> str:
    """A fresh database on the same server: a meeting host resumes every unfinished meeting it
    finds in its database, so the meetings of the other tests would count towards its quota."""
    name = f"glossify_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def second_app(
    stack: Any, name: str, prefix: str, args: dict[str, Any], standins: StandIns
) -> Iterator[App]:
    config = load_config(args).model_copy(update={"app_name": name})
    # Only what DefaultAzureCredential reads goes into the replicas' environment.
    graph = build_graph(config, backend_runtime_env={"env_vars": standins.identity_env})
    base = f"{stack.base_url}{prefix}"
    try:
        serve.run(graph, name=name, route_prefix=prefix, blocking=False)
        wait_for_health(base + "/health", timeout_s=180)
        yield App(base, f"{stack.ws_url}{prefix}", config)
    finally:
        serve.delete(name)
        MeetingHosts(config).kill_all()


class CuttableDatabase:
    """A PostgreSQL database reached through a CuttableProxy that runs on a thread of its own,
    so that it serves the app's meeting hosts whatever the test's event loop is doing. ``url``
    goes through the proxy; ``direct_url`` does not (to check the rows during an outage)."""

    def __init__(self, direct_url: str) -> None:
        self.direct_url = direct_url
        parts = urlsplit(direct_url)
        query = dict(parse_qsl(parts.query))
        socket_dir = query.pop("host", None)
        port = parts.port or 5432
        if socket_dir is not None and socket_dir.startswith("/"):
            # The embedded server listens on a Unix socket only; the proxy turns it into TCP.
            self._proxy = CuttableProxy(target_socket=f"{socket_dir}/.s.PGSQL.{port}")
        else:
            self._proxy = CuttableProxy(port, target_host=parts.hostname or "127.0.0.1")
        user = parts.netloc.rpartition("@")[0]
        netloc = f"{user}@127.0.0.1:{self._proxy.port}" if user else f"127.0.0.1:{self._proxy.port}"
        self.url = urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def _run(self, step: Coroutine[Any, Any, Any]) -> None:
        asyncio.run_coroutine_threadsafe(step, self._loop).result(timeout=30)

    def go_down(self) -> None:
        """PostgreSQL stops, as far as the app can tell: connections dropped and refused."""
        self._run(self._proxy.go_down())

    def come_back(self) -> None:
        self._run(self._proxy.come_back())

    def __enter__(self) -> CuttableDatabase:
        self._thread.start()
        self._run(self._proxy.__aenter__())
        return self

    def __exit__(self, *exc: object) -> None:
        self._run(self._proxy.__aexit__())

        async def cancel_pipes() -> None:
            current = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not current:
                    task.cancel()

        self._run(cancel_pipes())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


@contextmanager
def app_on_cuttable_database(
    stack: Any,
    name: str,
    prefix: str,
    args: dict[str, Any],
    standins: StandIns,
    env: pytest.MonkeyPatch,
) -> Iterator[tuple[App, CuttableDatabase]]:
    """A second app whose database (a fresh one) a test can take down and bring back, which is
    a PostgreSQL outage for this app only."""
    with CuttableDatabase(own_database(stack.database_url)) as database:
        env.setenv("DATABASE_URL", database.url)
        with second_app(stack, name, prefix, args, standins) as app:
            yield app, database
