"""Partial pacing: a stream's partials keep to their share of wall time."""

from __future__ import annotations

import pytest

from glossify.audio.partial_pacing import PartialPacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_pause_after_a_partial_grows_with_its_round_trip() -> None:
    clock = Clock()
    pacer = PartialPacer(0.25, clock)
    assert pacer.ready()
    pacer.finished(0.2)  # quiet machine: the next may go 0.6 s later
    clock.now += 0.59
    assert not pacer.ready()
    clock.now += 0.02
    assert pacer.ready()
    pacer.finished(1.0)  # busy machine: wait 3 s
    clock.now += 2.9
    assert not pacer.ready()
    clock.now += 0.2
    assert pacer.ready()


def test_share_one_means_no_pause() -> None:
    clock = Clock()
    pacer = PartialPacer(1.0, clock)
    pacer.finished(5.0)
    assert pacer.ready()


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5])
def test_the_share_must_be_a_fraction(share: float) -> None:
    with pytest.raises(ValueError, match="max_share"):
        PartialPacer(share)
