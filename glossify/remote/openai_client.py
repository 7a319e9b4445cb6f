"""What the Foundry and OpenAI-compatible explainers share about the `openai` client."""

from __future__ import annotations

import logging
import ssl
from typing import Any

import openai

from glossify.remote.retries import Retry, parse_retry_after

# The HTTP client logs every request at INFO (polling a response is several a second).
logging.getLogger("httpx2").setLevel(logging.WARNING)


def classify_openai_error(exc: Exception) -> Retry | None:
    """Rate limits, server errors, request timeouts (408) and lost connections are worth
    another attempt; a bad request, a missing model or agent, or an auth failure would fail
    the same way again."""
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code in (408, 429) or exc.status_code >= 500:
            return Retry(parse_retry_after(exc.response.headers))
        return None
    if isinstance(exc, openai.APIConnectionError):  # timeouts of one HTTP call included
        return Retry()
    return None


def http_client_options(ca_file: str | None) -> dict[str, Any]:
    """``http_client`` trusting ``ca_file`` instead of the system store, when one is set."""
    if not ca_file:
        return {}
    context = ssl.create_default_context(cafile=ca_file)
    return {"http_client": openai.DefaultAsyncHttpxClient(verify=context)}


def timeout(total_s: float, connect_s: float) -> openai.Timeout:
    return openai.Timeout(max(total_s, 0.001), connect=min(connect_s, max(total_s, 0.001)))
