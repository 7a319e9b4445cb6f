"""Access settings: the ``auth`` block of a Serve config's ``args``, and the access secrets.

``AccessConfig`` holds what may sit in a config file: the mode, the origin allow-list, the
trusted hosts, token lifetimes and the quotas. Authentication is on unless the config says
``auth: {mode: off}`` (for a closed network only; ``startup_warning()`` is what the ingress
prints loudly then).

Secrets come only from the environment, through ``load_access_secrets(env)``:

- ``GLOSSIFY_API_KEYS``: comma-separated service keys, each with every scope unless written
  ``key=scope+scope`` (see ``glossify.access.keys``);
- ``GLOSSIFY_AUTH_SECRET``: the token signing secrets, comma-separated, at least 32 characters
  each; the first signs, all verify (see ``glossify.access.tokens``). Required when auth is on.

They are held as ``SecretStr``: ``repr``, ``str`` and ``model_dump_json`` of ``AccessSecrets``
show ``**********`` and key ids, never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    field_validator,
    model_validator,
)

from glossify.access.keys import API_KEYS_VARIABLE, ServiceKeys, parse_api_keys
from glossify.access.origins import OriginPolicy, normalise_origin
from glossify.access.tokens import MIN_SECRET_LENGTH, TokenSigner

AUTH_SECRET_VARIABLE = "GLOSSIFY_AUTH_SECRET"

AUTH_OFF_WARNING = (
    "AUTHENTICATION IS OFF (auth.mode: off): anyone who can reach this server can read, speak "
    "in, host and stop every meeting and write the glossary. Use it only on a closed network."
)


class AccessConfigError(ValueError):
    """An access setting or secret is missing or wrong; the message names it, never a secret."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuotaConfig(_Strict):
    """Limits per meeting, client address, service key and shard. Beyond one: 429 with
    ``Retry-After`` on REST, an ``error`` event or close code 4429 on a socket."""

    # Open sockets (listeners and senders together).
    sockets_per_meeting: Annotated[int, Field(ge=1)] = 200
    # Behind a proxy every client shares its address: raise this, or let the proxy limit.
    sockets_per_address: Annotated[int, Field(ge=1)] = 50
    # Sockets sending audio at once; each costs a VAD and Transcriber work.
    audio_senders_per_meeting: Annotated[int, Field(ge=1)] = 8
    # Lines entering a meeting (finals and partials, from audio and /stt together).
    lines_per_s: Annotated[float, Field(gt=0.0)] = 20.0
    lines_burst: Annotated[int, Field(ge=1)] = 40
    # REST requests per service key: rate and burst.
    key_requests_per_s: Annotated[float, Field(gt=0.0)] = 200.0
    key_requests_burst: Annotated[int, Field(ge=1)] = 400
    # Meetings held open by one meeting-host actor.
    meetings_per_shard: Annotated[int, Field(ge=1)] = 500
    # A meeting's glossary size and stored transcript length.
    terms_per_meeting: Annotated[int, Field(ge=1)] = 2000
    lines_per_meeting: Annotated[int, Field(ge=1)] = 20000
    # Requests waiting for the ingress beyond its ongoing ones (Serve ``max_queued_requests``);
    # finite so an overload is refused (503) rather than queued without end.
    queued_requests: Annotated[int, Field(ge=1)] = 1000


