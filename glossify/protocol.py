"""Protocol v1: meeting ids, request bodies, events. Pure data shapes, no I/O."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

PROTOCOL_VERSION = 1
MEETING_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_SPEAKER_CHARS = 128
MAX_TERM_CHARS = 200
MAX_BODY_CHARS = 4000
MAX_TERMS_PER_POST = 200


class ProtocolError(Exception):
    """Bad input from a client: becomes a 4xx response or an ``error`` event."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, str]:
        return {"status": "error", "code": self.code, "message": self.message}


def check_meeting_id(meeting_id: str) -> str:
    if not MEETING_ID.fullmatch(meeting_id):
        raise ProtocolError(400, "invalid_meeting_id", "meeting id must match [A-Za-z0-9_-]{1,64}")
    return meeting_id


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso_timestamp(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO-8601 timestamp") from None
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"


class StartBody(_Body):
    language: StrictStr | None = Field(None, pattern=LANGUAGE_PATTERN)


class SttBody(_Body):
    text: StrictStr
    is_final: StrictBool
    timestamp: StrictStr | None = None
    speaker: StrictStr | None = Field(None, max_length=MAX_SPEAKER_CHARS)

    _check_timestamp = field_validator("timestamp")(_iso_timestamp)


class ExternalTerm(_Body):
    entity: StrictStr = Field(..., min_length=1, max_length=MAX_TERM_CHARS)
    domain: StrictStr = Field(..., min_length=1, max_length=64)
    body: StrictStr = Field(..., min_length=1, max_length=MAX_BODY_CHARS)
    timestamp: StrictStr | None = None

    _check_timestamp = field_validator("timestamp")(_iso_timestamp)


class AudioStart(_Body):
    # Rate and encoding are checked by audio_input.check_format, which names what is supported.
    type: Literal["audio_start"]
    sample_rate: Any = 16000
    encoding: Any = "pcm_s16le"
    language: StrictStr | None = Field(None, pattern=LANGUAGE_PATTERN)
    # A resumable sender sends again, after reconnecting, whatever was not acknowledged
    # (audio_ack): when its connection drops, the server drops that unacknowledged audio.
    resumable: StrictBool = False


def transcript_event(
    text: str,
    *,
    is_final: bool,
    timestamp: str,
    speaker: str | None = None,
    start: float | None = None,
    end: float | None = None,
) -> dict[str, Any]:
    return {
        "type": "transcript",
        "text": text,
        "is_final": is_final,
        "start": start,
        "end": end,
        "timestamp": timestamp,
        "speaker": speaker,
    }


def terms_event(entity: str, domain: str, body: str, source: str, timestamp: str) -> dict[str, Any]:
    return {
        "type": "terms",
        "timestamp": timestamp,
        "entity": entity,
        "domain": domain,
        "body": body,
        "source": source,
    }


def error_event(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}
