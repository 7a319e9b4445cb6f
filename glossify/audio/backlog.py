"""How much of one sender's audio may wait, read off its socket but not yet taken by its stream.

The socket is read at once, whatever the stream is doing: control frames (``ping``) are answered
and a standard client's keepalive goes on while audio waits for the pace or the Transcriber. What
waits is bounded here, in seconds of audio: past ``warn_s`` the sender is warned once (until the
backlog is back under half of it); a frame that would take it past ``max_s`` is refused, as a bad
frame is: the stream goes on as if it had never been sent, and the sender is told."""

from __future__ import annotations

from enum import Enum
from typing import Any


class Admission(Enum):
    ACCEPTED = "accepted"
    ACCEPTED_WITH_WARNING = "accepted_with_warning"
    REFUSED = "refused"


class AudioBacklog:
    def __init__(self, warn_s: float, max_s: float) -> None:
        if not 0 < warn_s <= max_s:
            raise ValueError("the backlog bounds need 0 < warn_s <= max_s")
        self.warn_s = warn_s
        self.max_s = max_s
        self.buffered_s = 0.0
        self._warned = False

    def offer(self, seconds: float) -> Admission:
        """A frame of ``seconds`` of audio arrived: whether it may wait for the stream."""
        if self.buffered_s + seconds > self.max_s:
            return Admission.REFUSED
        # Rounded: the sum of many frames' seconds must come back to exactly 0 when taken.
        self.buffered_s = round(self.buffered_s + seconds, 9)
        if self.buffered_s > self.warn_s and not self._warned:
            self._warned = True
            return Admission.ACCEPTED_WITH_WARNING
        return Admission.ACCEPTED

    def taken(self, seconds: float) -> None:
        """The stream took a frame of ``seconds`` (or it was dropped with its stream)."""
        self.buffered_s = max(0.0, round(self.buffered_s - seconds, 9))
        # Warned again only once the sender has visibly slowed down, not at every wobble.
        if self.buffered_s <= self.warn_s / 2:
            self._warned = False


def backlog_warning(backlog: AudioBacklog) -> dict[str, Any]:
    return {
        "type": "warning",
        "code": "audio_backlog",
        "message": (
            f"{backlog.buffered_s:.1f} s of audio are waiting to be transcribed (more than "
            f"{backlog.warn_s:g} s): send no faster than real time; past {backlog.max_s:g} s "
            "frames are refused"
        ),
        "buffered_s": round(backlog.buffered_s, 1),
    }


def backlog_refusal(backlog: AudioBacklog, seconds: float) -> dict[str, Any]:
    return {
        "type": "error",
        "code": "audio_backlog_full",
        "message": (
            f"a frame of {seconds:.2f} s was refused and will not be transcribed: "
            f"{backlog.buffered_s:.1f} s of audio are already waiting (at most "
            f"{backlog.max_s:g} s); the stream goes on without it, send it again later"
        ),
        "buffered_s": round(backlog.buffered_s, 1),
        "refused_s": round(seconds, 3),
    }
