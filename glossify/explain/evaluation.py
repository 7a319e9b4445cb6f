"""Scoring explanations against the hand-written checks of bench/data/explanations-*.jsonl
(pure functions: no model, no I/O beyond reading the JSONL).

An explanation is **right** when, case-insensitively, every `required` group has at least one
alternative as a substring of it and no `wrong` phrase is a substring of it. Only the body is
judged: the domain label names a field, it does not explain the term.

Each case ends in one verdict: `right`, `wrong`, `abstained` (the model said it had no confident
explanation) or `failed` (no usable answer: an unparseable answer or a timeout). A failed case
is not an abstention: the model did not say it was unsure, so it counts as answered and not
right. Accuracy is given both ways: right / answered (abstentions left out) and right / all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["right", "wrong", "abstained", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("right", "wrong", "abstained", "failed")


@dataclass(frozen=True)
class ExplanationCase:
    """One term heard in a meeting line, and the checks on its explanation."""

    id: str
    language: str
    field: str
    term: str
    line: str
    context: tuple[str, ...] = ()
    required: tuple[tuple[str, ...], ...] = ()
    wrong: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ExplanationCase:
        return cls(
            id=str(row["id"]),
            language=str(row.get("language", "en")),
            field=str(row.get("field", "general")),
            term=str(row["term"]),
            line=str(row["line"]),
            context=tuple(str(line) for line in row.get("context", ())),
            required=tuple(tuple(str(alt) for alt in group) for group in row.get("required", ())),
            wrong=tuple(str(phrase) for phrase in row.get("wrong", ())),
        )

    def meeting_text(self) -> str:
        """What a meeting passes as the term's context: the earlier lines, oldest first, and
        the line itself last, one a line."""
        return "\n".join([*self.context, self.line])


@dataclass(frozen=True)
class Verdict:
    """How one case came out; `missing` holds the indexes of unmatched required groups."""

    case_id: str
    outcome: Outcome
    missing: tuple[int, ...] = ()
    wrong_hits: tuple[str, ...] = ()

    @property
    def right(self) -> bool:
        return self.outcome == "right"


def load_cases(path: str | Path) -> list[ExplanationCase]:
    with open(path, encoding="utf-8") as handle:
        return [ExplanationCase.from_row(json.loads(line)) for line in handle if line.strip()]


def _fold(text: str) -> str:
    return " ".join(text.split()).lower()


def missing_groups(text: str, required: Sequence[Sequence[str]]) -> tuple[int, ...]:
    """Indexes of the required groups none of whose alternatives occurs in `text`."""
    folded = _fold(text)
    return tuple(
        index
        for index, group in enumerate(required)
        if not any(_fold(alternative) in folded for alternative in group)
    )


def wrong_phrases(text: str, wrong: Iterable[str]) -> tuple[str, ...]:
    """The wrong-sense phrases that occur in `text`."""
    folded = _fold(text)
    return tuple(phrase for phrase in wrong if _fold(phrase) in folded)


def judge(case: ExplanationCase, body: str | None, *, abstained: bool = False) -> Verdict:
    """The verdict on one answer: `body` None means no usable answer came back."""
    if abstained:
        return Verdict(case.id, "abstained")
    if body is None or not body.strip():
        return Verdict(case.id, "failed", missing=tuple(range(len(case.required))))
    missing = missing_groups(body, case.required)
    hits = wrong_phrases(body, case.wrong)
    outcome: Outcome = "right" if not missing and not hits else "wrong"
    return Verdict(case.id, outcome, missing=missing, wrong_hits=hits)


@dataclass
class Tally:
    """Counts of outcomes in a group of cases, and the two accuracies."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome] += 1

    @property
    def cases(self) -> int:
        return sum(self.counts.values())

    @property
    def answered(self) -> int:
        return self.cases - self.counts["abstained"]

    def as_dict(self) -> dict[str, Any]:
        right = self.counts["right"]
        return {
            "cases": self.cases,
            **self.counts,
            "answered": self.answered,
            # None where there is nothing to divide by, so an empty group reads as "-".
            "right_of_answered": right / self.answered if self.answered else None,
            "right_of_all": right / self.cases if self.cases else None,
        }


def summarize(cases: Sequence[ExplanationCase], verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """Scores overall, per field and per language; cases and verdicts pair up by id."""
    by_id = {verdict.case_id: verdict for verdict in verdicts}
    overall = Tally()
    fields: dict[str, Tally] = {}
    languages: dict[str, Tally] = {}
    for case in cases:
        verdict = by_id.get(case.id)
        if verdict is None:
            continue
        for tally in (
            overall,
            fields.setdefault(case.field, Tally()),
            languages.setdefault(case.language, Tally()),
        ):
            tally.add(verdict.outcome)
    return {
        "overall": overall.as_dict(),
        "fields": {name: tally.as_dict() for name, tally in sorted(fields.items())},
        "languages": {name: tally.as_dict() for name, tally in sorted(languages.items())},
    }
