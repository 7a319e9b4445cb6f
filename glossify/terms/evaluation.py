"""Scoring of a term detector against a labelled JSONL set (pure functions, no Ray).

Each row has `text`, `gold` (terms that should be found), `acceptable` (tolerated extras) and
optionally `field` (or, in older sets, `domain`), `language`, `kinds` (a kind for each gold term)
and `id`. A detector is anything with `detect(text, language)` returning `Candidate`s; its output
goes through `shown_candidates(..., rules)` (the filter, then the longest of nested terms)
exactly as in a meeting.

Terms match case-insensitively on `normalize_term`. Recall = gold terms found / gold terms;
precision = predicted terms in gold or acceptable / predicted terms (micro-averaged). Scores are
given overall, per field (`domains`, keyed by `field`, else `domain`), per language, per language
and field (`language_fields`, keyed "en/finance"), and per kind of gold term (recall only: a
prediction has no kind, so precision is not defined per kind).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from glossify.terms.candidates import Candidate, FilterRules, normalize_term, shown_candidates

COUNTS = ("predicted", "correct", "gold", "found")
UNKNOWN_KIND = "unlabelled"


class Detector(Protocol):
    def detect(self, text: str, language: str | None = "en") -> list[Candidate]: ...


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _ratio(numerator: int, denominator: int) -> float:
    # No predictions means nothing wrong was said; no gold means nothing was missed.
    return numerator / denominator if denominator else 1.0


def score_counts(counts: Mapping[str, int]) -> dict[str, float | int]:
    """Precision, recall and F1 (with the counts) from summed `score_row` counts."""
    precision = _ratio(counts["correct"], counts["predicted"])
    recall = _ratio(counts["found"], counts["gold"])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {**counts, "precision": precision, "recall": recall, "f1": f1}


def _kind_score(counts: Mapping[str, int]) -> dict[str, float | int]:
    return {
        "gold": counts["gold"],
        "found": counts["found"],
        "recall": score_counts(counts)["recall"],
    }


def score_row(
    predicted: Iterable[str], gold: Iterable[str], acceptable: Iterable[str]
) -> dict[str, Any]:
    """Compare one sentence's predicted terms with its gold and acceptable terms."""
    pred_keys = {normalize_term(t): t for t in predicted}
    gold_keys = {normalize_term(t): t for t in gold}
    ok_keys = set(gold_keys) | {normalize_term(t) for t in acceptable}
    return {
        "predicted": len(pred_keys),
        "correct": sum(key in ok_keys for key in pred_keys),
        "gold": len(gold_keys),
        "found": sum(key in pred_keys for key in gold_keys),
        "misses": [term for key, term in gold_keys.items() if key not in pred_keys],
        "false_positives": [term for key, term in pred_keys.items() if key not in ok_keys],
    }


def row_group(row: Mapping[str, Any]) -> str:
    """The field a row belongs to: `field` in the current sets, `domain` in the old one."""
    return str(row.get("field", row.get("domain", "all")))


def _add(buckets: dict[str, dict[str, int]], name: str, counts: Mapping[str, int]) -> None:
    bucket = buckets.setdefault(name, dict.fromkeys(COUNTS, 0))
    for key in COUNTS:
        bucket[key] += counts[key]


def _kind_counts(row: Mapping[str, Any], misses: list[str]) -> dict[str, dict[str, int]]:
    """Gold and found counts per kind of gold term in one row."""
    kinds: Mapping[str, str] = row.get("kinds") or {}
    missed = {normalize_term(t) for t in misses}
    out: dict[str, dict[str, int]] = {}
    for term in dict.fromkeys(row.get("gold", [])):
        counts = out.setdefault(kinds.get(term, UNKNOWN_KIND), dict.fromkeys(COUNTS, 0))
        counts["gold"] += 1
        counts["found"] += normalize_term(term) not in missed
    return out


def evaluate(
    detector: Detector, rows: Iterable[Mapping[str, Any]], rules: FilterRules | None = None
) -> dict[str, Any]:
    """Run the detector on every row, keep what a meeting would show (the production filter,
    then the longest of nested terms) and score that."""
    rules = rules or FilterRules()
    totals = dict.fromkeys(COUNTS, 0)
    groups: dict[str, dict[str, dict[str, int]]] = {
        "domains": {},
        "languages": {},
        "language_fields": {},
        "kinds": {},
    }
    details: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        language = row.get("language", "en")
        kept = shown_candidates(detector.detect(row["text"], language), rules)
        predicted = [c.text for c in kept]
        result = score_row(predicted, row.get("gold", []), row.get("acceptable", []))
        group = row_group(row)
        _add(groups["domains"], group, result)
        _add(groups["languages"], str(language), result)
        _add(groups["language_fields"], f"{language}/{group}", result)
        for kind, counts in _kind_counts(row, result["misses"]).items():
            _add(groups["kinds"], kind, counts)
        for key in COUNTS:
            totals[key] += result[key]
        details.append(
            {
                "id": row.get("id", index),
                "domain": group,
                "language": language,
                "text": row["text"],
                "predicted": predicted,
                "misses": result["misses"],
                "false_positives": result["false_positives"],
            }
        )
    return {
        "overall": score_counts(totals),
        "domains": {name: score_counts(c) for name, c in sorted(groups["domains"].items())},
        "languages": {name: score_counts(c) for name, c in sorted(groups["languages"].items())},
        "language_fields": {
            name: score_counts(c) for name, c in sorted(groups["language_fields"].items())
        },
        "kinds": {name: _kind_score(c) for name, c in sorted(groups["kinds"].items())},
        "rows": details,
    }
