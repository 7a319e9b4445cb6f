"""Term detection with Azure AI Language named-entity recognition (azure-ai-textanalytics).

Service limits shape the code: at most 5 documents per request and 5,120 characters per
document. A long line is cut at sentence ends into several documents and the entity offsets
are mapped back; lines of concurrent meetings arriving within a few milliseconds share one
request. A line never makes `detect` raise: a failed request or a rejected document costs that
line its terms (logged, counted in health), never the transcript.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Self

from azure.ai.textanalytics.aio import TextAnalyticsClient
from azure.core.credentials import AzureKeyCredential

from glossify.config.backends import AzureLanguageConfig, DetectorConfig
from glossify.remote.azure_pipeline import client_options
from glossify.remote.health import BackendHealth, describe_error
from glossify.remote.micro_batch import MicroBatcher
from glossify.terms.candidates import Candidate
from glossify.terms.chunks import split_at_sentences

log = logging.getLogger(__name__)

# The service names Chinese by script; the other languages it supports by their ISO 639-1 code.
_CHINESE = {"zh": "zh-hans", "zh-cn": "zh-hans", "zh-sg": "zh-hans", "zh-hans": "zh-hans"}


def service_language(language: str | None, default: str) -> str:
    """A meeting's language as Azure AI Language names it: 'en-US' -> 'en', 'zh-TW' -> 'zh-hant'.

    None (the meeting did not say) becomes ``default``: NER has no automatic detection.
    """
    if not language or not language.strip():
        return default
    code = language.strip().lower().replace("_", "-")
    if code.startswith("zh"):
        return _CHINESE.get(code, "zh-hant")
    return code.split("-")[0]


@dataclass(frozen=True)
class _Document:
    text: str
    language: str


@dataclass(frozen=True)
class _Entity:
    text: str
    category: str
    confidence: float
    offset: int


class AzureTermDetector:
    def __init__(self, settings: AzureLanguageConfig, *, credential: Any = None) -> None:
        """``credential``: any azure-core credential; by default LANGUAGE_KEY's key or, without
        one, ``DefaultAzureCredential`` (managed identity, workload identity, az login, ...)."""
        endpoint = settings.required("endpoint")
        self._settings = settings
        self._owned_credential: Any = None
        if credential is None:
            if settings.key is not None:
                credential = AzureKeyCredential(settings.key.get_secret_value())
            else:
                from azure.identity.aio import DefaultAzureCredential

                credential = self._owned_credential = DefaultAzureCredential()
        options = client_options(settings, settings.call_deadline_s)
        if settings.api_version:
            options["api_version"] = settings.api_version
        self._client = TextAnalyticsClient(
            endpoint,
            credential,
            default_language=settings.default_language,
            **options,
        )
        self._health = BackendHealth("azure", endpoint)
        self._document_errors = 0
        self._batcher: MicroBatcher[_Document, list[_Entity] | None] = MicroBatcher(
            self._recognize,
            max_items=settings.max_batch_documents,
            window_s=settings.batch_window_s,
        )

    @classmethod
    def from_config(cls, config: DetectorConfig) -> Self:
        return cls(config.azure)

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        lang = service_language(language, self._settings.default_language)
        pieces = split_at_sentences(text, self._settings.max_document_chars)
        results = await asyncio.gather(
            *(self._batcher.submit(_Document(piece, lang)) for _, piece in pieces),
            return_exceptions=True,
        )
        candidates: list[Candidate] = []
        for (offset, _), result in zip(pieces, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result  # cancellation: the caller is gone
                log.warning("term detection failed for a line: %s", describe_error(result))
                continue
            for entity in result or ():
                candidates.append(
                    Candidate(
                        text=entity.text,
                        category=entity.category,
                        confidence=entity.confidence,
                        offset=offset + entity.offset,
                    )
                )
        return candidates

    async def _recognize(self, documents: list[_Document]) -> list[list[_Entity] | None]:
        """One request; None for a document the service rejected (logged and skipped)."""
        payload = [
            {"id": str(index), "text": doc.text, "language": doc.language}
            for index, doc in enumerate(documents)
        ]
        try:
            # azure-core stops retrying at the same deadline; this also bounds a hung read.
            async with asyncio.timeout(self._settings.call_deadline_s):
                results = await self._client.recognize_entities(payload, disable_service_logs=True)
        except Exception as exc:
            self._health.error(exc)
            raise
        self._health.ok()
        by_id: dict[str, list[_Entity] | None] = {}
        for result in results:
            if result.is_error:
                self._document_errors += 1
                log.warning(
                    "Azure AI Language rejected a document (%s chars, %s): %s",
                    len(documents[int(result.id)].text),
                    documents[int(result.id)].language,
                    result.error.code,
                )
                by_id[result.id] = None
            else:
                by_id[result.id] = [
                    _Entity(e.text, e.category, float(e.confidence_score), int(e.offset))
                    for e in result.entities
                ]
        return [by_id.get(str(index)) for index in range(len(documents))]

    def health(self) -> dict[str, Any]:
        return self._health.report(document_errors=self._document_errors)

    async def close(self) -> None:
        await self._batcher.close()
        await self._client.close()
        if self._owned_credential is not None:
            await self._owned_credential.close()
