"""Azure AI Language NER as azure-ai-textanalytics 5.4.0 sees it (shared/notes/azure-sdks.md).

``POST /language/:analyze-text?api-version=2023-04-01`` with an EntityRecognition body; at most
5 documents (more is a 400), 5,120 characters per document (longer is a per-document error);
auth by ``Ocp-Apim-Subscription-Key`` or a Bearer token for cognitiveservices.azure.com.
Entities come from a small dictionary plus "any 3–6 letter all-capitals word is a Skill", so
tests can invent fresh acronyms; offsets are code points.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.standins.common import azure_error, has_bearer, scripted_failure
from tests.standins.state import StandInState

SERVICE = "language"
SCOPE_RESOURCE = "https://cognitiveservices.azure.com"
MAX_DOCUMENTS = 5
MAX_CHARS = 5120
SUPPORTED_LANGUAGES = {"en", "de", "fr", "es", "it", "pt", "ja", "ko", "zh-hans", "zh-hant"}
# text -> (category, subcategory, confidence)
KNOWN = {
    "Kubernetes": ("Product", None, 0.95),
    "OAuth": ("Product", None, 0.9),
    "Contoso": ("Organization", None, 0.97),
    "Alice": ("Person", None, 0.99),
    "next Tuesday": ("DateTime", "Date", 0.97),
    "project manager": ("PersonType", None, 0.8),
    "sprint": ("Event", None, 0.3),
}
ACRONYM = re.compile(r"\b[A-Z]{3,6}\b")
# A document containing this is rejected as invalid, to test per-document errors.
REJECT_MARKER = "#reject-this-document#"


def entities(text: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    taken: set[int] = set()
    for name, (category, subcategory, score) in KNOWN.items():
        for match in re.finditer(rf"\b{re.escape(name)}\b", text):
            found.append(_entity(match, category, subcategory, score))
            taken.update(range(match.start(), match.end()))
    for match in ACRONYM.finditer(text):
        if match.start() not in taken:
            found.append(_entity(match, "Skill", None, 0.85))
    return sorted(found, key=lambda e: e["offset"])


def _entity(match: re.Match[str], category: str, subcategory: str | None, score: float) -> dict:
    entity = {
        "text": match.group(0),
        "category": category,
        "offset": match.start(),
        "length": match.end() - match.start(),
        "confidenceScore": score,
    }
    if subcategory:
        entity["subcategory"] = subcategory
    return entity


def _document_error(doc_id: str, inner_code: str, message: str) -> dict[str, Any]:
    return {
        "id": doc_id,
        "error": {
            "code": "InvalidArgument",
            "message": "Invalid document in request.",
            "innererror": {"code": inner_code, "message": message},
        },
    }


def _problem(text: str, language: str) -> tuple[str, str] | None:
    """(inner code, message) of a per-document error, as the service words them."""
    if not text.strip():
        return "InvalidDocument", "Document text is empty."
    if len(text) > MAX_CHARS:
        return (
            "InvalidDocument",
            "A document within the request was too large to be processed. "
            f"Limit document size to: {MAX_CHARS} text elements.",
        )
    if language not in SUPPORTED_LANGUAGES:
        return "UnsupportedLanguageCode", f"Invalid language code {language}."
    if REJECT_MARKER in text:
        return "InvalidDocument", "Rejected by the test."
    return None


def routes(state: StandInState) -> list[Route]:
    async def analyze_text(request: Request) -> Response:
        recorded = await state.record(SERVICE, request)
        if request.query_params.get("api-version") != "2023-04-01":
            return azure_error(404, "404", "Resource not found")
        headers = recorded.headers
        if headers.get("ocp-apim-subscription-key") != state.language_key and not has_bearer(
            headers, SCOPE_RESOURCE
        ):
            return azure_error(401, "401", "Access denied due to invalid subscription key.")
        failure = await scripted_failure(state.next(SERVICE))
        if failure is not None:
            return failure
        body = recorded.body if isinstance(recorded.body, dict) else {}
        if body.get("kind") != "EntityRecognition":
            return azure_error(400, "InvalidRequest", "Invalid request kind.")
        documents = body.get("analysisInput", {}).get("documents", [])
        if len(documents) > MAX_DOCUMENTS:
            return JSONResponse(
                {
                    "error": {
                        "code": "InvalidRequest",
                        "message": "Invalid document in request.",
                        "innererror": {
                            "code": "InvalidDocumentBatch",
                            "message": "Batch request contains too many records. "
                            f"Max {MAX_DOCUMENTS} records are permitted.",
                        },
                    }
                },
                status_code=400,
            )
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for doc in documents:
            problem = _problem(doc.get("text", ""), doc.get("language", "en"))
            if problem is not None:
                errors.append(_document_error(doc["id"], *problem))
            else:
                results.append({"id": doc["id"], "entities": entities(doc["text"]), "warnings": []})
        return JSONResponse(
            {
                "kind": "EntityRecognitionResults",
                "results": {"documents": results, "errors": errors, "modelVersion": "2021-06-01"},
            }
        )

    return [Route("/language/:analyze-text", analyze_text, methods=["POST"])]
