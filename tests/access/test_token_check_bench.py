"""The access-check benchmark runs and prints its table."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from bench import token_check


def test_main_prints_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    table = token_check.main(["--iterations", "3", "--repeats", "2"])
    assert capsys.readouterr().out.strip() == table
    lines = table.splitlines()
    assert lines[0] == "| check | configured | µs per check |"
    rows = [line.split(" | ")[:2] for line in lines[2:]]
    assert rows == [
        ["| REST, service key", "1 key"],
        ["| REST, service key", "3 keys"],
        ["| REST, meeting token", "1 secret"],
        ["| REST, meeting token", "3 secrets"],
        ["| socket open, meeting token", "1 secret"],
        ["| socket open, meeting token", "3 secrets"],
        ["| rate limit take", "1 key warm"],
    ]
    for line in lines[2:]:
        assert float(line.rstrip(" |").rsplit("| ", 1)[1]) > 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(SystemExit):
        token_check.main(["--iterations", "0"])


def test_imports_only_the_standard_library_and_glossify() -> None:
    tree = ast.parse(Path(token_check.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    outside = {name for name in imported if name not in sys.stdlib_module_names}
    assert outside == {"glossify"}
