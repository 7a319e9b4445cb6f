"""A sender's audio backlog: warned once past the first bound, refused past the second."""

from __future__ import annotations

import pytest

from glossify.audio.backlog import Admission, AudioBacklog, backlog_refusal, backlog_warning


def test_audio_under_the_warning_bound_is_simply_accepted() -> None:
    backlog = AudioBacklog(warn_s=3.0, max_s=10.0)
    assert [backlog.offer(1.0) for _ in range(3)] == [Admission.ACCEPTED] * 3
    assert backlog.buffered_s == pytest.approx(3.0)


def test_the_warning_comes_once_per_episode_and_again_after_the_backlog_shrank() -> None:
    backlog = AudioBacklog(warn_s=3.0, max_s=10.0)
    admissions = [backlog.offer(1.0) for _ in range(6)]
    assert admissions.count(Admission.ACCEPTED_WITH_WARNING) == 1
    assert admissions[3] == Admission.ACCEPTED_WITH_WARNING  # the frame that went past 3 s
    backlog.taken(2.0)  # 4 s left: still above half the bound, no new warning
    assert backlog.offer(1.0) == Admission.ACCEPTED
    backlog.taken(4.0)  # 1 s left: the sender slowed down
    assert [backlog.offer(1.0) for _ in range(3)][-1] == Admission.ACCEPTED_WITH_WARNING


def test_a_frame_past_the_maximum_is_refused_and_not_counted() -> None:
    backlog = AudioBacklog(warn_s=3.0, max_s=5.0)
    for _ in range(5):
        backlog.offer(1.0)
    assert backlog.offer(0.5) == Admission.REFUSED
    assert backlog.buffered_s == pytest.approx(5.0)
    backlog.taken(1.0)
    assert backlog.offer(0.5) != Admission.REFUSED


def test_taking_more_than_is_buffered_leaves_zero() -> None:
    backlog = AudioBacklog(warn_s=1.0, max_s=2.0)
    backlog.offer(0.5)
    backlog.taken(3.0)
    assert backlog.buffered_s == 0.0


@pytest.mark.parametrize(("warn_s", "max_s"), [(0.0, 1.0), (2.0, 1.0), (-1.0, 5.0)])
def test_bounds_out_of_order_are_refused(warn_s: float, max_s: float) -> None:
    with pytest.raises(ValueError):
        AudioBacklog(warn_s=warn_s, max_s=max_s)


def test_the_events_say_how_much_waits_and_what_became_of_a_refused_frame() -> None:
    backlog = AudioBacklog(warn_s=30.0, max_s=120.0)
    backlog.offer(31.25)
    warning = backlog_warning(backlog)
    assert warning["type"] == "warning" and warning["code"] == "audio_backlog"
    assert warning["buffered_s"] == 31.2 or warning["buffered_s"] == 31.3
    assert "real time" in warning["message"]
    refusal = backlog_refusal(backlog, 0.1)
    assert refusal["type"] == "error" and refusal["code"] == "audio_backlog_full"
    assert refusal["refused_s"] == 0.1
    assert "will not be transcribed" in refusal["message"]