class AccessConfig(_Strict):
    """The ``auth`` block: who may call Glossify and how much."""

    mode: Literal["on", "off"] = "on"
    # Origins of web pages allowed to call from a browser, scheme://host[:port]. Empty:
    # same-origin only (the pages Glossify serves itself).
    allowed_origins: list[str] = Field(default_factory=list)
    # Host names this server answers to: "*" any, "*.example.com" its subdomains.
    trusted_hosts: list[str] = Field(default_factory=lambda: ["*"])
    # Let allowed origins send cookies; off, since callers authenticate with headers.
    cors_credentials: bool = False
    # Lifetime of minted meeting tokens when the request names none, and the most allowed
    # (also enforced on tokens an organisation's back end mints).
    token_default_ttl_s: Annotated[int, Field(ge=60)] = 4 * 3600
    token_max_ttl_s: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 24 * 3600
    # Frozen, so one shared default instance is safe.
    quotas: QuotaConfig = QuotaConfig()

    @field_validator("mode", mode="before")
    @classmethod
    def _yaml_switch(cls, value: object) -> object:
        # YAML reads a bare `off` as false and `on` as true.
        return {False: "off", True: "on"}.get(value, value) if isinstance(value, bool) else value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        if "*" in value:
            raise ValueError("list origins explicitly; '*' is not allowed")
        return [normalise_origin(origin) for origin in value]

    @model_validator(mode="after")
    def _consistent(self) -> AccessConfig:
        if self.token_default_ttl_s > self.token_max_ttl_s:
            raise ValueError("token_default_ttl_s must not exceed token_max_ttl_s")
        # Refuses a malformed trusted-host pattern now rather than at the first request.
        self.origin_policy()
        return self

    def origin_policy(self) -> OriginPolicy:
        return OriginPolicy(
            self.allowed_origins, self.trusted_hosts, allow_credentials=self.cors_credentials
        )

    def startup_warning(self) -> str | None:
        """What the ingress must log at WARNING (or louder) on start-up, if anything."""
        return AUTH_OFF_WARNING if self.mode == "off" else None


def _describe_keys(keys: ServiceKeys) -> list[dict[str, Any]]:
    return [{"key_id": key.key_id, "scopes": sorted(key.scopes)} for key in keys]


class AccessSecrets(BaseModel):
    """The service keys and signing secrets from the environment."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    service_keys: Annotated[ServiceKeys, PlainSerializer(_describe_keys)]
    signing_secrets: tuple[SecretStr, ...]

    def signer(self, max_ttl_s: int) -> TokenSigner | None:
        """The token signer, or None when no signing secret is set (auth mode off)."""
        if not self.signing_secrets:
            return None
        return TokenSigner(list(self.signing_secrets), max_ttl_s=max_ttl_s)


def load_access_secrets(
    env: Mapping[str, str], *, mode: Literal["on", "off"] = "on"
) -> AccessSecrets:
    """Read ``GLOSSIFY_API_KEYS`` and ``GLOSSIFY_AUTH_SECRET`` from ``env``.

    Raises ``AccessConfigError`` naming the variable and the bad entry, or the missing signing
    secret when ``mode`` is on.
    """
    try:
        keys = parse_api_keys(env.get(API_KEYS_VARIABLE, ""))
    except ValueError as error:
        raise AccessConfigError(str(error)) from None
    signing_secrets = _signing_secrets(env.get(AUTH_SECRET_VARIABLE, ""))
    if mode == "on" and not signing_secrets:
        raise AccessConfigError(
            f"{AUTH_SECRET_VARIABLE} is not set: auth mode on needs a token signing secret of "
            f"at least {MIN_SECRET_LENGTH} characters (glossify up and glossify demo generate "
            "one under GLOSSIFY_HOME)"
        )
    return AccessSecrets(service_keys=keys, signing_secrets=signing_secrets)


def _signing_secrets(value: str) -> tuple[SecretStr, ...]:
    if not value.strip():
        return ()
    secrets: list[SecretStr] = []
    for number, entry in enumerate(value.split(","), start=1):
        text = entry.strip()
        if not text:
            raise AccessConfigError(f"{AUTH_SECRET_VARIABLE}: secret {number} is empty")
        if len(text) < MIN_SECRET_LENGTH:
            raise AccessConfigError(
                f"{AUTH_SECRET_VARIABLE}: secret {number} is shorter than "
                f"{MIN_SECRET_LENGTH} characters"
            )
        secrets.append(SecretStr(text))
    try:
        TokenSigner(secrets)
    except ValueError as error:  # a repeated secret
        raise AccessConfigError(f"{AUTH_SECRET_VARIABLE}: {error}") from None
    return tuple(secrets)
