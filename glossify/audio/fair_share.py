"""Each meeting's fair share of the Transcriber: at most a few of its requests in flight at once
(per ingress replica), whichever of its streams they come from.

The Transcriber batches requests in the order they arrive. Without a share, a meeting with many
senders could fill every batch while other meetings' finals wait behind it; with one, a busy
meeting waits for its own requests, and every other meeting's go into the next batch.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from glossify.audio.stream import Transcribe
from glossify.transcription.types import SpeechRequest, SpeechResult


@dataclass
class _Share:
    gate: asyncio.Semaphore
    users: int = 0


class FairShares:
    """The shares of every meeting with an open audio stream on this replica."""

    def __init__(self, transcribe: Transcribe, per_meeting: int) -> None:
        self._transcribe = transcribe
        self._per_meeting = per_meeting
        self._shares: dict[str, _Share] = {}

    def join(self, meeting_id: str) -> Transcribe:
        """The Transcriber as a stream of this meeting sees it; ``leave`` when it closes."""
        share = self._shares.get(meeting_id)
        if share is None:
            share = self._shares[meeting_id] = _Share(asyncio.Semaphore(self._per_meeting))
        share.users += 1
        return _SharedTranscriber(self._transcribe, share.gate)

    def leave(self, meeting_id: str) -> None:
        share = self._shares.get(meeting_id)
        if share is None:
            return
        share.users -= 1
        if share.users <= 0:
            del self._shares[meeting_id]

    def __len__(self) -> int:
        """Meetings holding a share."""
        return len(self._shares)


class _SharedTranscriber:
    def __init__(self, transcribe: Transcribe, gate: asyncio.Semaphore) -> None:
        self._transcribe = transcribe
        self._gate = gate

    async def final(self, request: SpeechRequest) -> SpeechResult:
        async with self._gate:
            return await self._transcribe.final(request)

    async def partial(self, request: SpeechRequest, sent_at: float) -> SpeechResult:
        async with self._gate:
            return await self._transcribe.partial(request, sent_at)
