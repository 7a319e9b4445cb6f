"""A sender's queue: frames done in order by its own task while more are put, bounded in
seconds, told to the sender; what a dropped resumable sender left is discarded."""

from __future__ import annotations

import asyncio
from typing import Any

from glossify.audio.backlog import AudioBacklog
from glossify.audio.sender_queue import SenderQueue, Work


class Recorder:
    """The work done and the replies sent, with a gate the test opens to let work proceed."""

    def __init__(self) -> None:
        self.done: list[Work] = []
        self.replies: list[dict[str, Any]] = []
        self.failures = 0
        self.gate = asyncio.Event()

    async def do(self, work: Work) -> None:
        await self.gate.wait()
        if work == {"type": "explode"}:
            raise RuntimeError("the stream broke")
        self.done.append(work)

    async def reply(self, event: dict[str, Any]) -> None:
        self.replies.append(event)

    async def failed(self) -> None:
        self.failures += 1


def queue_for(recorder: Recorder, warn_s: float = 0.25, max_s: float = 0.5) -> SenderQueue:
    backlog = AudioBacklog(warn_s=warn_s, max_s=max_s)
    return SenderQueue(backlog, recorder.do, recorder.reply, recorder.failed)


async def test_putting_never_waits_for_the_work_and_order_is_kept() -> None:
    recorder = Recorder()
    queue = queue_for(recorder, warn_s=10.0, max_s=10.0)
    await queue.put_audio(b"a", 0.1)
    queue.put_control({"type": "audio_end"})
    await queue.put_audio(b"b", 0.1)
    # Nothing done yet (the work waits on its gate), yet every put returned.
    assert recorder.done == [] and queue.buffered_s == 0.2
    recorder.gate.set()
    await asyncio.wait_for(queue.drained(), 5)
    assert recorder.done == [b"a", {"type": "audio_end"}, b"b"]
    assert queue.buffered_s == 0.0
    queue.close()


async def test_a_growing_backlog_is_warned_then_refused_and_nothing_refused_is_done() -> None:
    recorder = Recorder()
    queue = queue_for(recorder)
    for frame in (b"1", b"2", b"3", b"4", b"5", b"6"):
        await queue.put_audio(frame, 0.1)
    kinds = [(event["type"], event["code"]) for event in recorder.replies]
    assert kinds == [("warning", "audio_backlog"), ("error", "audio_backlog_full")]
    recorder.gate.set()
    await asyncio.wait_for(queue.drained(), 5)
    assert recorder.done == [b"1", b"2", b"3", b"4", b"5"]
    queue.close()


async def test_discard_drops_what_waits_and_frees_the_backlog() -> None:
    recorder = Recorder()
    queue = queue_for(recorder, warn_s=1.0, max_s=1.0)
    for frame in (b"1", b"2", b"3"):
        await queue.put_audio(frame, 0.2)
    queue.discard()
    queue.close()
    await asyncio.wait_for(queue.drained(), 5)
    assert recorder.done == [] and queue.buffered_s == 0.0


async def test_a_failing_piece_of_work_is_reported_and_the_rest_discarded() -> None:
    recorder = Recorder()
    queue = queue_for(recorder, warn_s=1.0, max_s=1.0)
    await queue.put_audio(b"1", 0.1)
    queue.put_control({"type": "explode"})
    await queue.put_audio(b"2", 0.1)
    recorder.gate.set()
    await asyncio.wait_for(queue.drained(), 5)
    assert recorder.done == [b"1"] and recorder.failures == 1
    assert queue.buffered_s == 0.0
    queue.close()
