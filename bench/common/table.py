"""The one table formatter of the benchmarks: fixed-width plain text (what they print) or
Markdown (for the README and docs), from a list of columns and the rows.

    print(format_table([Column("K", 2, lambda r: str(r["k"])), ...], rows))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Row = TypeVar("Row")


def cell(value: float | None, digits: int = 2, scale: float = 1.0) -> str:
    """A table cell: the number rounded, or "-" where there is none."""
    return "-" if value is None else f"{value * scale:.{digits}f}"


@dataclass(frozen=True)
class Column(Generic[Row]):
    """One column: its title, the plain-text width (0: no padding), the cell text of a row,
    the alignment ('>' right, '<' left) and what separates it from the column before."""

    title: str
    width: int
    text: Callable[[Row], str]
    align: str = ">"
    gap: str = " "

    def pad(self, text: str) -> str:
        return format(text, f"{self.align}{self.width}") if self.width else text


def format_table(
    columns: Sequence[Column[Row]], rows: Iterable[Row], markdown: bool = False
) -> str:
    """The title line and one line per row; a cell wider than its column is not cut."""
    if markdown:
        return _markdown(columns, rows)
    lines = ["".join(_gap(i, c) + c.pad(c.title) for i, c in enumerate(columns))]
    for row in rows:
        lines.append("".join(_gap(i, c) + c.pad(c.text(row)) for i, c in enumerate(columns)))
    return "\n".join(lines)


def _gap(index: int, column: Column[Row]) -> str:
    return column.gap if index else ""


def _markdown(columns: Sequence[Column[Row]], rows: Iterable[Row]) -> str:
    def line(cells: Iterable[str]) -> str:
        return "| " + " | ".join(text.strip().replace("|", "\\|") for text in cells) + " |"

    rule = "|" + "|".join("---:" if c.align == ">" else ":---" for c in columns) + "|"
    body = [line(c.text(row) for c in columns) for row in rows]
    return "\n".join([line(c.title for c in columns), rule, *body])
