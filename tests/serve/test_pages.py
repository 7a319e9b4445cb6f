"""The web pages, the glossary download and the organisation glossary on the real stack:
pages and files with their types and security headers, no way out of the static folder,
exports equal to ``GET /terms``, and a glossary correction that the next meeting is told."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from glossify.terms.candidates import term_id
from glossify.web.pages import STATIC_ROOT
from tests.credentials import MINT_KEY, READ_KEY, WRITE_KEY
from tests.serve.clients import AUTH, new_meeting_id, poll_until


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


@pytest.fixture
async def http(stack: Any) -> Any:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        yield client


async def mint(http: httpx.AsyncClient, mid: str, role: str) -> str:
    answer = await http.post(
        f"/meeting/{mid}/tokens", json={"role": role}, headers=bearer(MINT_KEY)
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def assert_error(answer: httpx.Response, status: int, code: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status"] == "error" and isinstance(body["message"], str), body
    if code is not None:
        assert body["code"] == code, body


def assert_page_headers(answer: httpx.Response, host: str) -> None:
    policy = answer.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == f"'self' ws://{host} wss://{host}"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"


# --- pages and files ------------------------------------------------------------------------


async def test_pages_and_files_have_their_types_and_strict_headers(stack: Any, http: Any) -> None:
    host = urlsplit(stack.base_url).netloc
    for path in ["/", "/m/weekly-sync_2", "/glossary"]:
        answer = await http.get(path)  # pages carry no data: no credential needed
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert "<html" in answer.text.lower()
        assert_page_headers(answer, host)
    modules = sorted(STATIC_ROOT.rglob("*.js"))
    assert modules, "the pages' JavaScript modules should be in glossify/web/static/"
    for module in modules:
        answer = await http.get(f"/static/{module.relative_to(STATIC_ROOT).as_posix()}")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
        assert answer.content == module.read_bytes()
        assert_page_headers(answer, host)
    for sheet in sorted(STATIC_ROOT.rglob("*.css")):
        answer = await http.get(f"/static/{sheet.relative_to(STATIC_ROOT).as_posix()}")
        assert answer.headers["content-type"] == "text/css; charset=utf-8"
    again = await http.get("/", headers={"if-none-match": answer.headers["etag"]})
    assert again.status_code in (200, 304)
    # The API's answers allow nothing at all.
    api = await http.get("/glossary/domains", headers=AUTH)
    assert api.headers["content-security-policy"].startswith("default-src 'none'")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert_error(await http.get("/m/not%20a%20meeting"), 404)
    assert_error(await http.get("/static/"), 404)
    assert_error(await http.get("/static/js"), 404)


async def raw_get(base_url: str, path: str) -> tuple[int, bytes]:
    """A GET of ``path`` exactly as written: HTTP clients tidy ``..`` away before sending."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        request = f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n"
        writer.write(request.encode())
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.partition(b"\r\n\r\n")[2]


TRAVERSALS = [
    "/static/../app.py",
    "/static/../routes.py",
    "/static/../../app.py",
    "/static/js/../../routes.py",
    "/static/..%2froutes.py",
    "/static/..%2Froutes.py",
    "/static/%2e%2e/routes.py",
    "/static/%2e%2e%2froutes.py",
    "/static/%2E%2E/%2E%2E/app.py",
    "/static/%252e%252e/routes.py",
    "/static/..%5croutes.py",
    "/static/..\\routes.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/../../../../../../etc/passwd",
    "/static/index.html%00.js",
    "/static/.%2e/routes.py",
]


async def test_nothing_outside_the_static_folder_is_served(stack: Any) -> None:
    for path in TRAVERSALS:
        status, body = await raw_get(stack.base_url, path)
        assert status == 404, (path, status, body[:200])
        assert b"import " not in body and b"root:" not in body, path


# --- the download ---------------------------------------------------------------------------

EXPORT_TERMS = [
    {"entity": "EBITDA bridge", "domain": "Finance", "body": 'How "EBITDA" moved, step by step.'},
    {
        "entity": "온보딩 퍼널",
        "domain": "마케팅",
        "body": "신규 사용자가 가입부터 첫 사용까지 거치는 단계.",
    },
    {"entity": "p99 | p50", "domain": "SRE", "body": "Latency percentiles, a | b, C:\\logs."},
    {"entity": "=HYPERLINK(1)", "domain": "Security", "body": "Never run by a spreadsheet."},
]


def row_of(item: dict[str, Any]) -> list[str]:
    fields = ("entity", "domain", "body", "source", "timestamp")
    return ["" if item.get(f) is None else str(item[f]) for f in fields]


