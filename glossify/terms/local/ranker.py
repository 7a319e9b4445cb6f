"""The learned term ranker: which of a line's spans are shown as terms (English lines).

The rules of `detector` fit the sentences they were tuned on (P 0.95 there) and, on sentences
nobody tuned them on, show a wrong card or miss a term about one time in five. The ranker keeps
them as evidence and decides with a small neural network (one tanh layer) trained on sentences
written for it (`bench/data/terms-train.jsonl`, by `python -m bench.train_ranker`): every span
of the line that might be a term (`spans`) gets a probability from its features
(`span_features`) and from how often spans with the same words were terms in the training rows
(`span_counts`), and the likeliest spans are shown, none overlapping a likelier one.

The weights are in `ranker.json`, with the features' names, the training rows' span counts and
the threshold chosen on held-out fields. Korean lines and other languages go to the rule
detector unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np
import numpy.typing as npt

from glossify.explain.reference import ReferenceGlossary, packaged_reference
from glossify.terms.candidates import Candidate, FilterRules
from glossify.terms.local.detector import FIELD_GAZETTEER, LocalTermDetector, is_korean_line
from glossify.terms.local.lexicon import is_english
from glossify.terms.local.span_counts import COUNT_FEATURE, SpanCounts, count_keys
from glossify.terms.local.span_features import Features, Line, line_of, span_features
from glossify.terms.local.spans import FIELD, REFERENCE, RULE, Span, SpanSet

Matrix = npt.NDArray[np.float64]
# A shown span's confidence: from this floor (enough for the term filter to keep even a single
# word: the ranker has decided) up to 1.0 as its probability rises above the threshold.
SHOWN_CONFIDENCE = FilterRules().single_token_min_confidence


def feature_matrix(rows: Sequence[Features], names: Sequence[str]) -> Matrix:
    """Rows of features as a matrix, one column per name (a missing feature is 0)."""
    return np.array(
        [[row.get(name, 0.0) for name in names] for row in rows], dtype=np.float64
    ).reshape(len(rows), len(names))


@dataclass(frozen=True)
class RankerWeights:
    """A trained network: standardised features, one tanh layer, a logistic output."""

    features: tuple[str, ...]
    mean: Matrix
    scale: Matrix
    hidden_weights: Matrix
    hidden_bias: Matrix
    output_weights: Matrix
    output_bias: float
    threshold: float
    # The training rows' counts by key (`span_counts`): the features named "counts_*".
    counts: SpanCounts | None = None

    def __post_init__(self) -> None:
        if self.counts is None and any(name.startswith(COUNT_FEATURE) for name in self.features):
            # Missing, they would count as 0: wrong probabilities, and no error anywhere.
            raise ValueError("the weights use span counts but carry none")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RankerWeights:
        counts = data.get("span_counts")
        return cls(
            features=tuple(data["features"]),
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            hidden_weights=np.asarray(data["hidden_weights"], dtype=np.float64),
            hidden_bias=np.asarray(data["hidden_bias"], dtype=np.float64),
            output_weights=np.asarray(data["output_weights"], dtype=np.float64),
            output_bias=float(data["output_bias"]),
            threshold=float(data["threshold"]),
            counts=SpanCounts.from_json(counts) if counts is not None else None,
        )

    def to_json(self) -> dict[str, Any]:
        counts = {"span_counts": self.counts.to_json()} if self.counts is not None else {}
        return {
            "features": list(self.features),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "hidden_weights": self.hidden_weights.round(6).tolist(),
            "hidden_bias": self.hidden_bias.round(6).tolist(),
            "output_weights": self.output_weights.round(6).tolist(),
            "output_bias": round(self.output_bias, 6),
            "threshold": self.threshold,
            **counts,
        }

    def matrix(self, rows: Sequence[Features]) -> Matrix:
        """Rows of features as the network's standardised input."""
        return (feature_matrix(rows, self.features) - self.mean) / self.scale

    def probabilities(self, rows: Sequence[Features]) -> Matrix:
        hidden = np.tanh(self.matrix(rows) @ self.hidden_weights + self.hidden_bias)
        logits = hidden @ self.output_weights + self.output_bias
        return 1.0 / (1.0 + np.exp(-logits))


