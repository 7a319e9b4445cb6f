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
    # (language, lines, the reference term in the last line, its field's label, a word of
    # the field sense's definition)
    (
        "en",
        ["The node pool is at capacity again.", "Cordon the node before we drain it."],
        "Cordon",
        "Cloud",
        "unschedulable",
    ),
    (
        "ko",
        ["이번 분기 재무제표 마감 일정입니다.", "감가상각 기준을 바꿔야 합니다."],
        "감가상각",
        "재무",
        "비용",
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


async def forget(stack, term: str) -> None:
    """The organisation glossary answers before the explainer: no earlier run may hold it."""
    connection = await asyncpg.connect(stack.database_url)
    try:
        await connection.execute("DELETE FROM term WHERE termid = $1", term_id(term))
    finally:
        await connection.close()


async def saved_explanation(stack, term: str, domain: str) -> str | None:
    connection = await asyncpg.connect(stack.database_url)
    try:
        return await connection.fetchval(
            "SELECT explanation FROM term WHERE termid = $1 AND domain = $2", term_id(term), domain
        )
    finally:
        await connection.close()


async def meeting_card(stack, language: str, lines: list[str], term: str) -> dict[str, Any]:
    """The card ``term`` gets in a new meeting that hears ``lines``, which is then stopped
    (its glossary upserted)."""
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
        assert (await http.post(f"/meeting/{mid}/stop")).status_code == 202

        async def status() -> dict[str, Any]:
            return (await http.get(f"/meeting/{mid}/stop/status")).json()

        done = await poll_until(status, lambda s: s["status"] in ("done", "error"), within=90)
        assert done["status"] == "done", done
    card = card_for(events, term)
    assert card is not None
    return card


@pytest.mark.parametrize(("language", "lines", "term", "label", "word"), MEETINGS)
async def test_a_reference_term_gets_its_field_sense_and_reaches_the_glossary(
    stack, language: str, lines: list[str], term: str, label: str, word: str
) -> None:
    await forget(stack, term)
    card = await meeting_card(stack, language, lines, term)
    assert (card["source"], card["domain"]) == ("reference", label)
    assert word in card["body"]
    # The card is the reference's, as it is written, and the organisation glossary keeps it.
    expected = packaged_reference().explain(term, "\n".join(lines), language)
    assert expected is not None and card["body"] == expected.body
    assert await saved_explanation(stack, term, label) == card["body"]


async def test_a_saved_reference_card_does_not_decide_the_next_meetings_sense(stack) -> None:
    await forget(stack, "calibration")
    plant = ["The gauge failed calibration, so the CMM results are suspect."]
    first = await meeting_card(stack, "en", plant, "calibration")
    assert (first["source"], first["domain"]) == ("reference", "Manufacturing")
    assert await saved_explanation(stack, "calibration", "Manufacturing") == first["body"]
    model = ["The classifier needs calibration: its predicted probabilities are too high."]
    second = await meeting_card(stack, "en", model, "calibration")
    assert (second["source"], second["domain"]) == ("reference", "Data")
    assert "probabilit" in second["body"]
