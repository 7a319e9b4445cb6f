"""Where a meeting's term explanations come from: the organisation glossary first, else the
explainer, asked with the line and the meeting's lines just before it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from glossify.config.settings import GlossifyConfig
from glossify.explain.answer import abstention_text
from glossify.explain.reference import packaged_reference
from glossify.protocol import now_iso, terms_event
from glossify.remote.retries import Deadline, Retry, with_retries
from glossify.store.postgres import Store
from glossify.terms.candidates import Candidate, term_id

log = logging.getLogger(__name__)


class Backends(Protocol):
    async def detect(self, text: str, language: str | None) -> list[Candidate]: ...

    async def explain(
        self, term: str, context: str, language: str | None, meeting: str
    ) -> dict[str, Any]: ...


class TermExplanations:
    def __init__(self, store: Store, backends: Backends, config: GlossifyConfig) -> None:
        self._store = store
        self._backends = backends
        self._config = config

    async def known(self, term: str) -> dict[str, Any] | None:
        """The organisation glossary's explanation of ``term`` as a terms event, if it has one.
        It is read each time, so a correction is what the next meeting gets."""
        if not self._config.meetings.use_glossary:
            return None
        try:
            entry = await self._store.glossary_entry(term_id(term))
        except Exception as exc:
            # The glossary only saves asking the explainer: without it the term is still shown.
            log.warning("glossary lookup of %r failed (%r); asking the explainer", term, exc)
            return None
        if entry is None:
            return None
        _, domain, body = entry
        if self._config.explainer.reference and await asyncio.to_thread(
            _is_reference_card, term, body
        ):
            # A reference card an earlier meeting saved, uncorrected: the explainer picks the
            # sense this meeting means (a term can have several). A correction stays the answer.
            return None
        return terms_event(term, domain, body, "glossary", now_iso())

    async def new(
        self, term: str, context: str, language: str | None, meeting: str
    ) -> dict[str, Any]:
        """A terms event from the explainer, which shares its time fairly between meetings;
        an abstention is one that says so (``"abstained": true``, no domain)."""
        meetings = self._config.meetings
        # The term's time covers every attempt: a second one gets what the first left.
        deadline = Deadline(meetings.term_timeout_s)
        answer = await with_retries(
            lambda: asyncio.wait_for(
                self._backends.explain(term, context, language, meeting), deadline.remaining()
            ),
            # A replica that died mid-request (the next attempt goes to its replacement) or a
            # failed call is asked again at once. A term that timed out is not (the meeting has
            # moved on), nor is an unusable answer: the explainer abstains on that itself.
            classify=lambda exc: None if isinstance(exc, TimeoutError) else Retry(after_s=0.0),
            deadline=deadline,
            max_attempts=meetings.explain_attempts,
            backoff_base_s=0.0,
            max_retry_after_s=meetings.term_timeout_s,
            what=f"explaining {term!r}",
        )
        if answer.get("abstained"):
            body = abstention_text(language)
            return terms_event(term, "", body, answer["source"], now_iso()) | {"abstained": True}
        return terms_event(term, answer["domain"], answer["body"], answer["source"], now_iso())


def _is_reference_card(term: str, body: str) -> bool:
    # Off the event loop: the first call loads the reference glossary (about a second).
    return packaged_reference().has_definition(term, body)
