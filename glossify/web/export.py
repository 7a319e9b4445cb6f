"""A meeting's glossary as a download: CSV, Markdown or JSON (pure: no Ray, no I/O).

Each row has the columns ``term, domain, explanation, source, timestamp``, taken from the items
of ``GET /meeting/{mid}/terms`` (``entity``, ``domain``, ``body``, ``source``, ``timestamp``).
Terms the explainer abstained on (``"abstained": true``) have no explanation and are left out.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

COLUMNS = ("term", "domain", "explanation", "source", "timestamp")
# Which field of a terms item fills each column.
_FIELDS = ("entity", "domain", "body", "source", "timestamp")
# A spreadsheet takes a cell starting with one of these for a formula ("=HYPERLINK(...)" said
# in a meeting or posted as an external term); such a cell is written with a leading "'".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV file as UTF-8 (Korean, accents) only when it starts with a BOM.
BOM = "\ufeff"
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Rendered:
    body: bytes
    media_type: str
    extension: str


def rows(terms: Iterable[dict[str, Any]]) -> list[list[str]]:
    """One row of column values per item; a missing or null field is an empty cell."""
    return [["" if term.get(f) is None else str(term[f]) for f in _FIELDS] for term in terms]


def guard_formula(cell: str) -> str:
    """The cell as a spreadsheet will show it as text, never run it."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def render_csv(terms: Iterable[dict[str, Any]]) -> str:
    """RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a comma, a quote
    or a line break (quotes doubled), a header row; preceded by a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows([guard_formula(cell) for cell in row] for row in rows(terms))
    return BOM + out.getvalue()


def markdown_cell(cell: str) -> str:
    """A table cell: backslashes and pipes escaped, line breaks as spaces."""
    text = cell.replace("\\", "\\\\").replace("|", "\\|")
    return _LINE_BREAKS.sub(" ", text)


def render_markdown(meeting_id: str, terms: Iterable[dict[str, Any]]) -> str:
    """A heading and a GitHub-flavoured Markdown table with the CSV's columns."""
    lines = [
        f"# Glossary of {meeting_id}",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in rows(terms)]
    return "\n".join(lines) + "\n"


def render_json(meeting_id: str, terms: list[dict[str, Any]]) -> str:
    return json.dumps({"meeting_id": meeting_id, "terms": terms}, ensure_ascii=False, indent=1)


FORMATS = ("csv", "md", "json")


def explained(terms: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The terms that carry an explanation: not those the explainer abstained on."""
    return [term for term in terms if not term.get("abstained")]


def render(meeting_id: str, terms: list[dict[str, Any]], form: str) -> Rendered:
    """The explained ``terms`` in ``form`` (one of ``FORMATS``; anything else is a ValueError)."""
    terms = explained(terms)
    if form == "csv":
        return Rendered(render_csv(terms).encode(), "text/csv; charset=utf-8", "csv")
    if form == "md":
        text = render_markdown(meeting_id, terms)
        return Rendered(text.encode(), "text/markdown; charset=utf-8", "md")
    if form == "json":
        text = render_json(meeting_id, terms)
        return Rendered(text.encode(), "application/json", "json")
    raise ValueError(f"unknown format {form!r}")


def attachment(meeting_id: str, extension: str) -> str:
    """The Content-Disposition of a download (meeting ids are ``[A-Za-z0-9_-]``: no quoting)."""
    return f'attachment; filename="{meeting_id}-glossary.{extension}"'
