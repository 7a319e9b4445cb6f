"""The learned term ranker: its spans, its choice among them, its packaged weights and the
detector it drives, with real spaCy and the packaged reference glossary (no Ray). The sentences
were written for these tests; none is from an evaluation or training set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.train_ranker import (
    TRAIN,
    WEIGHTS,
    counted_out_of_fold,
    sentences,
    train,
    with_counts,
)
from glossify.config.backends import DetectorConfig
from glossify.terms.candidates import FilterRules, filter_candidates
from glossify.terms.evaluation import load_rows
from glossify.terms.local.backend import LocalDetector
from glossify.terms.local.detector import LocalTermDetector
from glossify.terms.local.ranker import RankedTermDetector, RankerWeights, choose
from glossify.terms.local.spans import CHUNK, NOUN_RUN, PHRASAL, RULE, WORD, SpanSet


@pytest.fixture(scope="module")
def ranked() -> RankedTermDetector:
    return RankedTermDetector(LocalTermDetector())


def shown(detector: RankedTermDetector, text: str) -> set[str]:
    """What a meeting would show: the ranked detector through the production filter."""
    return {c.text for c in filter_candidates(detector.detect(text), FilterRules())}


def spans_of(detector: RankedTermDetector, text: str) -> dict[str, set[str]]:
    """The spans cut from the parse, by their text."""
    spans = SpanSet(detector.rules.parse(text))
    spans.add_parsed()
    return {text[a:b]: sources for (a, b), sources in spans.sources.items()}


# -- choosing among scored spans (pure) -----------------------------------------------------------


def test_choose_keeps_the_likeliest_reading_of_each_stretch() -> None:
    # "error budget" (0, 12) beats "error budget burn" (0, 17) and "budget burn rate" (6, 22),
    # which overlap it; (30, 35) overlaps nothing.
    scored = [((0, 12), 0.9), ((0, 17), 0.6), ((6, 22), 0.7), ((30, 35), 0.5)]
    assert choose(scored, threshold=0.5) == [((0, 12), 0.9), ((30, 35), 0.5)]
    # The longer reading wins where it is the likelier one.
    assert choose([((0, 12), 0.6), ((0, 17), 0.8)], threshold=0.5) == [((0, 17), 0.8)]


def test_choose_shows_nothing_below_the_threshold() -> None:
    scored = [((0, 4), 0.34), ((10, 14), 0.35)]
    assert choose(scored, threshold=0.35) == [((10, 14), 0.35)]
    assert choose([], threshold=0.35) == []


# -- spans ----------------------------------------------------------------------------------------


def test_spans_lose_possessives_and_never_cross_a_comma(ranked: RankedTermDetector) -> None:
    spans = spans_of(ranked, "Net margin's down again, inventory turns are flat.")
    assert "Net margin" in spans
    assert "Net margin's" not in spans
    assert not [span for span in spans if "," in span]


def test_spans_include_noun_runs_the_chunker_splits_and_phrasal_verbs(
    ranked: RankedTermDetector,
) -> None:
    spans = spans_of(ranked, "The forging die wore out, so we spun up a second press cell.")
    assert NOUN_RUN in spans["forging die"] or CHUNK in spans["forging die"]
    assert PHRASAL in spans["spun up"]


def test_rule_candidates_are_proposed_with_their_source(ranked: RankedTermDetector) -> None:
    text = "Our Cpk dropped after the fixture change."
    line = ranked.line(text)
    assert RULE in line.spans[(4, 7)]  # "Cpk", found by the rules' abbreviation pattern
    assert line.rules[(4, 7)].text == "Cpk"


def test_a_full_stop_kept_on_a_token_is_not_part_of_the_span(ranked: RankedTermDetector) -> None:
    text = "Finance wants the numbers tied out to the P&L."
    line = ranked.line(text)
    start = text.index("P&L")
    assert (start, start + 3) in line.spans
    assert (start, start + 4) not in line.spans
    assert (start, start + 3) in line.rules  # the rules' "P&L" keeps its rule features


def test_acronyms_that_spell_a_contraction_half_are_spans(ranked: RankedTermDetector) -> None:
    # "gonna" is parsed as "gon" + "na"; those halves start no span, but the acronyms TA and
    # WAN, spelled the same, are words like any other.
    spans = spans_of(ranked, "We're gonna ask the TA team about the WAN link.")
    assert WORD in spans["TA"]
    assert WORD in spans["WAN"]
    assert not [span for span in spans if span.lower() in {"gon", "na", "gon na"}]


def test_shown_terms_are_exact_substrings_at_their_offsets(ranked: RankedTermDetector) -> None:
    text = (
        "Honestly the Q3 close was rough: we reclassed the accruals, the auditors flagged the "
        "lease liability, and the P&L."
    )
    for candidate in ranked.detect(text):
        assert text[candidate.offset : candidate.offset + len(candidate.text)] == candidate.text


def test_a_very_long_line_is_ranked_with_consistent_offsets(ranked: RankedTermDetector) -> None:
    # A transcript line can reach max_line_chars (5,000 by default): thousands of spans, each
    # compared only with its neighbours.
    sentence = "The canary rollout paused when the error budget burn rate spiked again. "
    text = sentence * 70
    assert len(text) > 5000
    shown = ranked.detect(text)
    # Each repetition is judged alike: the term once per sentence, at its own offset.
    assert sum(c.text == "error budget" for c in shown) == 70
    for candidate in shown:
        assert text[candidate.offset : candidate.offset + len(candidate.text)] == candidate.text


# -- the packaged weights -------------------------------------------------------------------------


def test_weights_survive_a_json_round_trip() -> None:
    rng = np.random.default_rng(3)
    weights = RankerWeights(
        features=("a", "b"),
        mean=np.array([0.5, 1.0]),
        scale=np.array([1.0, 2.0]),
        hidden_weights=rng.normal(size=(2, 3)),
        hidden_bias=rng.normal(size=3),
        output_weights=rng.normal(size=3),
        output_bias=0.25,
        threshold=0.4,
    )
    again = RankerWeights.from_json(json.loads(json.dumps(weights.to_json())))
    rows = [{"a": 1.0, "b": 0.0}, {"b": 3.0}]  # a missing feature counts as 0
    assert again.threshold == 0.4
    np.testing.assert_allclose(again.probabilities(rows), weights.probabilities(rows), atol=1e-5)


def test_weights_that_use_span_counts_refuse_to_load_without_them() -> None:
    data = RankerWeights.from_json(json.loads(WEIGHTS.read_text(encoding="utf-8"))).to_json()
    del data["span_counts"]
    with pytest.raises(ValueError, match="span counts"):
        RankerWeights.from_json(data)


def test_no_span_is_given_counts_that_include_its_own_label(ranked: RankedTermDetector) -> None:
    """A span whose text no other training row has must look unseen to the network: in
    training (out of fold) and in cross-validation (a held field against the other fields)."""
    rows = [row for row in load_rows(TRAIN) if row["field"] in {"finance", "legal", "hr"}][::4]
    examples = sentences(ranked, rows)
    texts_by_row = [{keys["span"] for keys in s.keys} for s in examples]
    counted = counted_out_of_fold(examples)
    held = [s for s in examples if s.row["field"] == "hr"]
    weights = train([s for s in examples if s.row["field"] != "hr"], hidden=2, epochs=5, seed=0)
    assert weights.counts is not None
    held_counted = iter(with_counts(held, weights.counts))
    unique_seen: list[float] = []
    for i, sentence in enumerate(counted):
        elsewhere = set().union(*(t for j, t in enumerate(texts_by_row) if j != i))
        cv = next(held_counted) if sentence.row["field"] == "hr" else None
        for k, keys in enumerate(sentence.keys):
            if keys["span"] not in elsewhere:
                unique_seen.append(sentence.features[k]["counts_span_seen"])
                if cv is not None:
                    unique_seen.append(cv.features[k]["counts_span_seen"])
    assert len(unique_seen) > 100
    assert set(unique_seen) == {0.0}


def test_every_packaged_feature_is_one_the_features_module_produces(
    ranked: RankedTermDetector,
) -> None:
    """A renamed feature would silently count as 0 for ever: every weight must be fed."""
    lines = [
        "Honestly, the XGBoost model's recall at ten dropped after we rolled back the p99 fix.",
        "Priya wants the P&L for Q3 before the Boston offsite, and Acme Corp is late again.",
        "We had to titrate up the dose and the sponsor froze enrollment on Friday.",
        "Our Cpk dropped after the fixture change, so the supplier owes us an 8D report.",
    ]
    produced: set[str] = set()
    for text in lines:
        for _, features in ranked.inputs(ranked.line(text)):
            produced |= set(features)
    assert set(ranked.weights.features) <= produced


def test_committed_weights_are_what_training_on_the_committed_rows_gives(
    ranked: RankedTermDetector,
) -> None:
    """ranker.json must come from terms-train.jsonl and this code (python -m
    bench.train_ranker): retrained here from its seed, it gives the same probabilities."""
    committed = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    rows = [row for row in load_rows(TRAIN) if row.get("language", "en") == "en"]
    assert committed["sentences"] == len(rows)
    examples = sentences(ranked, rows)
    retrained = train(
        examples, hidden=committed["hidden"], epochs=committed["epochs"], seed=committed["seed"]
    )
    assert retrained.features == ranked.weights.features
    assert retrained.counts == ranked.weights.counts
    # Every ninth sentence (all nine fields), with the count features the network trained on.
    counted = counted_out_of_fold(examples)
    sample = [features for sentence in counted[::9] for features in sentence.features]
    np.testing.assert_allclose(
        retrained.probabilities(sample), ranked.weights.probabilities(sample), atol=1e-3
    )


# -- the ranked detector --------------------------------------------------------------------------


def test_ranked_detector_shows_field_terms_and_not_names_places_or_days(
    ranked: RankedTermDetector,
) -> None:
    found = shown(
        ranked,
        "Priya says the autoscaler keeps evicting pods whenever the node pool scales down "
        "on Friday, and the Denver team saw it too.",
    )
    assert {"autoscaler", "node pool"} <= found
    assert not found & {"Priya", "Friday", "Denver", "Denver team"}


def test_ranked_detector_shows_a_multiword_term_of_common_words(
    ranked: RankedTermDetector,
) -> None:
    found = shown(ranked, "We should put a read replica in front of the reporting queries.")
    assert "read replica" in found


def test_small_talk_shows_nothing(ranked: RankedTermDetector) -> None:
    assert shown(ranked, "Anyway, how was everyone's weekend? Mine was mostly laundry.") == set()


def test_korean_lines_go_to_the_rules_unchanged(ranked: RankedTermDetector) -> None:
    text = "오늘 CPK 지표가 불안정합니다."
    assert ranked.detect(text, "ko") == ranked.rules.detect(text, "ko")
    assert ranked.detect(text, None) == ranked.rules.detect(text, None)
    assert ranked.detect("Guten Tag", "de") == []


async def test_the_local_backend_ranks_unless_the_ranker_is_turned_off() -> None:
    # The rules show "second press cell" (a carrier head after an ordinal); the ranker does not.
    text = "The forging die wore out, so we spun up a second press cell."
    ranked = LocalDetector.from_config(DetectorConfig())
    rules = LocalDetector.from_config(DetectorConfig(ranker=False))
    shown_ranked = {c.text for c in await ranked.detect(text, "en")}
    shown_rules = {c.text for c in await rules.detect(text, "en")}
    assert "second press cell" in shown_rules - shown_ranked
    assert "forging die" in shown_ranked
