"""The azure term detector: the real azure-ai-textanalytics client against the local stand-in."""

from __future__ import annotations

import asyncio
import time

import pytest
from azure.ai.textanalytics.aio import TextAnalyticsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from glossify.config.backends import AzureLanguageConfig
from glossify.terms.azure import AzureTermDetector
from glossify.terms.candidates import FilterRules, filter_candidates
from tests.standins import StandIns, StaticTokenCredential
from tests.standins.azure_language import REJECT_MARKER, SCOPE_RESOURCE
from tests.standins.state import EMPTY, MALFORMED, Behaviour, slow, throttled, unavailable

SERVICE = "language"


@pytest.fixture(autouse=True)
def fresh(standins: StandIns) -> None:
    standins.state.reset()


def settings(standins: StandIns, **overrides: object) -> AzureLanguageConfig:
    values: dict[str, object] = {
        "endpoint": standins.language_endpoint,
        "key": standins.state.language_key,
        "ca_file": standins.ca_file,
        "retry_backoff_s": 0.05,
        "read_timeout_s": 1.0,
        "call_deadline_s": 4.0,
    }
    return AzureLanguageConfig.model_validate(values | overrides)


@pytest.fixture
async def detector(standins: StandIns) -> AzureTermDetector:
    detector = AzureTermDetector(settings(standins))
    yield detector
    await detector.close()


async def test_request_has_the_documented_shape_and_entities_become_candidates(
    standins: StandIns, detector: AzureTermDetector
) -> None:
    line = "Alice says our Kubernetes cluster needs OAuth before next Tuesday."
    candidates = await detector.detect(line, "en-US")
    (request,) = standins.state.received(SERVICE)
    assert (request.method, request.path) == ("POST", "/language/:analyze-text")
    assert request.query == {"api-version": "2023-04-01"}
    assert request.headers["ocp-apim-subscription-key"] == standins.state.language_key
    assert "authorization" not in request.headers
    assert request.body == {
        "kind": "EntityRecognition",
        "analysisInput": {"documents": [{"id": "0", "text": line, "language": "en"}]},
        "parameters": {"loggingOptOut": True, "stringIndexType": "UnicodeCodePoint"},
    }
    found = {(c.text, c.category) for c in candidates}
    assert found == {
        ("Alice", "Person"),
        ("Kubernetes", "Product"),
        ("OAuth", "Product"),
        ("next Tuesday", "DateTime"),
    }
    for candidate in candidates:
        assert line[candidate.offset : candidate.offset + len(candidate.text)] == candidate.text
    # The carried-over filter decides: people and dates are not jargon.
    kept = filter_candidates(candidates, FilterRules())
    assert [c.text for c in kept] == ["Kubernetes", "OAuth"]
    assert detector.health()["state"] == "ok"


async def test_entra_id_tokens_for_the_cognitive_services_scope(standins: StandIns) -> None:
    credential = StaticTokenCredential()
    detector = AzureTermDetector(settings(standins, key=None), credential=credential)
    try:
        assert [c.text for c in await detector.detect("The EBITDA moved.", None)] == ["EBITDA"]
    finally:
        await detector.close()
    (request,) = standins.state.received(SERVICE)
    assert request.headers["authorization"] == f"Bearer standin-token:{SCOPE_RESOURCE}"
    assert "ocp-apim-subscription-key" not in request.headers
    assert credential.scopes == [f"{SCOPE_RESOURCE}/.default"]


