"""azure-core pipeline settings for live-meeting calls (the SDK defaults wait for minutes)."""

from __future__ import annotations

import logging
from typing import Any

from azure.core.pipeline.policies import AsyncRetryPolicy

from glossify.config.backends import RemoteCallsConfig

# azure-core logs every request and response at INFO; in a replica that drowns everything else.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)


class LiveRetryPolicy(AsyncRetryPolicy):  # type: ignore[type-arg]  # generic only in stubs
    """azure-core's retries (408, 429, 5xx, connection errors; Retry-After honoured), except
    that a Retry-After longer than ``max_retry_after_s`` ends the call instead of sleeping:
    a line's terms that arrive a minute late are no use to the meeting."""

    def __init__(self, *, max_retry_after_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_retry_after_s = max_retry_after_s

    def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after is not None and retry_after > self.max_retry_after_s:
            return False
        return super().is_retry(settings, response)


def client_options(calls: RemoteCallsConfig, deadline_s: float) -> dict[str, Any]:
    """Keyword arguments for an azure-core based client (TextAnalyticsClient, AIProjectClient)."""
    options: dict[str, Any] = {
        "retry_policy": LiveRetryPolicy(
            max_retry_after_s=calls.max_retry_after_s,
            retry_total=calls.max_attempts - 1,
            retry_backoff_factor=calls.retry_backoff_s,
            retry_backoff_max=max(calls.max_retry_after_s, calls.retry_backoff_s),
            # azure-core's own overall limit; callers also cancel at their deadline.
            timeout=deadline_s,
        ),
        "connection_timeout": calls.connection_timeout_s,
        "read_timeout": calls.read_timeout_s,
    }
    if calls.ca_file:
        options["connection_verify"] = calls.ca_file
    return options
