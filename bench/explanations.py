"""Explanation quality and term latency of the local explainer on the labelled terms in context.

    .venv/bin/python -m bench.explanations [--split dev|test] [--model qwen|smollm]
                                           [--reference on|off|only]
                                           [--limit N] [--json PATH] [--answers PATH]

Answers each term with what a TermExplainer replica runs (`glossify.explain.term_answers`):
the packaged reference glossary when it has a sense that fits the meeting (`--reference off`
skips it; `only` runs no model, so the terms it lacks are abstentions), else the real
`LocalExplainer` with the production settings (`ExplainerConfig()`: two threads, four slots,
warmed up as a replica does), its answer screened and cached as in a replica, over
bench/data/explanations-{dev,test}.jsonl, one term at a time. It scores each card a meeting
would show with `glossify.explain.evaluation`: right, wrong, abstained (no confident
explanation: the model said so, its answer was unusable, or the screen found an invented
acronym expansion) or failed (the model ran out of time).
Prints the scores overall, per field and per language, and the latency per term (p50, p95).

Each term's context is what a meeting would pass: the row's earlier lines and its line, one a
line. The test split is for measurement only (bench/data/README.md): for it no row, answer or
id is printed or written, only the scores. CPU is shared: `--limit` keeps tuning runs short.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.audio_metrics import percentile
from bench.common.paths import REPO_ROOT
from bench.common.table import Column, cell, format_table
from glossify.config.backends import ExplainerConfig
from glossify.explain.answer import Explanation
from glossify.explain.evaluation import ExplanationCase, Verdict, judge, load_cases, summarize
from glossify.explain.local import LocalExplainer
from glossify.explain.reference import ReferenceGlossary, packaged_reference
from glossify.explain.term_answers import TermAnswers
from glossify.weights.packaged import default_llm_path, smollm2_path

SPLITS: dict[str, Path] = {
    "dev": REPO_ROOT / "bench" / "data" / "explanations-dev.jsonl",
    "test": REPO_ROOT / "bench" / "data" / "explanations-test.jsonl",
}
# Splits whose rows and answers may be read by people tuning the prompt.
READABLE_SPLITS = frozenset({"dev"})
MODELS = {"qwen": default_llm_path, "smollm": smollm2_path}

Scores = tuple[str, dict[str, Any]]  # a group (field, language or "overall") and its scores

TABLE: list[Column[Scores]] = [
    Column("group", 16, lambda row: row[0], align="<"),
    Column("cases", 5, lambda row: str(row[1]["cases"])),
    Column("right", 5, lambda row: str(row[1]["right"])),
    Column("wrong", 5, lambda row: str(row[1]["wrong"])),
    Column("abst", 5, lambda row: str(row[1]["abstained"])),
    Column("fail", 5, lambda row: str(row[1]["failed"])),
    Column("R/answered", 10, lambda row: cell(row[1]["right_of_answered"], 1, 100)),
    Column("R/all", 6, lambda row: cell(row[1]["right_of_all"], 1, 100)),
]


async def _explain(
    answers: TermAnswers, case: ExplanationCase
) -> tuple[Explanation | None, str, float, str]:
    """The card a meeting is shown (None when the backend ran out of time), where it came
    from, the seconds it took, and the error if any."""
    started = time.perf_counter()
    try:
        answer = await answers.explain(case.term, case.meeting_text(), case.language)
    except TimeoutError as error:
        return None, "timeout", time.perf_counter() - started, f"TimeoutError: {error}"
    return answer.explanation, answer.source, time.perf_counter() - started, ""


async def run_cases(
    answers: TermAnswers, cases: list[ExplanationCase]
) -> tuple[list[Verdict], list[dict[str, Any]]]:
    """Explain and judge every case in order, one at a time."""
    verdicts: list[Verdict] = []
    rows: list[dict[str, Any]] = []
    for case in cases:
        answer, source, seconds, error = await _explain(answers, case)
        abstained = answer is not None and answer.abstained
        verdict = judge(case, None if answer is None else answer.body, abstained=abstained)
        verdicts.append(verdict)
        rows.append(
            {
                "id": case.id,
                "term": case.term,
                "outcome": verdict.outcome,
                "source": source,
                "seconds": round(seconds, 3),
                "domain": answer.domain if answer else None,
                "body": answer.body if answer else None,
                "confidence": None
                if answer is None or answer.confidence is None
                else round(answer.confidence, 3),
                "missing": list(verdict.missing),
                "wrong_hits": list(verdict.wrong_hits),
                "error": error,
            }
        )
    return verdicts, rows


def latency(rows: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [row["seconds"] for row in rows]
    p50, p95 = percentile(seconds, 50), percentile(seconds, 95)
    return {
        "n": len(seconds),
        "p50_s": None if p50 is None else round(p50, 3),
        "p95_s": None if p95 is None else round(p95, 3),
    }


def tables(report: dict[str, Any]) -> str:
    overall = ("overall", report["overall"])
    return "\n\n".join(
        format_table(TABLE, [*report[key].items(), overall]) for key in ("fields", "languages")
    )


def answers_text(rows: list[dict[str, Any]]) -> str:
    """One line per case (readable splits only): verdict, seconds, term, domain, body."""
    lines = []
    for row in rows:
        said = row["error"] or f"[{row['domain']}] {row['body']}"
        if row.get("confidence") is not None:
            said = f"({row['confidence']:+.2f}) {said}"
        detail = f" missing={row['missing']}" if row["missing"] else ""
        detail += f" wrong={row['wrong_hits']}" if row["wrong_hits"] else ""
        lines.append(
            f"{row['outcome']:9} {row['source']:9} {row['seconds']:5.1f}s {row['id']} "
            f"{row['term']!r}: {said}{detail}"
        )
    return "\n".join(lines)


async def measure(
    model_path: Path | None,
    reference: ReferenceGlossary | None,
    cases: list[ExplanationCase],
    config: ExplainerConfig,
) -> tuple[list[Verdict], list[dict[str, Any]], float]:
    """Verdicts and rows of every case, and the seconds the model took to get ready (none
    is loaded without a `model_path`)."""
    if model_path is None:
        verdicts, rows = await run_cases(TermAnswers(config, None, reference), cases)
        return verdicts, rows, 0.0
    started = time.perf_counter()
    local = config.model_copy(update={"model_path": str(model_path)})
    explainer = LocalExplainer.from_config(local)
    await explainer.start()  # a replica warms its slots before it takes terms
    ready_s = time.perf_counter() - started
    try:
        verdicts, rows = await run_cases(TermAnswers(local, explainer, reference), cases)
    finally:
        await explainer.close()
    return verdicts, rows, ready_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.explanations", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev")
    parser.add_argument("--model", choices=sorted(MODELS), default="qwen")
    parser.add_argument(
        "--reference",
        choices=("on", "off", "only"),
        default="on",
        help="the packaged reference glossary first (on, as a replica), not at all (off: the "
        "model alone), or alone (only: no model)",
    )
    parser.add_argument("--limit", type=int, help="only the first N rows (tuning runs)")
    parser.add_argument("--only", help="comma-separated row ids (readable splits only)")
    parser.add_argument("--json", type=Path, help="where to write the report (default: none)")
    parser.add_argument(
        "--answers",
        type=Path,
        help="also write every row's answer and verdict here, for any split: for the hand "
        "check after the one measurement of the test split (nothing is tuned after it)",
    )
    parser.add_argument(
        "--deadline-s",
        type=float,
        help="seconds a generation may take (default: explainer.deadline_s); on a shared, "
        "busy machine a longer one keeps timeouts out of the quality figures",
    )
    args = parser.parse_args(argv)

    readable = args.split in READABLE_SPLITS
    cases = load_cases(SPLITS[args.split])
    if args.only:
        if not readable:
            parser.error("--only picks rows by id, which a measurement-only split never shows")
        wanted = set(args.only.split(","))
        cases = [case for case in cases if case.id in wanted]
    if args.limit:
        cases = cases[: args.limit]
    config = ExplainerConfig()
    if args.deadline_s:
        config = config.model_copy(update={"deadline_s": args.deadline_s})
    load_before = os.getloadavg()
    model_path = None if args.reference == "only" else MODELS[args.model]()
    reference = None if args.reference == "off" else packaged_reference()
    verdicts, rows, ready_s = asyncio.run(measure(model_path, reference, cases, config))
    report: dict[str, Any] = {
        "split": args.split,
        "model": None if model_path is None else args.model,
        "reference": args.reference,
        "from_reference": sum(row["source"] == "reference" for row in rows),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {
            "n_threads": config.n_threads,
            "n_parallel": config.n_parallel,
            "max_tokens": config.max_tokens,
            "max_chars": config.max_chars,
            "deadline_s": config.deadline_s,
        },
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "ready_s": round(ready_s, 1),
        **summarize(cases, verdicts),
        "latency": latency(rows),
    }
    if readable:
        print(answers_text(rows), end="\n\n")
        report["rows"] = rows
    print(
        f"{len(cases)} terms from {SPLITS[args.split].name}, model {report['model']}, reference "
        f"{args.reference}: {report['from_reference']} answered from the reference\n"
    )
    print(tables(report))
    lat = report["latency"]
    print(
        f"\nterm latency p50 {lat['p50_s']} s, p95 {lat['p95_s']} s (one at a time, "
        f"{config.n_threads} threads); load average {report['load_average_before_after']}"
    )
    if args.answers:
        args.answers.parent.mkdir(parents=True, exist_ok=True)
        args.answers.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


__all__ = ["SPLITS", "latency", "main", "run_cases", "tables"]

if __name__ == "__main__":
    raise SystemExit(main())