def markdown_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if not line.startswith("| ") or line.startswith("| term |"):
            continue
        cells, cell, chars = [], "", iter(line[2:-2])
        for char in chars:
            if char == "\\":
                cell += next(chars)
            elif char == "|":
                cells.append(cell.removesuffix(" "))
                cell, _ = "", next(chars)
            else:
                cell += char
        rows.append([*cells, cell])
    return rows


async def test_export_in_three_formats_equals_the_meetings_terms(stack: Any, http: Any) -> None:
    mid = new_meeting_id("export")
    assert (await http.post(f"/meeting/{mid}/start", headers=AUTH)).status_code == 200
    posted = await http.post(f"/meeting/{mid}/terms", json=EXPORT_TERMS, headers=AUTH)
    assert posted.json()["accepted"] == len(EXPORT_TERMS), posted.text
    items = (await http.get(f"/meeting/{mid}/terms", headers=AUTH)).json()["terms"]
    assert len(items) == len(EXPORT_TERMS)
    listener = bearer(await mint(http, mid, "listener"))

    answers = {}
    for form, media_type in [
        ("csv", "text/csv; charset=utf-8"),
        ("md", "text/markdown; charset=utf-8"),
        ("json", "application/json"),
    ]:
        answer = await http.get(f"/meeting/{mid}/export", params={"format": form}, headers=listener)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == media_type
        disposition = f'attachment; filename="{mid}-glossary.{form}"'
        assert answer.headers["content-disposition"] == disposition
        answers[form] = answer.content

    assert answers["csv"].startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(answers["csv"].decode("utf-8-sig"), newline="")))
    assert parsed[0] == ["term", "domain", "explanation", "source", "timestamp"]
    unguarded = [[c[1:] if c.startswith("'=") else c for c in row] for row in parsed[1:]]
    assert unguarded == [row_of(item) for item in items]
    assert "온보딩 퍼널" in answers["csv"].decode("utf-8-sig")

    assert markdown_rows(answers["md"].decode()) == [row_of(item) for item in items]
    assert json.loads(answers["json"]) == {"meeting_id": mid, "terms": items}

    bad = await http.get(f"/meeting/{mid}/export", params={"format": "xlsx"}, headers=AUTH)
    assert_error(bad, 400, "invalid_format")
    assert_error(await http.get(f"/meeting/{mid}/export", headers=AUTH), 400, "invalid_format")
    assert_error(await http.get(f"/meeting/{mid}/export?format=csv"), 401)
    other = bearer(await mint(http, new_meeting_id("other"), "host"))
    assert_error(await http.get(f"/meeting/{mid}/export?format=csv", headers=other), 403)
    absent = await http.get(f"/meeting/{new_meeting_id('nope')}/export?format=csv", headers=AUTH)
    assert_error(absent, 404, "meeting_not_found")


# --- the organisation glossary --------------------------------------------------------------


def made_up_acronym() -> str:
    """An all-capitals word no dictionary knows: the local detector finds it on its own."""
    return "ZQ" + "".join(random.choice("BCDFGHJKLMNPRSTVWX") for _ in range(4))


async def stopped(http: httpx.AsyncClient, mid: str) -> dict[str, Any]:
    assert (await http.post(f"/meeting/{mid}/stop", headers=AUTH)).status_code == 202

    async def status() -> dict[str, Any]:
        answer = await http.get(f"/meeting/{mid}/stop/status", headers=AUTH)
        return dict(answer.json())

    return dict(await poll_until(status, lambda s: s["status"] in ("done", "error"), 90))


