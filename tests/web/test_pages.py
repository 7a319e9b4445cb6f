"""Which static files may be served, and the policy pages are served with (no Ray)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from glossify.web.pages import STATIC_ROOT, page_policy, static_file


@pytest.fixture
def root(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html>")
    (static / "js" / "app.js").write_text("export {};")
    (static / "js" / "notes.py").write_text("secret = 1")
    (static / ".env").write_text("KEY=1")
    (tmp_path / "app.py").write_text("import os")
    (tmp_path / "outside.js").write_text("export {};")
    os.symlink(tmp_path / "outside.js", static / "js" / "link.js")
    return static


def test_files_inside_the_folder_with_a_known_extension_are_served(root: Path) -> None:
    assert static_file(root, "index.html") == (root / "index.html").resolve()
    assert static_file(root, "js/app.js") == (root / "js" / "app.js").resolve()


@pytest.mark.parametrize(
    "relative",
    [
        "",
        "js",
        "js/",
        "../app.py",
        "js/../../app.py",
        "js/../index.html",
        "./index.html",
        "..\\app.py",
        "js//app.js",
        "/etc/passwd",
        ".env",
        "js/notes.py",
        "js/link.js",
        "index.html\x00.js",
        "missing.js",
        "a/" * 300 + "x.js",
    ],
)
def test_anything_else_is_not_found(root: Path, relative: str) -> None:
    assert static_file(root, relative) is None


def test_the_policy_allows_this_origin_only() -> None:
    policy = page_policy("127.0.0.1:8000")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self' ws://127.0.0.1:8000 wss://127.0.0.1:8000"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert "ws://[::1]:8000" in page_policy("[::1]:8000")


@pytest.mark.parametrize("host", [None, "", "evil.com; script-src *", "a b", "x" * 300])
def test_a_strange_host_header_never_reaches_the_policy(host: str | None) -> None:
    policy = page_policy(host)
    assert "connect-src 'self';" in policy
    assert "script-src *" not in policy


def test_the_package_ships_its_pages() -> None:
    for name in ["index.html", "meeting.html", "glossary.html"]:
        assert static_file(STATIC_ROOT, name) is not None, name
