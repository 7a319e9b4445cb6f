"""What the stand-ins remember: the requests they received and the behaviours scripted next."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request


@dataclass(frozen=True)
class Behaviour:
    """How a stand-in answers one request.

    kind: ``ok``; ``error`` (``status`` with an error body, ``retry_after`` header);
    ``slow`` (``delay_s``, then ok); ``empty`` (200, no body); ``malformed`` (200, broken JSON);
    Foundry responses also ``failed`` (``code``), ``incomplete``, ``incomplete_empty``,
    ``cancelled``, ``stuck`` (in progress forever) and ``json`` (the answer as JSON);
    chat completions also ``length`` (cut off by max_tokens) and ``json``.
    """

    kind: str = "ok"
    status: int = 200
    retry_after: str | None = None
    delay_s: float = 0.0
    code: str | None = None


OK = Behaviour()
EMPTY = Behaviour("empty")
MALFORMED = Behaviour("malformed")
STUCK = Behaviour("stuck")
CANCELLED = Behaviour("cancelled")
INCOMPLETE = Behaviour("incomplete")
INCOMPLETE_EMPTY = Behaviour("incomplete_empty")
AS_JSON = Behaviour("json")
CUT_OFF = Behaviour("length")


def throttled(retry_after: str | None = "1") -> Behaviour:
    return Behaviour("error", status=429, retry_after=retry_after)


def unavailable(retry_after: str | None = None) -> Behaviour:
    return Behaviour("error", status=503, retry_after=retry_after)


def slow(delay_s: float) -> Behaviour:
    return Behaviour("slow", delay_s=delay_s)


def failed(code: str) -> Behaviour:
    return Behaviour("failed", code=code)


@dataclass(frozen=True)
class Recorded:
    service: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any

    @property
    def json(self) -> Any:
        return self.body


def bearer(resource: str) -> str:
    """The only tokens the stand-ins accept: one per audience, so a wrong scope fails."""
    return f"standin-token:{resource}"


@dataclass
class StandInState:
    language_key: str = "test-language-key"
    identity_header: str = "test-identity-header"
    project: str = "glossify-test"
    # name -> versions, latest last
    agents: dict[str, list[str]] = field(default_factory=lambda: {"glossary-agent": ["1", "2"]})
    chat_model: str = "glossify-test-model"
    # Responses stay queued/in progress for this many polls before they finish.
    polls_before_done: int = 1
    requests: list[Recorded] = field(default_factory=list)
    _scripts: dict[str, deque[Behaviour]] = field(default_factory=dict)
    _always: dict[str, Behaviour] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, service: str, *behaviours: Behaviour) -> None:
        """The next requests to ``service`` get these behaviours, in order, then ``always``."""
        with self._lock:
            self._scripts.setdefault(service, deque()).extend(behaviours)

    def always(self, service: str, behaviour: Behaviour | None) -> None:
        with self._lock:
            if behaviour is None:
                self._always.pop(service, None)
            else:
                self._always[service] = behaviour

    def next(self, service: str) -> Behaviour:
        with self._lock:
            queue = self._scripts.get(service)
            if queue:
                return queue.popleft()
            return self._always.get(service, OK)

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._always.clear()
            self.requests.clear()
        self.polls_before_done = 1

    def received(self, service: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.service == service]

    async def record(self, service: str, request: Request) -> Recorded:
        raw = await request.body()
        body: Any
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        recorded = Recorded(
            service=service,
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(recorded)
        return recorded
