"""Train the learned term ranker on bench/data/terms-train.jsonl and write its weights.

    .venv/bin/python -m bench.train_ranker [--hidden 8] [--epochs 300] [--seed 0] [--dry-run]

Every span the ranker judges (`glossify.terms.local.spans`) is an example: a gold term is 1, an
acceptable one is left out (showing it is no mistake, and missing it none either), anything else
is 0. Besides its own features, a span gets the training rows' counts of its words
(`span_counts`); a training span's counts come from the other four fifths of the rows, never
from its own row. The network (one tanh layer, a logistic output) is fitted by full-batch Adam
with weight decay, from a fixed seed, so a run gives the same weights.

The threshold is chosen without the rows it is judged on: each field's rows are scored by a
network trained on the other eight fields, with their counts (leave one field out), at
thresholds 0.20 to 0.70, and the threshold with the best F1 over all fields is kept. That
cross-validation is printed (and written to bench/results/ranker-cv-<date>.json). Then the
network is trained on all rows and written to glossify/terms/local/ranker.json with that
threshold and the counts of all rows. The dev and test splits are not read here;
`bench.term_detection` measures them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bench.common.paths import REPO_ROOT, results_path
from glossify.terms.candidates import Candidate, normalize_term
from glossify.terms.evaluation import COUNTS, evaluate, load_rows, score_counts
from glossify.terms.local.detector import LocalTermDetector
from glossify.terms.local.ranker import (
    Matrix,
    RankedTermDetector,
    RankerWeights,
    feature_matrix,
    shown_spans,
)
from glossify.terms.local.span_counts import Keys, SpanCounts, count_keys
from glossify.terms.local.span_features import Features, Line
from glossify.terms.local.spans import Span

TRAIN = REPO_ROOT / "bench" / "data" / "terms-train.jsonl"
WEIGHTS = REPO_ROOT / "glossify" / "terms" / "local" / "ranker.json"
THRESHOLDS = [round(0.2 + 0.05 * i, 2) for i in range(11)]
# Folds of the training rows for their own count features (`counted_out_of_fold`).
COUNT_FOLDS = 5
WEIGHT_DECAY = 1e-2
LEARNING_RATE = 0.01


@dataclass
class Sentence:
    row: dict[str, Any]
    line: Line
    spans: list[Span]
    features: list[Features]
    labels: list[int]  # 1 gold, 0 not a term, -1 acceptable (left out of training)
    keys: list[Keys]  # what the span counts (`span_counts`) are kept by


def sentences(detector: RankedTermDetector, rows: Sequence[dict[str, Any]]) -> list[Sentence]:
    out: list[Sentence] = []
    for row in rows:
        gold = {normalize_term(term) for term in row["gold"]}
        acceptable = {normalize_term(term) for term in row.get("acceptable", [])}
        line = detector.line(row["text"])
        judged = detector.features(line)
        spans = [span for span, _ in judged]
        keys = [count_keys(line.doc, *span) for span in spans]
        # A span's "span" key is its text as terms are compared (normalize_term).
        labels = [1 if k["span"] in gold else -1 if k["span"] in acceptable else 0 for k in keys]
        out.append(Sentence(row, line, spans, [f for _, f in judged], labels, keys))
    return out


def span_counts(examples: Sequence[Sentence]) -> SpanCounts:
    """The judged spans' counts by key (acceptable spans are not judged)."""
    return SpanCounts.count(
        (keys, label == 1)
        for s in examples
        for keys, label in zip(s.keys, s.labels, strict=True)
        if label >= 0
    )


def with_counts(examples: Sequence[Sentence], counts: SpanCounts) -> list[Sentence]:
    """The sentences with the count features of ``counts`` added to every span's features."""
    return [
        replace(
            s,
            features=[
                counts.added_to(features, keys)
                for features, keys in zip(s.features, s.keys, strict=True)
            ],
        )
        for s in examples
    ]


def counted_out_of_fold(examples: Sequence[Sentence]) -> list[Sentence]:
    """Training sentences with count features from the other folds' sentences only: counted
    with its own label, a span would teach the network to trust the counts far more than
    they deserve on a line nobody labelled."""
    by_fold = [
        span_counts([s for i, s in enumerate(examples) if i % COUNT_FOLDS != fold])
        for fold in range(COUNT_FOLDS)
    ]
    return [with_counts([s], by_fold[i % COUNT_FOLDS])[0] for i, s in enumerate(examples)]


def train(examples: Sequence[Sentence], hidden: int, epochs: int, seed: int) -> RankerWeights:
    """The network fitted on ``examples`` with their counts, and the counts for new lines."""
    return fit(counted_out_of_fold(examples), hidden, epochs, seed, span_counts(examples))


