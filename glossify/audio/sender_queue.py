"""One sending connection's audio work, read off the socket at once and done in order by a task
of its own, so that reading never waits for the stream (its pace, its queue of finals).

Under Ray Serve the proxy reads every frame into memory whether the replica asks for it or not:
not reading would not slow the sender down, only hide how much is waiting. Here what waits is
counted and bounded (``AudioBacklog``), and the sender is told when it grows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from glossify import metrics
from glossify.audio.backlog import Admission, AudioBacklog, backlog_refusal, backlog_warning
from glossify.audio.stream import Reply

log = logging.getLogger(__name__)

# A binary audio frame, or a control frame that must keep its place among them.
Work = bytes | dict[str, Any]
# However short its frames, a sender's queue holds at most this many.
MAX_QUEUED_FRAMES = 10_000


class SenderQueue:
    def __init__(
        self,
        backlog: AudioBacklog,
        do: Callable[[Work], Awaitable[None]],
        reply: Reply,
        on_failure: Callable[[], Awaitable[None]],
    ) -> None:
        self._backlog = backlog
        self._do = do
        self._reply = reply
        self._on_failure = on_failure
        self._items: asyncio.Queue[tuple[Work, float]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    @property
    def buffered_s(self) -> float:
        return self._backlog.buffered_s

    async def put_audio(self, frame: bytes, seconds: float) -> None:
        """Queues a frame, or refuses it with an ``error`` event when the backlog is full."""
        if self._items.qsize() >= MAX_QUEUED_FRAMES:
            admission = Admission.REFUSED
        else:
            admission = self._backlog.offer(seconds)
        if admission is Admission.REFUSED:
            metrics.AUDIO_FRAMES_REFUSED.inc(reason="audio_backlog_full")
            await self._reply(backlog_refusal(self._backlog, seconds))
            return
        if admission is Admission.ACCEPTED_WITH_WARNING:
            await self._reply(backlog_warning(self._backlog))
        self._put(frame, seconds)

    def put_control(self, frame: dict[str, Any]) -> None:
        self._put(frame, 0.0)

    async def drained(self) -> None:
        """Returns once everything queued so far is done."""
        await self._items.join()

    def discard(self) -> None:
        """Drops what is still queued: a resumable sender sends it again after reconnecting."""
        while not self._items.empty():
            _, seconds = self._items.get_nowait()
            self._backlog.taken(seconds)
            self._items.task_done()

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def _put(self, work: Work, seconds: float) -> None:
        self._items.put_nowait((work, seconds))
        if self._worker is None:
            self._worker = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            work, seconds = await self._items.get()
            try:
                await self._do(work)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("audio of a sending connection failed")
                self.discard()
                await self._on_failure()
            finally:
                self._backlog.taken(seconds)
                self._items.task_done()