async def search(http: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    answer = await http.get("/glossary/terms", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_corrected_glossary_entry_is_what_the_next_meeting_is_told(
    stack: Any, http: Any
) -> None:
    word = made_up_acronym()
    domain = "Testing"
    rows = [
        {"entity": word, "domain": domain, "body": "The first, wrong, explanation."},
        *(
            {"entity": f"{word}-{n}", "domain": domain, "body": f"Variant {n} of the rollout."}
            for n in range(4)
        ),
        {"entity": f"{word} 온보딩", "domain": "마케팅", "body": "한국어 설명도 그대로 남는다."},
    ]
    first = new_meeting_id("gloss-a")
    assert (await http.post(f"/meeting/{first}/start", headers=AUTH)).status_code == 200
    # The key with every scope holds glossary:write: these terms enter the glossary at stop.
    posted = await http.post(f"/meeting/{first}/terms", json=rows, headers=AUTH)
    assert posted.json()["accepted"] == len(rows), posted.text
    assert (await stopped(http, first)) == {"status": "done", "upserted": len(rows), "error": None}

    # Any meeting token reads the glossary, whatever its meeting and role; so does meetings:read.
    listener = bearer(await mint(http, new_meeting_id("elsewhere"), "listener"))
    everything = await search(http, listener, q=word.lower(), limit=50)
    # In the database's collation order, whose word and punctuation rules Python's sort lacks.
    assert sorted(t["term"] for t in everything["terms"]) == sorted(r["entity"] for r in rows)
    assert everything["next_after"] is None
    assert everything["terms"][0] == {
        "termid": str(term_id(word)),
        "term": word,
        "domain": domain,
        "explanation": "The first, wrong, explanation.",
    }
    pages, after = [], None
    while True:
        page = await search(
            http, bearer(READ_KEY), q=word, limit=2, **({"after": after} if after else {})
        )
        pages.append(page["terms"])
        after = page["next_after"]
        if after is None:
            break
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [t for p in pages for t in p] == everything["terms"]
    by_explanation = await search(http, listener, q="VARIANT 2 OF THE")
    assert f"{word}-2" in [t["term"] for t in by_explanation["terms"]]
    korean = await search(http, listener, q=f"{word} 온보딩", domain="마케팅")
    assert [t["explanation"] for t in korean["terms"]] == ["한국어 설명도 그대로 남는다."]
    assert (await search(http, listener, q=word, domain="Nope"))["terms"] == []
    domains = (await http.get("/glossary/domains", headers=listener)).json()["domains"]
    assert {domain, "마케팅"} <= set(domains)
    assert_error(await http.get("/glossary/terms", headers=bearer(MINT_KEY)), 403, "missing_scope")
    assert_error(await http.get("/glossary/terms"), 401, "missing_credentials")
    assert_error(await http.get("/glossary/terms?limit=0", headers=AUTH), 400, "invalid_limit")
    assert_error(await http.get("/glossary/terms?after=zz", headers=AUTH), 400, "invalid_after")

    termid = str(term_id(word))
    entry = f"/glossary/terms/{termid}/{domain}"
    fixed = {"explanation": f"{word} is the staged rollout service of the test team."}
    for credential, code in [
        (await mint(http, first, "host"), "key_required"),
        (WRITE_KEY, "missing_scope"),
        (READ_KEY, "missing_scope"),
    ]:
        assert_error(await http.put(entry, json=fixed, headers=bearer(credential)), 403, code)
    assert_error(await http.delete(entry, headers=bearer(WRITE_KEY)), 403, "missing_scope")
    corrected = await http.put(entry, json=fixed, headers=AUTH)
    assert corrected.status_code == 200, corrected.text
    assert corrected.json() == {
        "termid": termid,
        "term": word,
        "domain": domain,
        "explanation": fixed["explanation"],
    }
    one = (await http.get(f"/glossary/terms/{termid}", headers=listener)).json()
    assert one == {
        "termid": termid,
        "term": word,
        "explanations": [{"domain": domain, "explanation": fixed["explanation"]}],
    }
    mismatch = await http.put(entry, json={**fixed, "term": "Kubernetes"}, headers=AUTH)
    assert_error(mismatch, 422, "term_mismatch")
    unknown = f"/glossary/terms/{uuid.uuid4()}/{domain}"
    assert_error(await http.put(unknown, json=fixed, headers=AUTH), 404, "term_not_found")
    assert_error(await http.put(entry, json={"explanation": ""}, headers=AUTH), 422)
    assert_error(await http.get("/glossary/terms/not-a-uuid", headers=AUTH), 400)

    # A new meeting hears the word: the detector finds it, the glossary answers it.
    second = new_meeting_id("gloss-b")
    assert (await http.post(f"/meeting/{second}/start", headers=AUTH)).status_code == 200
    line = {"text": f"Everyone depends on {word} now.", "is_final": True}
    assert (await http.post(f"/meeting/{second}/stt", json=line, headers=AUTH)).status_code == 200

    async def told() -> list[dict[str, Any]]:
        answer = await http.get(f"/meeting/{second}/terms", headers=AUTH)
        return [t for t in answer.json()["terms"] if t["entity"] == word]

    heard = await poll_until(told, bool, 60)
    assert heard[0]["body"] == fixed["explanation"]
    assert (heard[0]["source"], heard[0]["domain"]) == ("glossary", domain)

    deleted = await http.delete(entry, headers=AUTH)
    assert deleted.status_code == 204, deleted.text
    assert_error(await http.get(f"/glossary/terms/{termid}", headers=AUTH), 404, "term_not_found")
    assert_error(await http.delete(entry, headers=AUTH), 404, "term_not_found")
    left = await search(http, listener, q=word, limit=50)
    assert sorted(t["term"] for t in left["terms"]) == sorted(r["entity"] for r in rows[1:])
    for term in left["terms"]:  # leave the shared glossary as it was
        path = f"/glossary/terms/{term['termid']}/{term['domain']}"
        assert (await http.delete(path, headers=AUTH)).status_code == 204
    assert (await search(http, listener, q=word))["terms"] == []
    assert re.fullmatch(r"ZQ[A-Z]{4}", word)
