"""The meeting host adds the organisation glossary's terms to what the detector found in a
line (the TermDetector replica cannot reach the database). No Ray: the deployment handles are
stand-ins."""

from __future__ import annotations

from typing import Any

import pytest

import glossify.meetings.host as host
from glossify.terms.candidates import Candidate
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
