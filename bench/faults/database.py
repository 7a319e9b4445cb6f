"""A PostgreSQL database that can be taken down and brought back: the fault bench's
database_outage scenarios and the outage tests (tests/serve/test_database_outage.py,
tests/meetings/test_journal_outage.py) reach it through a CuttableProxy."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bench.faults.tcp_proxy import CuttableProxy


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
