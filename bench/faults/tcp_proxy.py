"""A TCP proxy in front of the stack (or of PostgreSQL) whose connections a test can cut, as a
network would, or that a test can take down and bring back, as a server stopped and started."""

from __future__ import annotations

import asyncio
import contextlib

from glossify.cli.local_stack import free_port


class CuttableProxy:
    def __init__(
        self,
        target_port: int | None = None,
        *,
        target_host: str = "127.0.0.1",
        target_socket: str | None = None,
    ) -> None:
        """Forwards to ``target_host:target_port``, or to the Unix socket ``target_socket``."""
        self.port = free_port()
        self._target_port = target_port
        self._target_host = target_host
        self._target_socket = target_socket
        self._open: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.cuts = 0

    async def __aenter__(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self._drop_all()
        await self._server.wait_closed()

    def cut(self) -> None:
        """Drops every open connection at once, with no closing handshake (a reset)."""
        self.cuts += 1
        self._drop_all()

    async def go_down(self) -> None:
        """Refuses new connections and drops the open ones: a server that was stopped."""
        assert self._server is not None
        self.cuts += 1
        self._server.close()
        self._drop_all()

    async def come_back(self) -> None:
        """Accepts connections again, on the same port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    def _drop_all(self) -> None:
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._target_socket is not None:
            up_reader, up_writer = await asyncio.open_unix_connection(self._target_socket)
        else:
            up_reader, up_writer = await asyncio.open_connection(
                self._target_host, self._target_port
            )
        self._open |= {writer, up_writer}
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
