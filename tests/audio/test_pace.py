"""Real-time pacing of a sender: pure arithmetic on a clock the test controls."""

from __future__ import annotations

import pytest

from glossify.audio.pace import RealTimePace


def test_a_live_microphone_never_waits() -> None:
    pace = RealTimePace(max_speed=1.25, head_start_s=5.0, now=0.0)
    assert all(pace.wait_after(0.1, now=i * 0.1) == 0.0 for i in range(1, 600))


def test_a_fast_sender_is_held_to_the_speed_after_its_head_start() -> None:
    pace = RealTimePace(max_speed=1.25, head_start_s=5.0, now=0.0)
    # 5 s of audio at once: inside the head start.
    assert pace.wait_after(5.0, now=0.0) == 0.0
    # 2.5 s more at once: 2.5 s ahead of what is allowed, made up at 1.25x.
    assert pace.wait_after(2.5, now=0.0) == pytest.approx(2.0)
    # Having waited those 2 s, it may go on at the allowed speed without waiting.
    assert pace.wait_after(1.25, now=3.0) == 0.0


def test_a_speed_of_zero_is_refused() -> None:
    with pytest.raises(ValueError):
        RealTimePace(max_speed=0.0, head_start_s=0.0, now=0.0)
