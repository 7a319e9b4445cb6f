"""The pure parts of the remote backends: line splitting, micro-batching, retries, health."""

from __future__ import annotations

import asyncio
import time

import pytest

from glossify.remote.azure_pipeline import LiveRetryPolicy
from glossify.remote.health import DEGRADED, FAILING, OK, BackendHealth, describe_error
from glossify.remote.micro_batch import MicroBatcher
from glossify.remote.retries import Deadline, Retry, backoff_s, parse_retry_after, with_retries
from glossify.terms.azure import service_language
from glossify.terms.chunks import split_at_sentences


def test_short_line_is_one_piece_and_blank_is_none() -> None:
    assert split_at_sentences("Kubernetes is up.", 100) == [(0, "Kubernetes is up.")]
    assert split_at_sentences("   ", 100) == []


def test_long_line_is_cut_at_sentence_ends_and_offsets_point_into_it() -> None:
    sentence = "The EBITDA bridge moved again, e.g. after the Kubernetes migration. "
    line = sentence * 200  # ≈ 13,600 characters
    pieces = split_at_sentences(line, 5120)
    assert len(pieces) == 3
    assert all(len(piece) <= 5120 for _, piece in pieces)
    for offset, piece in pieces:
        assert line[offset : offset + len(piece)] == piece
        assert piece.rstrip().endswith("migration.")  # never inside a sentence
    assert "".join(piece for _, piece in pieces) == line


def test_a_sentence_longer_than_the_limit_is_cut_at_a_space_or_anywhere() -> None:
    words = "word " * 50
    pieces = split_at_sentences(words, 32)
    assert all(len(piece) <= 32 for _, piece in pieces)
    assert all(not piece.startswith("ord") for _, piece in pieces)
    unbroken = "x" * 70
    assert [len(piece) for _, piece in split_at_sentences(unbroken, 32)] == [32, 32, 6]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("en-US", "en"),
        ("de", "de"),
        ("pt_BR", "pt"),
        ("zh", "zh-hans"),
        ("zh-CN", "zh-hans"),
        ("zh-TW", "zh-hant"),
    ],
)
def test_meeting_languages_become_service_codes(language: str | None, expected: str) -> None:
    assert service_language(language, "en") == expected


async def test_micro_batcher_groups_concurrent_items_up_to_the_limit() -> None:
    batches: list[list[int]] = []

    async def send(items: list[int]) -> list[int]:
        batches.append(items)
        return [item * 10 for item in items]

    batcher = MicroBatcher(send, max_items=5, window_s=0.02)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(7)))
    assert results == [i * 10 for i in range(7)]
    assert sorted(len(batch) for batch in batches) == [2, 5]
    # A lone item waits only the window.
    started = time.monotonic()
    assert await batcher.submit(99) == 990
    assert time.monotonic() - started < 0.5
    await batcher.close()