async def test_without_a_key_default_azure_credential_gets_a_managed_identity_token(
    standins: StandIns, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in standins.identity_env.items():
        monkeypatch.setenv(name, value)
    detector = AzureTermDetector(settings(standins, key=None))
    try:
        assert [c.text for c in await detector.detect("Ship the PPAP now.", None)] == ["PPAP"]
    finally:
        await detector.close()
    (token_request,) = standins.state.received("identity")
    assert token_request.query == {"api-version": "2019-08-01", "resource": SCOPE_RESOURCE}
    (request,) = standins.state.received(SERVICE)
    assert request.headers["authorization"] == f"Bearer standin-token:{SCOPE_RESOURCE}"


async def test_meeting_language_is_sent_per_document(
    standins: StandIns, detector: AzureTermDetector
) -> None:
    await asyncio.gather(
        detector.detect("Der EBITDA sinkt.", "de-DE"),
        detector.detect("我们的 KPI 很好。", "zh-TW"),
        detector.detect("No language given.", None),
    )
    (request,) = standins.state.received(SERVICE)
    languages = {d["text"]: d["language"] for d in request.body["analysisInput"]["documents"]}
    assert languages == {
        "Der EBITDA sinkt.": "de",
        "我们的 KPI 很好。": "zh-hant",
        "No language given.": "en",
    }


async def test_concurrent_lines_share_requests_of_at_most_five_documents(
    standins: StandIns, detector: AzureTermDetector
) -> None:
    lines = [f"Line {i} mentions ACR{chr(65 + i)}." for i in range(7)]
    results = await asyncio.gather(*(detector.detect(line, "en") for line in lines))
    assert [[c.text for c in found] for found in results] == [
        [f"ACR{chr(65 + i)}"] for i in range(7)
    ]
    sizes = sorted(
        len(r.body["analysisInput"]["documents"]) for r in standins.state.received(SERVICE)
    )
    assert sizes == [2, 5]


async def test_a_long_line_is_split_at_sentences_and_offsets_map_back(
    standins: StandIns, detector: AzureTermDetector
) -> None:
    filler = "The team reviewed the quarterly numbers in detail once more. "
    line = filler * 100 + "Then Contoso asked about the EBITDA bridge. " + filler * 40
    assert 5120 < len(line) <= 2 * 5120
    candidates = await detector.detect(line, "en")
    documents = [
        doc
        for r in standins.state.received(SERVICE)
        for doc in r.body["analysisInput"]["documents"]
    ]
    assert len(documents) == 2
    assert all(len(doc["text"]) <= 5120 for doc in documents)
    assert all(doc["text"].rstrip().endswith(".") for doc in documents)
    assert {c.text for c in candidates} == {"Contoso", "EBITDA"}
    for candidate in candidates:
        assert line[candidate.offset : candidate.offset + len(candidate.text)] == candidate.text


async def test_a_rejected_document_costs_only_its_own_line(
    standins: StandIns, detector: AzureTermDetector
) -> None:
    good, bad, unsupported = await asyncio.gather(
        detector.detect("The CAPEX plan is late.", "en"),
        detector.detect(f"Broken {REJECT_MARKER} LINE.", "en"),
        detector.detect("Klingon KPI.", "tlh"),
    )
    assert [c.text for c in good] == ["CAPEX"]
    assert bad == [] and unsupported == []
    assert len(standins.state.received(SERVICE)) == 1
    health = detector.health()
    assert health["state"] == "ok"  # the request worked; two documents were refused
    assert health["document_errors"] == 2


async def test_more_than_five_documents_is_a_400_from_the_service(standins: StandIns) -> None:
    async with TextAnalyticsClient(
        standins.language_endpoint,
        AzureKeyCredential(standins.state.language_key),
        connection_verify=standins.ca_file,
    ) as client:
        with pytest.raises(HttpResponseError) as caught:
            await client.recognize_entities([f"Doc {i}" for i in range(6)])
    assert caught.value.status_code == 400
    assert "too many records" in str(caught.value)


async def test_throttling_is_retried_after_retry_after(
    standins: StandIns, detector: AzureTermDetector
) -> None:
    standins.state.script(SERVICE, throttled(retry_after="1"))
    started = time.monotonic()
    assert [c.text for c in await detector.detect("The SLA holds.", "en")] == ["SLA"]
    assert time.monotonic() - started >= 0.9
    assert len(standins.state.received(SERVICE)) == 2
    assert detector.health()["state"] == "ok"


async def test_a_retry_after_longer_than_the_cap_gives_up_at_once(
    standins: StandIns, detector: AzureTermDetector
) -> None:
    standins.state.script(SERVICE, throttled(retry_after="60"))
    started = time.monotonic()
    assert await detector.detect("The SLA holds.", "en") == []
    assert time.monotonic() - started < 2
    assert len(standins.state.received(SERVICE)) == 1
    assert detector.health()["last_error"] == "HttpResponseError 429"


async def test_server_errors_are_retried_a_bounded_number_of_times(
    standins: StandIns, detector: AzureTermDetector
) -> None:
    standins.state.script(SERVICE, unavailable(), unavailable())
    assert [c.text for c in await detector.detect("Our MRR grew.", "en")] == ["MRR"]
    assert len(standins.state.received(SERVICE)) == 3

    standins.state.reset()
    standins.state.always(SERVICE, unavailable())
    for _ in range(3):
        assert await detector.detect("Our MRR grew.", "en") == []
    assert len(standins.state.received(SERVICE)) == 9  # 3 attempts per line, then give up
    health = detector.health()
    assert health["state"] == "failing"
    assert health["last_error"] == "HttpResponseError 503"


@pytest.mark.parametrize(
    "behaviour", [EMPTY, MALFORMED, slow(3.0)], ids=["empty", "malformed", "slow"]
)
async def test_broken_answers_cost_the_line_its_terms_within_the_deadline(
    standins: StandIns, behaviour: Behaviour
) -> None:
    detector = AzureTermDetector(
        settings(standins, read_timeout_s=0.5, call_deadline_s=1.5, max_attempts=2)
    )
    standins.state.always(SERVICE, behaviour)
    try:
        started = time.monotonic()
        assert await detector.detect("The CAPEX plan is late.", "en") == []
        assert time.monotonic() - started < 2.5
        assert detector.health()["state"] == "degraded"
    finally:
        await detector.close()


async def test_an_unreachable_service_costs_the_line_its_terms_quickly(standins: StandIns) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    detector = AzureTermDetector(
        settings(standins, endpoint=f"https://127.0.0.1:{closed_port}", call_deadline_s=2.0)
    )
    try:
        started = time.monotonic()
        assert await detector.detect("The CAPEX plan is late.", "en") == []
        assert time.monotonic() - started < 3
        assert detector.health()["last_error"].startswith("ServiceRequestError")
    finally:
        await detector.close()
