"""A meeting's glossary as CSV, Markdown and JSON: what a spreadsheet or a reader gets back."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from glossify.web.export import (
    BOM,
    COLUMNS,
    attachment,
    guard_formula,
    markdown_cell,
    render,
    render_csv,
    render_markdown,
)

TERMS: list[dict[str, Any]] = [
    {
        "type": "terms",
        "seq": 3,
        "termid": "5f0c0f5e-0000-5000-8000-000000000001",
        "entity": "EBITDA bridge",
        "domain": "Finance",
        "body": 'Shows how "EBITDA" moved, step by step, between two periods.',
        "source": "local",
        "timestamp": "2026-11-29T10:00:00.000Z",
    },
    {
        "type": "terms",
        "seq": 5,
        "termid": "5f0c0f5e-0000-5000-8000-000000000002",
        "entity": "온보딩 퍼널",
        "domain": "마케팅",
        "body": "신규 사용자가 가입부터 첫 사용까지 거치는 단계.\nA second line | with a pipe.",
        "source": "external",
        "timestamp": None,
    },
    {
        "type": "terms",
        "seq": 9,
        "termid": "5f0c0f5e-0000-5000-8000-000000000003",
        "entity": '=HYPERLINK("http://x")',
        "domain": "-Ops",
        "body": "C:\\path\\to | nowhere",
        "source": "glossary",
        "timestamp": "2026-11-29T10:00:01.000Z",
    },
]


def expected_rows(terms: list[dict[str, Any]]) -> list[list[str]]:
    fields = ("entity", "domain", "body", "source", "timestamp")
    return [["" if t[f] is None else t[f] for f in fields] for t in terms]


def unguard(cell: str) -> str:
    return cell[1:] if cell[:2] in {"'=", "'+", "'-", "'@"} else cell


def test_csv_is_rfc4180_with_a_bom_and_reads_back_to_the_terms() -> None:
    text = render_csv(TERMS)
    assert text.startswith(BOM + "term,domain,explanation,source,timestamp\r\n")
    # Line breaks inside a quoted field stay; every record ends with CRLF.
    assert text.endswith("\r\n")
    assert '"Shows how ""EBITDA"" moved, step by step, between two periods."' in text
    parsed = list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))
    assert parsed[0] == list(COLUMNS)
    assert [[unguard(c) for c in row] for row in parsed[1:]] == expected_rows(TERMS)


def test_csv_bytes_are_utf8_and_korean_survives() -> None:
    rendered = render("m-1", TERMS, "csv")
    assert rendered.body.startswith(b"\xef\xbb\xbf")
    assert "온보딩 퍼널".encode() in rendered.body
    assert (rendered.media_type, rendered.extension) == ("text/csv; charset=utf-8", "csv")


def test_cells_a_spreadsheet_would_run_are_written_as_text() -> None:
    assert guard_formula("=1+2") == "'=1+2"
    assert guard_formula("+31 6 1234") == "'+31 6 1234"
    assert guard_formula("@SUM(A1)") == "'@SUM(A1)"
    assert guard_formula("-Ops") == "'-Ops"
    assert guard_formula("EBITDA") == "EBITDA"
    assert "'=HYPERLINK" in render_csv(TERMS)


def parse_markdown_row(line: str) -> list[str]:
    """Cells of one table row: unescaped pipes separate, ``\\|`` and ``\\\\`` are literal."""
    assert line.startswith("| ") and line.endswith(" |")
    cells, cell, chars = [], "", iter(line[2:-2])
    for char in chars:
        if char == "\\":
            cell += next(chars)
        elif char == "|":
            cells.append(cell.removesuffix(" "))
            cell = ""
            assert next(chars) == " "
        else:
            cell += char
    return [*cells, cell]


def test_markdown_is_one_table_with_pipes_escaped() -> None:
    text = render_markdown("m-1", TERMS)
    lines = text.splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| term | domain | explanation | source | timestamp |"
    assert table[1] == "|---|---|---|---|---|"
    assert len(table) == 2 + len(TERMS)
    rows = [parse_markdown_row(line) for line in table[2:]]
    flattened = [[c.replace("\n", " ") for c in row] for row in expected_rows(TERMS)]
    assert rows == flattened


def test_markdown_cell_escapes_backslashes_pipes_and_line_breaks() -> None:
    assert markdown_cell("a|b") == "a\\|b"
    assert markdown_cell("C:\\x") == "C:\\\\x"
    assert markdown_cell("one\r\ntwo\nthree") == "one two three"


def test_json_is_the_meeting_and_its_items_unchanged() -> None:
    rendered = render("m-1", TERMS, "json")
    assert rendered.media_type == "application/json"
    assert json.loads(rendered.body) == {"meeting_id": "m-1", "terms": TERMS}
    assert "온보딩".encode() in rendered.body  # not \\uXXXX escapes


def test_unknown_format_and_the_download_name() -> None:
    with pytest.raises(ValueError):
        render("m-1", TERMS, "xlsx")
    assert attachment("m-1", "md") == 'attachment; filename="m-1-glossary.md"'
    assert render("m-1", [], "csv").body == (BOM + ",".join(COLUMNS) + "\r\n").encode()


def test_terms_the_explainer_abstained_on_are_not_exported() -> None:
    abstained = {
        "type": "terms",
        "seq": 11,
        "termid": "5f0c0f5e-0000-5000-8000-000000000004",
        "entity": "Ooth flow",
        "domain": "",
        "body": "No confident explanation.",
        "source": "local",
        "timestamp": "2026-11-29T10:05:00.000Z",
        "abstained": True,
    }
    for form in ("csv", "md", "json"):
        assert render("m-1", [*TERMS, abstained], form) == render("m-1", TERMS, form), form
    assert b"Ooth flow" not in render("m-1", [abstained], "csv").body
