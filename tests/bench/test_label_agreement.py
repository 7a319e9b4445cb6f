"""bench.label_agreement: one annotator's gold scored against another's with the benchmark's
score_row, on the committed second-annotator file and on small files written here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.label_agreement import FIRST, SECOND, agreement
from bench.label_agreement import main as label_agreement
from glossify.terms.evaluation import load_rows


def row(id_: str, gold: list[str], acceptable: list[str]) -> dict[str, Any]:
    text = "Can we true up the SLA credits before the QBR?"
    kinds = dict.fromkeys(gold, "acronym")
    return {"id": id_, "language": "en", "field": "sales_marketing", "text": text,
            "gold": gold, "acceptable": acceptable, "kinds": kinds}  # fmt: skip


def test_an_acceptable_term_costs_nothing_and_a_missed_one_counts() -> None:
    truth = [row("en-mkt-1", ["true up", "SLA credits"], ["QBR"])]
    answers = [row("en-mkt-1", ["SLA credits", "QBR"], [])]
    overall = agreement(answers, truth)
    assert (overall["correct"], overall["predicted"]) == (2, 2)  # QBR is acceptable
    assert (overall["found"], overall["gold"]) == (1, 2)  # "true up" was missed


def test_labels_are_scored_as_written_nested_terms_included() -> None:
    # A meeting would show only "SLA credits"; an annotator's nested "SLA" still counts.
    truth = [row("en-mkt-1", ["SLA", "SLA credits"], [])]
    overall = agreement(truth, truth)
    assert (overall["predicted"], overall["found"], overall["gold"]) == (2, 2, 2)


def test_the_committed_second_labels_cover_texts_of_the_training_rows() -> None:
    first = {r["id"]: r["text"] for r in load_rows(FIRST)}
    second = load_rows(SECOND)
    assert len(second) >= 90
    assert all(first[r["id"]] == r["text"] for r in second)
    assert all(term in r["text"] for r in second for term in r["gold"] + r["acceptable"])


def test_different_texts_under_one_id_are_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text(json.dumps(row("en-mkt-1", ["SLA credits"], [])) + "\n", encoding="utf-8")
    changed = {**row("en-mkt-1", ["SLA credits"], []), "text": "Another line."}
    second.write_text(json.dumps(changed) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="different texts"):
        label_agreement(["--first", str(first), "--second", str(second)])