async def test_micro_batcher_fails_every_item_of_a_failed_batch_only() -> None:
    calls = 0

    async def send(items: list[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if "bad" in items:
            raise ConnectionError("down")
        return items

    batcher = MicroBatcher(send, max_items=2, window_s=0.01)
    results = await asyncio.gather(
        batcher.submit("bad"), batcher.submit("x"), batcher.submit("ok"), return_exceptions=True
    )
    assert isinstance(results[0], ConnectionError) and isinstance(results[1], ConnectionError)
    assert results[2] == "ok"
    assert calls == 2


def test_health_states_follow_recent_outcomes() -> None:
    now = [0.0]
    health = BackendHealth("azure", "https://user:pw@lang.example.com/path", clock=lambda: now[0])
    assert health.report() == {
        "backend": "azure",
        "state": OK,
        "recent_calls": 0,
        "recent_errors": 0,
        "endpoint": "lang.example.com",
    }
    health.ok()
    health.error(ConnectionError("secret-ish text"))
    assert health.state() == DEGRADED
    assert health.report()["last_error"] == "ConnectionError"
    health.error("TimeoutError")
    health.error("TimeoutError")
    assert health.state() == FAILING  # 3 of 4 recent calls failed
    now[0] = 1000.0  # the failures are old news
    health.ok()
    assert health.state() == OK


def test_a_failed_start_up_check_is_failing_until_a_call_works() -> None:
    health = BackendHealth("foundry")
    health.startup_failed("agent check failed: ServiceRequestError")
    report = health.report()
    assert report["state"] == FAILING
    assert report["startup_error"] == "agent check failed: ServiceRequestError"
    health.ok()
    assert health.state() == OK


def test_errors_are_described_by_class_status_and_code_only() -> None:
    class ServiceError(Exception):
        status_code = 429
        code = "rate_limit_exceeded"

    assert describe_error(ServiceError("the meeting said: confidential")) == (
        "ServiceError 429 rate_limit_exceeded"
    )


def test_retry_after_headers() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


async def test_retries_are_bounded_by_attempts_retry_after_and_deadline() -> None:
    attempts = 0

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConnectionError
        return "done"

    def retry_connection(exc: Exception) -> Retry | None:
        return Retry() if isinstance(exc, ConnectionError) else None

    common = {"backoff_base_s": 0.01, "max_retry_after_s": 1.0, "what": "test"}
    result = await with_retries(
        flaky, classify=retry_connection, deadline=Deadline(5), max_attempts=3, **common
    )
    assert result == "done" and attempts == 3

    attempts = 0
    with pytest.raises(ConnectionError):
        await with_retries(
            flaky, classify=retry_connection, deadline=Deadline(5), max_attempts=2, **common
        )
    assert attempts == 2

    async def throttled() -> str:
        raise ConnectionError

    started = time.monotonic()
    with pytest.raises(ConnectionError):  # Retry-After beyond the cap: give up at once
        await with_retries(
            throttled,
            classify=lambda exc: Retry(after_s=30.0),
            deadline=Deadline(60),
            max_attempts=5,
            **common,
        )
    with pytest.raises(ConnectionError):  # a wait past the deadline: give up at once
        await with_retries(
            throttled,
            classify=lambda exc: Retry(after_s=0.9),
            deadline=Deadline(0.5),
            max_attempts=5,
            **common,
        )
    assert time.monotonic() - started < 0.5


class _Response:
    def __init__(self, status: int, retry_after: str | None) -> None:
        self.http_response = self
        self.status_code = status
        self.headers = {"Retry-After": retry_after} if retry_after else {}
        self.http_request = type("Req", (), {"method": "POST"})()


def test_azure_retry_policy_gives_up_on_a_long_retry_after() -> None:
    policy = LiveRetryPolicy(max_retry_after_s=5.0, retry_total=2)
    settings = policy.configure_retries({})
    assert policy.is_retry(settings, _Response(429, "1"))
    assert not policy.is_retry(settings, _Response(429, "60"))
    assert policy.is_retry(settings, _Response(503, None))
    assert not policy.is_retry(settings, _Response(400, None))


def test_backoff_doubles_with_jitter_up_to_its_cap_and_never_overflows() -> None:
    assert 0.5 <= backoff_s(1, 1.0) <= 1.0
    assert 4.0 <= backoff_s(4, 1.0) <= 8.0
    assert 2.5 <= backoff_s(6, 1.0, max_s=5.0) <= 5.0
    # An outage retried for hours: thousands of attempts, still spread out.
    capped = {backoff_s(5000, 0.5, max_s=5.0) for _ in range(20)}
    assert all(2.5 <= delay <= 5.0 for delay in capped) and len(capped) > 1
    assert backoff_s(5000, 0.5) < float("inf")


async def test_retries_pause_with_the_callers_pause() -> None:
    pauses: list[float] = []
    failures = iter([ConnectionError("down"), ConnectionError("down")])

    async def call() -> str:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return "written"

    async def pause(delay_s: float) -> None:
        pauses.append(delay_s)

    result = await with_retries(
        call,
        classify=lambda _: Retry(),
        deadline=Deadline(float("inf")),
        max_attempts=10,
        backoff_base_s=100.0,
        max_backoff_s=0.25,
        max_retry_after_s=1.0,
        what="a write",
        pause=pause,
    )
    assert result == "written" and len(pauses) == 2
    assert all(0.125 <= pause_s <= 0.25 for pause_s in pauses)
