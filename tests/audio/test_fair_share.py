"""Each meeting's share of the Transcriber: pure asyncio with a stand-in Transcriber whose
batches we control."""

from __future__ import annotations

import asyncio

import numpy as np

from glossify.audio.fair_share import FairShares
from glossify.transcription.types import SpeechRequest, SpeechResult


class SlowTranscriber:
    """Answers when released; records which meetings' requests were in flight together."""

    def __init__(self) -> None:
        self.in_flight: list[str] = []
        self.most_in_flight: dict[str, int] = {}
        self.release = asyncio.Event()

    async def final(self, request: SpeechRequest) -> SpeechResult:
        meeting = request.language or ""
        self.in_flight.append(meeting)
        self.most_in_flight[meeting] = max(
            self.most_in_flight.get(meeting, 0), self.in_flight.count(meeting)
        )
        await self.release.wait()
        self.in_flight.remove(meeting)
        return SpeechResult(meeting, meeting, 0.0, 0.0, 1.0, None)

    async def partial(self, request: SpeechRequest, sent_at: float) -> SpeechResult:
        return await self.final(request)


def request(meeting: str) -> SpeechRequest:
    # The stand-in reads the meeting from the language field.
    return SpeechRequest(np.zeros(1600, dtype=np.float32), language=meeting)


async def test_a_busy_meeting_cannot_take_every_place_in_the_transcriber() -> None:
    backend = SlowTranscriber()
    shares = FairShares(backend, per_meeting=2)
    busy = [shares.join("busy") for _ in range(4)]  # four senders in one meeting
    quiet = shares.join("quiet")
    flood = [asyncio.create_task(s.final(request("busy"))) for s in busy for _ in range(5)]
    await asyncio.sleep(0.01)
    answer = asyncio.create_task(quiet.final(request("quiet")))
    await asyncio.sleep(0.01)
    # The quiet meeting's final is in flight beside two of the busy one's twenty.
    assert sorted(backend.in_flight) == ["busy", "busy", "quiet"]
    backend.release.set()
    assert (await answer).text == "quiet"
    assert len(await asyncio.gather(*flood)) == 20
    assert backend.most_in_flight == {"busy": 2, "quiet": 1}


def test_a_share_is_dropped_when_its_last_stream_leaves() -> None:
    shares = FairShares(SlowTranscriber(), per_meeting=2)
    shares.join("m")
    shares.join("m")
    shares.leave("m")
    assert len(shares) == 1
    shares.leave("m")
    assert len(shares) == 0
    shares.leave("m")  # more leaves than joins change nothing
    assert len(shares) == 0
