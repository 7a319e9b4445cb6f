"""How fast one sender's audio may arrive: at most ``max_speed`` times real time, after a head
start. A live microphone never runs ahead of the clock; a client that does (a file sent as fast
as possible) would take Transcriber time from every other meeting, so its socket is read more
slowly instead: back-pressure, never dropped audio."""

from __future__ import annotations


class RealTimePace:
    def __init__(self, max_speed: float, head_start_s: float, now: float) -> None:
        if max_speed <= 0:
            raise ValueError("max_speed must be positive")
        self._max_speed = max_speed
        self._head_start_s = head_start_s
        self._started = now
        self._audio_s = 0.0

    def wait_after(self, audio_s: float, now: float) -> float:
        """Seconds to wait before reading more, having just received ``audio_s`` of audio."""
        self._audio_s += audio_s
        allowed_s = self._head_start_s + (now - self._started) * self._max_speed
        return max(0.0, (self._audio_s - allowed_s) / self._max_speed)
