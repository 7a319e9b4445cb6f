"""Shared fixtures: one PostgreSQL server for the whole test session, and the stand-ins."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.credentials import API_KEYS, SIGNING_SECRET

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
# Every app the tests build serves with authentication on, with these credentials.
os.environ["GLOSSIFY_API_KEYS"] = API_KEYS
os.environ["GLOSSIFY_AUTH_SECRET"] = SIGNING_SECRET


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """``DATABASE_URL`` when set (a real server CI may provide), else an embedded server."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from glossify.store.database import embedded_postgres

    with (
        tempfile.TemporaryDirectory(prefix="glossify-pg-") as tmp,
        embedded_postgres(Path(tmp) / "pgdata", keep_data=False) as embedded_url,
    ):
        yield embedded_url


@pytest.fixture(scope="module")
def standins() -> Iterator[Any]:
    """The local stand-ins of Azure AI Language, Foundry and an OpenAI-compatible server."""
    from tests.standins import running_standins

    with running_standins() as running:
        yield running