def fit(
    examples: Sequence[Sentence], hidden: int, epochs: int, seed: int, counts: SpanCounts
) -> RankerWeights:
    """The network fitted on ``examples`` as they are (`train` adds their counts first);
    ``counts`` are kept with the weights for new lines."""
    names = tuple(sorted({name for s in examples for f in s.features for name in f}))
    pairs = [pair for s in examples for pair in zip(s.features, s.labels, strict=True)]
    rows = [features for features, label in pairs if label >= 0]
    targets = np.array([label for _, label in pairs if label >= 0], dtype=float)
    raw = feature_matrix(rows, names)
    mean = raw.mean(axis=0)
    scale = raw.std(axis=0)
    scale[scale == 0.0] = 1.0
    inputs = (raw - mean) / scale
    rng = np.random.default_rng(seed)
    params: list[Matrix] = [
        rng.normal(0.0, 1.0 / np.sqrt(len(names)), (len(names), hidden)),
        np.zeros(hidden),
        rng.normal(0.0, 1.0 / np.sqrt(hidden), hidden),
        np.zeros(1),
    ]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    for step in range(1, epochs + 1):
        layer = np.tanh(inputs @ params[0] + params[1])
        probabilities = 1.0 / (1.0 + np.exp(-(layer @ params[2] + params[3][0])))
        error = (probabilities - targets) / len(targets)
        back = np.outer(error, params[2]) * (1.0 - layer**2)
        grads = [
            inputs.T @ back + WEIGHT_DECAY * params[0],
            back.sum(axis=0),
            layer.T @ error + WEIGHT_DECAY * params[2],
            np.array([error.sum()]),
        ]
        for i, grad in enumerate(grads):
            first[i] = 0.9 * first[i] + 0.1 * grad
            second[i] = 0.999 * second[i] + 0.001 * grad**2
            corrected = first[i] / (1 - 0.9**step)
            params[i] = params[i] - LEARNING_RATE * corrected / (
                np.sqrt(second[i] / (1 - 0.999**step)) + 1e-8
            )
    return RankerWeights(
        features=names,
        mean=mean,
        scale=scale,
        hidden_weights=params[0],
        hidden_bias=params[1],
        output_weights=params[2],
        output_bias=float(params[3][0]),
        threshold=0.5,
        counts=counts,
    )


class _Answers:
    """A detector that answers each sentence with candidates worked out beforehand."""

    def __init__(self, by_text: dict[str, list[Candidate]]) -> None:
        self._by_text = by_text

    def detect(self, text: str, language: str | None = "en") -> list[Candidate]:
        return self._by_text[text]


def counts_at(
    weights: RankerWeights, held: Sequence[Sentence], thresholds: Sequence[float]
) -> dict[float, dict[str, int]]:
    """Per threshold, the held-out sentences scored as the benchmark scores a detector (what a
    meeting shows, through `evaluate`)."""
    scored = [
        list(zip(s.spans, weights.probabilities(s.features).tolist(), strict=True))
        if s.features
        else []
        for s in held
    ]
    out: dict[float, dict[str, int]] = {}
    for threshold in thresholds:
        answers = {
            s.row["text"]: shown_spans(s.line, spans, threshold)
            for s, spans in zip(held, scored, strict=True)
        }
        overall = evaluate(_Answers(answers), [s.row for s in held])["overall"]
        out[threshold] = {key: int(overall[key]) for key in COUNTS}
    return out


def cross_validate(
    examples: Sequence[Sentence], hidden: int, epochs: int, seed: int
) -> dict[float, dict[str, float]]:
    fields = sorted({s.row["field"] for s in examples})
    totals: dict[float, dict[str, int]] = {t: dict.fromkeys(COUNTS, 0) for t in THRESHOLDS}
    for field in fields:
        weights = train([s for s in examples if s.row["field"] != field], hidden, epochs, seed)
        assert weights.counts is not None
        held = with_counts([s for s in examples if s.row["field"] == field], weights.counts)
        for threshold, counts in counts_at(weights, held, THRESHOLDS).items():
            for key, value in counts.items():
                totals[threshold][key] += value
    return {
        threshold: {
            name: round(float(value), 3)
            for name, value in score_counts(counts).items()
            if name in ("precision", "recall", "f1")
        }
        for threshold, counts in totals.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=8, help="units in the hidden layer")
    parser.add_argument("--epochs", type=int, default=300, help="full-batch Adam steps")
    parser.add_argument("--seed", type=int, default=0, help="initial weights' seed")
    parser.add_argument("--dry-run", action="store_true", help="cross-validate only")
    args = parser.parse_args(argv)

    rows = [row for row in load_rows(TRAIN) if row.get("language", "en") == "en"]
    rules = LocalTermDetector()
    detector = RankedTermDetector(rules)
    examples = sentences(detector, rows)
    positives = sum(label == 1 for s in examples for label in s.labels)
    gold = sum(len(s.row["gold"]) for s in examples)
    print(
        f"{len(rows)} sentences, {sum(len(s.spans) for s in examples)} spans judged; "
        f"{positives} spans are gold terms ({gold} gold terms)"
    )
    cv = cross_validate(examples, args.hidden, args.epochs, args.seed)
    print("leave-one-field-out cross-validation:")
    for threshold, figures in cv.items():
        print(
            f"  threshold {threshold:.2f}: P {figures['precision']:.3f}  "
            f"R {figures['recall']:.3f}  F1 {figures['f1']:.3f}"
        )
    best = max(cv, key=lambda t: (cv[t]["f1"], t))
    print(f"chosen threshold {best:.2f} (best F1)")
    report = {
        "hidden": args.hidden,
        "epochs": args.epochs,
        "seed": args.seed,
        "threshold": best,
        "cross_validation": {str(t): f for t, f in cv.items()},
    }
    path = results_path("ranker-cv")
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(REPO_ROOT)}")
    if args.dry_run:
        return
    weights = train(examples, args.hidden, args.epochs, args.seed)
    final = replace(weights, threshold=best)
    trained = {
        "trained_on": str(TRAIN.relative_to(REPO_ROOT)),
        "sentences": len(rows),
        "hidden": args.hidden,
        "epochs": args.epochs,
        "seed": args.seed,
        # The rules' confidences are features: a replica warns when its rules differ.
        "spacy_model": rules.model_name,
        "rare_zipf": rules.rare_zipf,
    }
    WEIGHTS.write_text(json.dumps({**trained, **final.to_json()}) + "\n", encoding="utf-8")
    print(f"wrote {WEIGHTS.relative_to(REPO_ROOT)} ({len(final.features)} features)")


if __name__ == "__main__":
    main()
