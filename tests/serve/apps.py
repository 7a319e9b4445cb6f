"""A second Glossify application on the session's cluster, under its own route prefix, with
the remote backends served by the local stand-ins (a sliver of CPU each, so it fits beside the
main test app); optionally on a database that a test can take down and bring back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from ray import serve

from bench.faults.database import CuttableDatabase
from glossify.app import build_graph
from glossify.cli.local_stack import wait_for_health
from glossify.config.settings import GlossifyConfig, load_config
from glossify.meetings.hosts import MeetingHosts
from tests.serve.conftest import QUIET
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
        serve.run(graph, name=name, route_prefix=prefix, blocking=False, logging_config=QUIET)
        wait_for_health(base + "/health", timeout_s=180)
        yield App(base, f"{stack.ws_url}{prefix}", config)
    finally:
        serve.delete(name)
        MeetingHosts(config).kill_all()


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
