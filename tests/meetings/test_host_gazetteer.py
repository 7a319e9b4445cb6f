"""The meeting host adds the organisation glossary's terms to what the detector found in a
line (the TermDetector replica cannot reach the database). No Ray: the deployment handles are
stand-ins; the glossary is read from the real PostgreSQL server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import glossify.meetings.host as host
from glossify.config.settings import load_config
from glossify.store.postgres import Store
from glossify.terms.candidates import Candidate, normalize_term, term_id
from glossify.terms.gazetteer import GlossaryGazetteer


class _Remote:
    def __init__(self, result: Any) -> None:
        self.result = result

    async def remote(self, *args: Any) -> Any:
        return self.result


class _Handle:
    def __init__(self) -> None:
        self.detect = _Remote([Candidate("CPK", "Skill", 0.9, 4)])


@pytest.fixture
def handles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host.serve, "get_deployment_handle", lambda *a, **k: _Handle())


async def test_glossary_terms_said_in_a_line_are_detected(handles: None) -> None:
    async def known() -> GlossaryGazetteer:
        return GlossaryGazetteer(["cpk", "skip level", "Kanban"])

    backends = host.ServeBackends("app", known)
    found = await backends.detect("Our CPK and the skip-level review", "en")
    assert [c.text for c in found] == ["CPK", "skip level"]


async def test_a_glossary_outage_leaves_detection_alone(handles: None) -> None:
    async def broken() -> GlossaryGazetteer:
        raise ConnectionError("database gone")

    found = await host.ServeBackends("app", broken).detect("Our CPK", "en")
    assert [c.text for c in found] == ["CPK"]
    assert [c.text for c in await host.ServeBackends("app").detect("Our CPK", "en")] == ["CPK"]


async def test_the_gazetteer_is_rebuilt_only_when_the_glossary_changed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every stream re-reads the glossary every few seconds; rebuilding the matcher each time
    # cost a host seconds of its event loop once the glossary held thousands of terms.
    monkeypatch.setattr(host, "GLOSSARY_CACHE_S", 0.0)
    config = load_config({}, env={"DATABASE_URL": database_url})
    meeting_host = host.MeetingHost(0, config.model_dump_json())
    store = await Store.connect(database_url)
    term = f"Gazetteer probe {uuid.uuid4().hex[:8]}"
    try:
        await store.ensure_schema()
        meeting_host._store = store
        first = await meeting_host._gazetteer()
        assert await meeting_host._gazetteer() is first  # re-read, unchanged: kept
        meeting = f"gazetteer-{uuid.uuid4().hex[:8]}"
        await store.open_meeting(meeting, None)
        event = {"type": "terms", "entity": term, "domain": "Testing", "body": "A probe."}
        await store.append_term(meeting, term_id(term), normalize_term(term), {**event, "seq": 1})
        await store.upsert_glossary(meeting)
        changed = await meeting_host._gazetteer()
        assert changed is not first
        assert [m.term for m in changed.find(f"the {term.lower()} again")] == [term]
    finally:
        await store.pool.execute("DELETE FROM term WHERE termid = $1", term_id(term))
        await store.close()