@cache
def _packaged() -> dict[str, Any]:
    text = files("glossify.terms.local").joinpath("ranker.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def packaged_weights() -> RankerWeights:
    return RankerWeights.from_json(_packaged())


def trained_rules() -> dict[str, Any]:
    """The rule detector's settings the packaged weights were trained with."""
    return {"spacy_model": _packaged()["spacy_model"], "rare_zipf": _packaged()["rare_zipf"]}


def choose(scored: Sequence[tuple[Span, float]], threshold: float) -> list[tuple[Span, float]]:
    """The spans at or above ``threshold``, likeliest first, leaving out each one that overlaps
    a span already chosen: one card per stretch of the line, the likeliest reading of it (a
    meeting shows one card per phrase; `drop_nested` would otherwise keep the longer span
    whatever the network thought of it)."""
    chosen: list[tuple[Span, float]] = []
    for (start, end), probability in sorted(scored, key=lambda item: (-item[1], item[0])):
        if probability < threshold:
            break
        if not any(start < b and a < end for (a, b), _ in chosen):
            chosen.append(((start, end), probability))
    return sorted(chosen)


def shown_spans(
    line: Line, scored: Sequence[tuple[Span, float]], threshold: float
) -> list[Candidate]:
    """The spans `choose` keeps, as candidates the term filter keeps."""
    shown: list[Candidate] = []
    for (start, end), probability in choose(scored, threshold):
        rule = line.rules.get((start, end))
        category = rule.category if rule is not None else "Skill"
        lift = max(0.0, (probability - threshold) / (1.0 - threshold))
        confidence = SHOWN_CONFIDENCE + (1.0 - SHOWN_CONFIDENCE) * lift
        shown.append(Candidate(line.doc.text[start:end], category, round(confidence, 3), start))
    return shown


class RankedTermDetector:
    """English lines: the rules' candidates and every other plausible span, ranked by the
    trained network. Other languages: the rule detector's candidates."""

    def __init__(
        self,
        rules: LocalTermDetector,
        weights: RankerWeights | None = None,
        reference: ReferenceGlossary | None = None,
    ) -> None:
        self.rules = rules
        self._weights = weights
        self.reference = reference or packaged_reference()

    def warm_up(self) -> None:
        """Load the weights and compile the reference's English forms (about 6 s of CPU), so
        that the first lines of the first meeting are as fast as the others."""
        _ = self.weights
        self.reference.compile("en")

    @property
    def weights(self) -> RankerWeights:
        # Loaded on first use: training (bench.train_ranker) needs the spans, not the weights.
        if self._weights is None:
            self._weights = packaged_weights()
        return self._weights

    def detect(self, text: str, language: str | None = "en") -> list[Candidate]:
        if not text.strip() or not is_english(language) or is_korean_line(text, language):
            return self.rules.detect(text, language)
        line = self.line(text)
        return shown_spans(line, self.scored(line), self.weights.threshold)

    def line(self, text: str) -> Line:
        """An English line parsed, with every span worth judging and the rules' candidates
        (keyed by their spans as trimmed: "P&L." at a sentence end is "P&L")."""
        doc = self.rules.parse(text)
        spans = SpanSet(doc)
        rules: dict[Span, Candidate] = {}
        for candidate in self.rules.english_candidates(doc):
            key = spans.add(candidate.offset, candidate.offset + len(candidate.text), RULE)
            if key is not None:
                rules.setdefault(key, candidate)
        said = self.reference.find(text, "en")
        for match in said:
            spans.add(match.start, match.end, REFERENCE)
        for match in FIELD_GAZETTEER.find(text):
            spans.add(match.start, match.end, FIELD)
        spans.add_parsed()
        return line_of(doc, spans.sources, rules, said, self.reference)

    def features(self, line: Line) -> list[tuple[Span, Features]]:
        """Every span of ``line`` with what it tells by itself (training counts its keys over
        these spans: `inputs` adds the counts)."""
        return [(span, span_features(line, span, self.reference)) for span in line.starts]

    def inputs(self, line: Line) -> list[tuple[Span, Features]]:
        """Every span of ``line`` with all that the network is given: its features and what the
        training rows' counts say of its words."""
        rows = self.features(line)
        counts = self.weights.counts
        if counts is None:
            return rows
        return [
            (span, counts.added_to(features, count_keys(line.doc, *span)))
            for span, features in rows
        ]

    def scored(self, line: Line) -> list[tuple[Span, float]]:
        """Every span of ``line`` with its probability of being a term."""
        rows = self.inputs(line)
        if not rows:
            return []
        probabilities = self.weights.probabilities([features for _, features in rows])
        return [(span, float(p)) for (span, _), p in zip(rows, probabilities, strict=True)]
