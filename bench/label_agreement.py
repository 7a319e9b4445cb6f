"""How far two people's labels of the same sentences agree: a ceiling for any detector.

    .venv/bin/python -m bench.label_agreement [--second PATH] [--first PATH]

A second annotator labelled sentences of `terms-train.jsonl` from the labelling guide alone,
without seeing the first labels (`bench/data/terms-train-second-annotator.jsonl`). Their gold
terms are scored as answers against the first labels, sentence by sentence with the benchmark's
`score_row` (the first labels' acceptable terms cost nothing), and the other way round. The
answers are the labels as written: no term filter and no `drop_nested`, which would score what a
meeting shows rather than what the annotators wrote.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common.paths import REPO_ROOT, results_path
from glossify.terms.evaluation import COUNTS, load_rows, score_counts, score_row

DATA = REPO_ROOT / "bench" / "data"
FIRST = DATA / "terms-train.jsonl"
SECOND = DATA / "terms-train-second-annotator.jsonl"


def agreement(answers: Sequence[dict[str, Any]], truth: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``answers``' gold scored against ``truth``'s gold and acceptable terms, row by row (the
    same sentences in the same order)."""
    totals = dict.fromkeys(COUNTS, 0)
    for answer, row in zip(answers, truth, strict=True):
        scored = score_row(answer["gold"], row["gold"], row.get("acceptable", []))
        for key in COUNTS:
            totals[key] += scored[key]
    return score_counts(totals)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--first", type=Path, default=FIRST, help="the labels taken as truth")
    parser.add_argument("--second", type=Path, default=SECOND, help="the other labels")
    args = parser.parse_args(argv)

    second = load_rows(args.second)
    by_id = {row["id"]: row for row in load_rows(args.first)}
    missing = [row["id"] for row in second if row["id"] not in by_id]
    if missing:
        raise SystemExit(f"not in {args.first}: {', '.join(missing)}")
    first = [by_id[row["id"]] for row in second]
    if any(a["text"] != b["text"] for a, b in zip(first, second, strict=True)):
        raise SystemExit("the two files label different texts under the same id")
    report = {
        "sentences": len(second),
        "second_against_first": agreement(second, first),
        "first_against_second": agreement(first, second),
    }
    for name in ("second_against_first", "first_against_second"):
        overall = report[name]
        print(
            f"{name.replace('_', ' ')}: P {overall['precision']:.3f}  R {overall['recall']:.3f}"
            f"  ({overall['gold']} gold terms in {len(second)} sentences)"
        )
    path = results_path("label-agreement")
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
