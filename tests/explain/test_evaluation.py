"""Scoring of explanations against required concepts and wrong senses (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glossify.explain.evaluation import (
    ExplanationCase,
    Verdict,
    judge,
    load_cases,
    missing_groups,
    summarize,
    wrong_phrases,
)

PODS = ExplanationCase(
    id="xen-cloud-001",
    language="en",
    field="cloud",
    term="pods",
    line="Two of the pods are stuck in CrashLoopBackOff.",
    context=("Okay, I'm looking at the cluster dashboard now.",),
    required=(("contain",), ("kubernetes", "k8s", "smallest")),
    wrong=("whale", "pea pod"),
)
SRE_KO = ExplanationCase(
    id="xko-cloud-002",
    language="ko",
    field="cloud",
    term="SRE",
    line="SRE 팀에서 배포를 멈추라고 했습니다.",
    required=(("사이트 신뢰성", "site reliability"), ("운영", "서비스")),
    wrong=("검색 엔진",),
)
LEAD = ExplanationCase(
    id="xen-mkt-001",
    language="en",
    field="sales_marketing",
    term="lead",
    line="Route every inbound lead to Jamal.",
    required=(("potential customer", "prospect"),),
    wrong=("metal",),
)


def test_right_needs_every_group_case_insensitively() -> None:
    body = "The smallest deployable unit in Kubernetes: one or more CONTAINERS run together."
    assert judge(PODS, body) == Verdict("xen-cloud-001", "right")


def test_a_missing_group_is_wrong_and_named() -> None:
    verdict = judge(PODS, "A group of Kubernetes machines.")
    assert verdict.outcome == "wrong"
    assert verdict.missing == (0,)
    assert not verdict.right


def test_a_wrong_sense_phrase_overrides_the_required_groups() -> None:
    verdict = judge(PODS, "Like a whale pod: containers grouped in Kubernetes.")
    assert verdict.outcome == "wrong"
    assert verdict.missing == ()
    assert verdict.wrong_hits == ("whale",)


def test_matching_ignores_line_breaks_and_runs_of_spaces() -> None:
    assert missing_groups("a  potential\ncustomer", LEAD.required) == ()
    assert wrong_phrases("a pea\n pod", PODS.wrong) == ("pea pod",)


def test_korean_alternatives_match_as_substrings() -> None:
    body = "사이트 신뢰성 엔지니어링: 서비스의 안정적인 운영을 맡는 역할입니다."
    assert judge(SRE_KO, body).right
    assert judge(SRE_KO, "검색 엔진 최적화로 서비스를 운영합니다.").wrong_hits == ("검색 엔진",)


def test_abstention_and_failure_are_kept_apart() -> None:
    assert judge(PODS, None, abstained=True).outcome == "abstained"
    assert judge(PODS, "", abstained=True).outcome == "abstained"
    failed = judge(PODS, None)
    assert failed.outcome == "failed"
    assert failed.missing == (0, 1)
    assert judge(PODS, "   ").outcome == "failed"


def test_summary_gives_accuracy_with_and_without_abstentions() -> None:
    cases = [PODS, SRE_KO, LEAD]
    verdicts = [
        judge(PODS, "The smallest unit in Kubernetes, grouping containers."),
        judge(SRE_KO, "", abstained=True),
        judge(LEAD, "A heavy metal."),
    ]
    report = summarize(cases, verdicts)
    overall = report["overall"]
    assert overall["cases"] == 3
    assert (overall["right"], overall["wrong"], overall["abstained"], overall["failed"]) == (
        1,
        1,
        1,
        0,
    )
    assert overall["answered"] == 2
    assert overall["right_of_answered"] == pytest.approx(0.5)
    assert overall["right_of_all"] == pytest.approx(1 / 3)
    assert report["fields"]["cloud"]["cases"] == 2
    assert report["fields"]["cloud"]["right_of_answered"] == pytest.approx(1.0)
    assert report["languages"]["ko"]["right_of_answered"] is None  # nothing answered
    assert report["languages"]["ko"]["right_of_all"] == 0.0
    assert list(report["fields"]) == ["cloud", "sales_marketing"]


def test_a_failed_answer_counts_as_answered_and_not_right() -> None:
    report = summarize([PODS], [judge(PODS, None)])["overall"]
    assert report["answered"] == 1
    assert report["right_of_answered"] == 0.0


def test_cases_without_a_verdict_are_left_out() -> None:
    report = summarize([PODS, LEAD], [judge(LEAD, "A prospect.")])
    assert report["overall"]["cases"] == 1
    assert "cloud" not in report["fields"]


def test_meeting_text_puts_the_line_last() -> None:
    assert PODS.meeting_text() == (
        "Okay, I'm looking at the cluster dashboard now.\nTwo of the pods are stuck in "
        "CrashLoopBackOff."
    )
    assert LEAD.meeting_text() == LEAD.line


def test_cases_load_from_jsonl(tmp_path: Path) -> None:
    row = {
        "id": "xen-cloud-001",
        "language": "en",
        "field": "cloud",
        "term": "pods",
        "line": PODS.line,
        "context": list(PODS.context),
        "required": [list(group) for group in PODS.required],
        "wrong": list(PODS.wrong),
        "notes": "ignored",
    }
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(row) + "\n\n", encoding="utf-8")
    assert load_cases(path) == [PODS]


@pytest.mark.parametrize("split", ["dev", "test"])
def test_the_shipped_splits_load(split: str) -> None:
    # Only the shape is checked: the test split's rows are for measurement, not for reading.
    path = Path(__file__).resolve().parents[2] / "bench" / "data" / f"explanations-{split}.jsonl"
    cases = load_cases(path)
    assert cases
    assert all(case.term.lower() in case.line.lower() and case.required for case in cases)
