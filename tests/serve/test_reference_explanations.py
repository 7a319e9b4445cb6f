"""Terms of the packaged reference glossary, said in a meeting on the real stack: the card is
the reference's field sense in the meeting's language (source "reference"), not the model's,
and it reaches the organisation glossary at stop."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from glossify.explain.reference import packaged_reference
from glossify.terms.candidates import normalize_term, term_id
from tests.serve.clients import AUTH, Listener, new_meeting_id, poll_until

MEETINGS = [
    # (language, lines, the reference term in the last line, its field's label)
    (
        "en",
        ["The node pool is at capacity again.", "Cordon the node before we drain it."],
        "Cordon",
        "Cloud",
    ),
    (
        "ko",
        ["이번 분기 재무제표 마감 일정입니다.", "감가상각 기준을 바꿔야 합니다."],
        "감가상각",
        "재무",
    ),
]


def card_for(events: list[dict[str, Any]], term: str) -> dict[str, Any] | None:
    return next(
        (
            e
            for e in events
            if e["type"] == "terms" and normalize_term(e["entity"]) == normalize_term(term)
        ),
        None,
    )


@pytest.mark.parametrize(("language", "lines", "term", "label"), MEETINGS)
async def test_a_reference_term_gets_its_field_sense_and_reaches_the_glossary(
    stack, language: str, lines: list[str], term: str, label: str
) -> None:
    # The organisation glossary answers before the explainer: no earlier run may hold the term.
    connection = await asyncpg.connect(stack.database_url)
    try:
        await connection.execute("DELETE FROM term WHERE termid = $1", term_id(term))
    finally:
        await connection.close()
    expected = packaged_reference().explain(term, "\n".join(lines), language)
    assert expected is not None and expected.domain == label

    mid = new_meeting_id(f"reference-{language}")
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=60) as http:
        started = await http.post(f"/meeting/{mid}/start", json={"language": language})
        assert started.status_code == 200, started.text
        async with Listener(f"{stack.ws_url}/meeting/{mid}/ws") as listener:
            for line in lines:
                posted = await http.post(
                    f"/meeting/{mid}/stt", json={"text": line, "is_final": True}
                )
                assert posted.status_code == 200, posted.text
            events = await listener.wait_for(lambda ev: card_for(ev, term) is not None, within=120)
        card = card_for(events, term)
        assert card is not None
        assert (card["source"], card["domain"], card["body"]) == (
            "reference",
            expected.domain,
            expected.body,
        )
        assert (await http.post(f"/meeting/{mid}/stop")).status_code == 202

        async def status() -> dict[str, Any]:
            return (await http.get(f"/meeting/{mid}/stop/status")).json()

        done = await poll_until(status, lambda s: s["status"] in ("done", "error"), within=90)
        assert done["status"] == "done", done
    connection = await asyncpg.connect(stack.database_url)
    try:
        saved = await connection.fetchval(
            "SELECT explanation FROM term WHERE termid = $1 AND domain = $2", term_id(term), label
        )
    finally:
        await connection.close()
    assert saved == expected.body
