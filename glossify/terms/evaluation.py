"""Scoring of a term detector against a labelled JSONL set (pure functions, no Ray).

Each row has `text`, `gold` (terms that should be found), `acceptable` (tolerated extras) and
optionally `domain` and `id`. A detector is anything with `detect(text, language)` returning
`Candidate`s; its output goes through `filter_candidates(..., rules)` exactly as in production.

Terms match case-insensitively on `normalize_term`. Recall = gold terms found / gold terms;
precision = predicted terms in gold or acceptable / predicted terms (micro-averaged).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from glossify.terms.candidates import Candidate, FilterRules, filter_candidates, normalize_term


class Detector(Protocol):
    def detect(self, text: str, language: str | None = "en") -> list[Candidate]: ...


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _ratio(numerator: int, denominator: int) -> float:
    # No predictions means nothing wrong was said; no gold means nothing was missed.
    return numerator / denominator if denominator else 1.0


def _score(counts: Mapping[str, int]) -> dict[str, float | int]:
    precision = _ratio(counts["correct"], counts["predicted"])
    recall = _ratio(counts["found"], counts["gold"])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {**counts, "precision": precision, "recall": recall, "f1": f1}


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


def evaluate(
    detector: Detector, rows: Iterable[Mapping[str, Any]], rules: FilterRules | None = None
) -> dict[str, Any]:
    """Run the detector and the production filter on every row and score the result."""
    rules = rules or FilterRules()
    keys = ("predicted", "correct", "gold", "found")
    totals = dict.fromkeys(keys, 0)
    domains: dict[str, dict[str, int]] = {}
    details: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        kept = filter_candidates(detector.detect(row["text"], row.get("language", "en")), rules)
        predicted = [c.text for c in kept]
        result = score_row(predicted, row.get("gold", []), row.get("acceptable", []))
        domain = str(row.get("domain", "all"))
        bucket = domains.setdefault(domain, dict.fromkeys(keys, 0))
        for key in keys:
            totals[key] += result[key]
            bucket[key] += result[key]
        details.append(
            {
                "id": row.get("id", index),
                "domain": domain,
                "text": row["text"],
                "predicted": predicted,
                "misses": result["misses"],
                "false_positives": result["false_positives"],
            }
        )
    return {
        "overall": _score(totals),
        "domains": {name: _score(counts) for name, counts in sorted(domains.items())},
        "rows": details,
    }
