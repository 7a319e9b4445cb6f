"""The one validated configuration: a Serve config's ``args`` plus the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from glossify.config.access import AccessConfig
from glossify.config.backends import (
    MISSING_SETTING,
    DetectorConfig,
    ExplainerConfig,
    apply_environment,
)
from glossify.config.base import ConfigError, Strict


class TranscriberConfig(Strict):
    enabled: bool = True
    # None: Whisper base from the packaged wheels; otherwise a CTranslate2 model directory.
    model: str | None = None
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = Field(default=2, ge=1, le=64)
    beam_size: int = Field(default=1, ge=1, le=10)
    # The encoder sees the utterance plus this margin instead of a padded 30 s window: on CPU
    # that is 4-5x cheaper per utterance and lets batching pay (1.5-1.7x for 10 windows),
    # with the same WER on utterance-aligned audio. None: the full 30 s window.
    encoder_margin_s: float | None = Field(default=1.0, ge=0.5, le=30.0)
    max_batch_size: int = Field(default=8, ge=1, le=64)
    batch_wait_timeout_s: float = Field(default=0.02, ge=0.0, le=1.0)
    # A partial that waited longer than this is out of date by the time it would be shown.
    max_partial_wait_s: float = Field(default=1.5, gt=0.0, le=30.0)


class AudioConfig(Strict):
    speech_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    min_silence_s: float = Field(default=0.5, ge=0.1, le=5.0)
    max_utterance_s: float = Field(default=15.0, ge=2.0, le=29.0)
    min_speech_s: float = Field(default=0.25, ge=0.0, le=5.0)
    pre_roll_s: float = Field(default=0.2, ge=0.0, le=2.0)
    partial_interval_s: float = Field(default=1.0, ge=0.2, le=10.0)
    partials: bool = True
    # A stream's partials may take at most this share of wall time (their round trip through
    # the Transcriber): on a busy machine they slow down and leave the CPU to finals and the
    # explainer (term p50 with one stream: 4.7 s without partials, 6.7 s at a fixed 1 s).
    partial_max_share: float = Field(default=0.25, gt=0.0, le=1.0)
    max_frame_seconds: float = Field(default=1.0, gt=0.0, le=10.0)
    # Finals waiting for the Transcriber per stream; beyond this the socket is read more slowly.
    max_pending_finals: int = Field(default=8, ge=1, le=256)
    hotwords: int = Field(default=40, ge=0, le=500)
    # The end of a stream's earlier finals (this many characters, whole words; only finals
    # Whisper was sure of, audio/context_prompt.py) goes to Whisper with the hotwords as its
    # previous-text prompt; 0: each utterance is heard alone.
    context_prompt_chars: int = Field(default=200, ge=0, le=1000)
    # A sender's audio may arrive at most this many times faster than real time (after the
    # head start); faster senders are read more slowly, so none starves the other meetings.
    max_speed: float = Field(default=1.25, ge=1.0, le=100.0)
    speed_head_start_s: float = Field(default=5.0, ge=0.0, le=300.0)
    # Transcriber requests one meeting may have in flight at once (per ingress replica), over
    # all its senders: its fair share of the batches.
    transcriptions_per_meeting: int = Field(default=4, ge=1, le=256)
    # A final whose Transcriber request fails (a replica lost, an overload) is asked again,
    # within this many attempts and seconds, before the sender is told what was lost.
    final_attempts: int = Field(default=4, ge=1, le=20)
    final_retry_s: float = Field(default=60.0, gt=0.0, le=600.0)
    # Audio a sender sent that waits for its stream (the pace above, a full queue of finals):
    # past the first bound the sender gets a `warning` event, past the second its frames are
    # refused with an `error` event. The socket is read on either way, pings answered.
    buffer_warn_s: float = Field(default=30.0, gt=0.0, le=3600.0)
    buffer_max_s: float = Field(default=120.0, gt=0.0, le=3600.0)

    @model_validator(mode="after")
    def _warn_before_refusing(self) -> AudioConfig:
        if self.buffer_max_s < self.buffer_warn_s:
            raise ValueError("audio.buffer_max_s must be at least audio.buffer_warn_s")
        return self


class MeetingConfig(Strict):
    shards: int = Field(default=2, ge=1, le=256)
    workers_per_meeting: int = Field(default=3, ge=1, le=32)
    queue_size: int = Field(default=64, ge=1, le=10_000)
    recent_lines: int = Field(default=50, ge=1, le=10_000)
    events_in_memory: int = Field(default=2000, ge=10, le=1_000_000)
    max_line_chars: int = Field(default=5000, ge=100, le=100_000)
    stop_drain_s: float = Field(default=120.0, ge=0.0, le=3600.0)
    # From asking for an explanation to getting it, queueing behind other terms included.
    term_timeout_s: float = Field(default=120.0, gt=0.0, le=3600.0)
    # A detector that does not answer in time costs that line its terms, not the meeting's
    # line workers.
    detect_timeout_s: float = Field(default=30.0, gt=0.0, le=600.0)
    # The stop's glossary upsert is tried this many times within this many seconds (PostgreSQL
    # restarting, a dropped connection) before the stop ends in error.
    upsert_attempts: int = Field(default=5, ge=1, le=50)
    upsert_retry_s: float = Field(default=120.0, gt=0.0, le=3600.0)
    # Journal writes a meeting keeps in memory while PostgreSQL is unreachable (its lines and
    # terms are published meanwhile, and written when the database is back); past this many,
    # new events are refused with 503 journal_unavailable.
    journal_buffer_events: int = Field(default=2000, ge=1, le=1_000_000)
    explain_attempts: int = Field(default=2, ge=1, le=5)
    idle_evict_s: float = Field(default=900.0, ge=1.0)
    use_glossary: bool = True
    namespace: str = "glossify"


class AutoscalingOverrides(Strict):
    """Autoscaling settings of one backend deployment for apps built in Python (`glossify up`,
    the benchmarks); unset fields keep the deployment's own. A Serve config's `deployments:`
    section still wins over these on `serve deploy`."""

    min_replicas: int | None = Field(default=None, ge=0, le=1000)
    max_replicas: int | None = Field(default=None, ge=1, le=1000)
    target_ongoing_requests: float | None = Field(default=None, gt=0.0)
    upscale_delay_s: float | None = Field(default=None, ge=0.0)
    downscale_delay_s: float | None = Field(default=None, ge=0.0)
    look_back_period_s: float | None = Field(default=None, gt=0.0)

    @model_validator(mode="after")
    def _bounds(self) -> AutoscalingOverrides:
        low, high = self.min_replicas, self.max_replicas
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_replicas {low} is above max_replicas {high}")
        return self


class GlossifyConfig(Strict):
    app_name: str = "glossify"
    database_url: str = Field(..., min_length=1)
    detector: DetectorConfig = DetectorConfig()
    explainer: ExplainerConfig = ExplainerConfig()
    transcriber: TranscriberConfig = TranscriberConfig()
    audio: AudioConfig = AudioConfig()
    meetings: MeetingConfig = MeetingConfig()
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    autoscaling: dict[Literal["TermDetector", "TermExplainer"], AutoscalingOverrides] = Field(
        default={}
    )
    # Who may call, from where, and how much (secrets stay out: they come from the env).
    auth: AccessConfig = AccessConfig()

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if not value.startswith(("postgres://", "postgresql://")):
            raise ValueError("must be a postgres:// or postgresql:// URL")
        return value


def _where(loc: tuple[Any, ...], sources: Mapping[tuple[str, ...], str]) -> str:
    path = ".".join(str(part) for part in loc) or "args"
    variable = sources.get(tuple(str(part) for part in loc))
    return f"{variable} ({path})" if variable else path


def _problem(error: ErrorDetails, sources: Mapping[tuple[str, ...], str]) -> str:
    if error["type"] == MISSING_SETTING:
        return error["msg"]  # it names the variable and the setting itself
    return f"{_where(tuple(error['loc']), sources)}: {error['msg']}"


def load_config(
    args: Mapping[str, Any] | None, env: Mapping[str, str] | None = None
) -> GlossifyConfig:
    """Validate Serve ``args`` plus the environment.

    ``DATABASE_URL`` and backend secrets come only from the environment; backend endpoints and
    names come from ``args`` or, when unset there, from the environment. Everything is checked
    here, in the app builder, so a wrong setting stops the deployment instead of a meeting.
    """
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
    sources: dict[tuple[str, ...], str] = {}
    apply_environment(data, env, sources)
    try:
        return GlossifyConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_problem(error, sources) for error in exc.errors())
        raise ConfigError(f"invalid Glossify config: {problems}") from None
