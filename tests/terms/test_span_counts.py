"""The training rows' span counts the ranker reads (`span_counts`): keys from a real spaCy parse,
and the smoothed rates (pure)."""

from __future__ import annotations

import json
import math

import pytest

from glossify.terms.local.detector import LocalTermDetector
from glossify.terms.local.span_counts import (
    LINE_END,
    LINE_START,
    SMOOTHING,
    Keys,
    SpanCounts,
    count_keys,
)


@pytest.fixture(scope="module")
def rules() -> LocalTermDetector:
    return LocalTermDetector()


def keys_of(rules: LocalTermDetector, text: str, span: str) -> Keys:
    start = text.index(span)
    return count_keys(rules.parse(text), start, start + len(span))


def test_keys_are_the_lemmas_at_either_end_the_text_and_the_neighbours(
    rules: LocalTermDetector,
) -> None:
    keys = keys_of(rules, "We reviewed the Flaky builds yesterday.", "Flaky builds")
    assert keys == {
        "head": "build",
        "first": "flaky",
        "span": "flaky builds",
        "before": "the",
        "after": "yesterday",
    }


def test_a_span_at_either_end_of_the_line_has_the_line_edges_as_neighbours(
    rules: LocalTermDetector,
) -> None:
    text = "Kubernetes restarted the pods"
    assert keys_of(rules, text, "Kubernetes")["before"] == LINE_START
    assert keys_of(rules, text, "pods")["after"] == LINE_END


def test_a_position_without_tokens_is_an_error(rules: LocalTermDetector) -> None:
    with pytest.raises(ValueError, match="no tokens"):
        count_keys(rules.parse("a b"), 1, 1)


def keys(head: str, span: str) -> Keys:
    return {"head": head, "first": span.split()[0], "span": span, "before": "x", "after": "y"}


def test_rates_move_from_the_overall_rate_toward_what_was_counted() -> None:
    judged = [
        (keys("audit", "gmp audit"), True),
        (keys("audit", "sox audit"), True),
        (keys("budget", "l&d budget"), False),
        (keys("budget", "travel budget"), False),
    ]
    counts = SpanCounts.count(judged)
    assert counts.prior == 0.5
    audit = counts.features(keys("audit", "fai audit"))
    budget = counts.features(keys("budget", "fai budget"))
    assert audit["counts_head_rate"] == (2 + 0.5 * SMOOTHING) / (2 + SMOOTHING)
    assert budget["counts_head_rate"] == (0 + 0.5 * SMOOTHING) / (2 + SMOOTHING)
    assert audit["counts_head_seen"] == math.log1p(2)
    # Nothing counted for this span's text: the overall rate, seen never.
    assert audit["counts_span_rate"] == 0.5 and audit["counts_span_seen"] == 0.0


def test_counts_survive_a_json_round_trip() -> None:
    counts = SpanCounts.count([(keys("audit", "gmp audit"), True), (keys("plan", "plan"), False)])
    again = SpanCounts.from_json(json.loads(json.dumps(counts.to_json())))
    assert again == counts
    assert SpanCounts.count([]).prior == 0.0
