"""The scorer's groups (field, language, kind) and the benchmark's splits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.term_detection as term_detection
from glossify.terms.candidates import Candidate
from glossify.terms.evaluation import evaluate, row_group


class _FixedDetector:
    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.languages: list[str | None] = []

    def detect(self, text: str, language: str | None = "en") -> list[Candidate]:
        self.languages.append(language)
        return [Candidate(word, "Skill", 0.9, 0) for word in self.words if word in text]


ROWS = [
    {
        "id": "en-fin-001",
        "language": "en",
        "field": "finance",
        "text": "The 10-K and the going concern note, says Jordan.",
        "gold": ["10-K", "going concern"],
        "acceptable": ["note"],
        "kinds": {"10-K": "alnum_code", "going concern": "multiword_common"},
    },
    {
        "id": "ko-mfg-001",
        "language": "ko",
        "field": "manufacturing",
        "text": "CPK가 떨어졌어요.",
        "gold": ["CPK"],
        "acceptable": [],
        "kinds": {"CPK": "embedded_english"},
    },
]


def test_rows_group_by_field_then_domain() -> None:
    assert row_group({"field": "legal", "domain": "x"}) == "legal"
    assert row_group({"domain": "eng"}) == "eng"
    assert row_group({}) == "all"


def test_scores_per_field_language_and_kind() -> None:
    detector = _FixedDetector(["10-K", "Jordan", "CPK"])
    report = evaluate(detector, ROWS)
    assert detector.languages == ["en", "ko"]
    assert set(report["domains"]) == {"finance", "manufacturing"}
    assert report["domains"]["finance"]["recall"] == pytest.approx(0.5)
    assert report["domains"]["finance"]["precision"] == pytest.approx(0.5)
    assert report["languages"]["ko"]["recall"] == 1.0
    assert report["kinds"] == {
        "alnum_code": {"gold": 1, "found": 1, "recall": 1.0},
        "multiword_common": {"gold": 1, "found": 0, "recall": 0.0},
        "embedded_english": {"gold": 1, "found": 1, "recall": 1.0},
    }
    assert report["rows"][0]["false_positives"] == ["Jordan"]


def test_old_rows_without_kinds_count_as_unlabelled() -> None:
    rows = [{"domain": "eng", "text": "CPK", "gold": ["CPK"], "acceptable": []}]
    report = evaluate(_FixedDetector(["CPK"]), rows)
    assert report["kinds"] == {"unlabelled": {"gold": 1, "found": 1, "recall": 1.0}}
    assert set(report["domains"]) == {"eng"}


def _write(path: Path) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    return path


def test_measurement_split_prints_no_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(term_detection.SPLITS, "test", _write(tmp_path / "t.jsonl"))
    assert term_detection.main(["--split", "test", "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    assert "rows" not in report
    assert set(report) >= {"overall", "domains", "languages", "kinds", "timing"}
    assert "going concern" not in out and "Jordan" not in out
    assert term_detection.main(["--split", "test"]) == 0
    out = capsys.readouterr().out
    assert "overall" in out and "Misses" not in out and "Jordan" not in out


def test_readable_split_prints_errors_and_filters_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(term_detection.SPLITS, "dev", _write(tmp_path / "d.jsonl"))
    assert term_detection.main(["--split", "dev", "--language", "en", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in report["rows"]] == ["en-fin-001"]
    assert set(report["languages"]) == {"en"}
