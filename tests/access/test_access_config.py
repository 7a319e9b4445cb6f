"""The access configuration model and the secrets from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from glossify.access.scopes import ALL_SCOPES, Scope
from glossify.config.access import (
    AUTH_OFF_WARNING,
    AccessConfig,
    AccessConfigError,
    QuotaConfig,
    load_access_secrets,
)

KEY_A = "config-key-a-0123456789abcdef"
KEY_B = "config-key-b-0123456789abcdef"
SECRET_1 = "config-signing-secret-one-0123456789abcdef"
SECRET_2 = "config-signing-secret-two-0123456789abcdef"


def test_defaults() -> None:
    config = AccessConfig()
    assert config.mode == "on" and config.startup_warning() is None
    assert config.allowed_origins == [] and config.trusted_hosts == ["*"]
    assert not config.cors_credentials
    assert (config.token_default_ttl_s, config.token_max_ttl_s) == (4 * 3600, 24 * 3600)
    assert config.quotas == QuotaConfig()
    assert config.quotas.model_dump() == {
        "sockets_per_meeting": 200,
        "sockets_per_address": 50,
        "audio_senders_per_meeting": 8,
        "lines_per_s": 20.0,
        "lines_burst": 40,
        "key_requests_per_s": 200.0,
        "key_requests_burst": 400,
        "meetings_per_shard": 500,
        "terms_per_meeting": 2000,
        "lines_per_meeting": 20000,
        "queued_requests": 1000,
    }


def test_mode_off_is_said_loudly() -> None:
    config = AccessConfig.model_validate({"mode": "off"})
    assert config.startup_warning() == AUTH_OFF_WARNING
    assert "AUTHENTICATION IS OFF" in AUTH_OFF_WARNING


@pytest.mark.parametrize(
    "data",
    [
        {"mode": "maybe"},
        {"secret": "x"},
        {"quotas": {"sockets_per_meeting": 0}},
        {"quotas": {"lines_per_s": 0}},
        {"quotas": {"unknown": 1}},
        {"allowed_origins": ["*"]},
        {"allowed_origins": ["example.com"]},
        {"trusted_hosts": ["http://example.com"]},
        {"token_default_ttl_s": 7200, "token_max_ttl_s": 3600},
        {"token_max_ttl_s": 30 * 24 * 3600},
    ],
)
def test_wrong_settings_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AccessConfig.model_validate(data)


def test_origins_are_normalised_and_make_a_policy() -> None:
    config = AccessConfig(
        allowed_origins=["HTTPS://App.Example.com:443"], trusted_hosts=["glossify.example.com"]
    )
    assert config.allowed_origins == ["https://app.example.com"]
    policy = config.origin_policy()
    assert policy.allows("https://app.example.com")
    assert policy.host_allowed("glossify.example.com") and not policy.host_allowed("x.com")


def test_config_is_frozen() -> None:
    with pytest.raises(ValidationError):
        AccessConfig().mode = "off"


def test_secrets_from_the_environment() -> None:
    secrets = load_access_secrets(
        {
            "GLOSSIFY_API_KEYS": f"{KEY_A},{KEY_B}=meetings:read",
            "GLOSSIFY_AUTH_SECRET": f"{SECRET_1}, {SECRET_2}",
        }
    )
    assert [key.scopes for key in secrets.service_keys] == [
        ALL_SCOPES,
        frozenset({Scope.MEETINGS_READ}),
    ]
    assert [s.get_secret_value() for s in secrets.signing_secrets] == [SECRET_1, SECRET_2]
    signer = secrets.signer(max_ttl_s=3600)
    assert signer is not None and signer.max_ttl_s == 3600
    token = signer.mint("m1", "host", "Ada", 60).token
    assert signer.verify(token).meeting_id == "m1"


def test_secrets_never_show() -> None:
    secrets = load_access_secrets({"GLOSSIFY_API_KEYS": KEY_A, "GLOSSIFY_AUTH_SECRET": SECRET_1})
    dumped = secrets.model_dump_json()
    for text in (repr(secrets), str(secrets), dumped, str(secrets.model_dump())):
        assert KEY_A not in text and SECRET_1 not in text
    assert "**********" in dumped and next(iter(secrets.service_keys)).key_id in dumped


def test_auth_on_needs_a_signing_secret() -> None:
    with pytest.raises(AccessConfigError, match="GLOSSIFY_AUTH_SECRET is not set"):
        load_access_secrets({"GLOSSIFY_API_KEYS": KEY_A})
    off = load_access_secrets({}, mode="off")
    assert len(off.service_keys) == 0 and off.signing_secrets == ()
    assert off.signer(3600) is None


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"GLOSSIFY_AUTH_SECRET": f"{SECRET_1},,"}, "GLOSSIFY_AUTH_SECRET: secret 2 is empty"),
        ({"GLOSSIFY_AUTH_SECRET": "too-short-secret"}, "secret 1 is shorter than 32"),
        ({"GLOSSIFY_AUTH_SECRET": f"{SECRET_1},{SECRET_1}"}, "secret 2 repeats"),
        (
            {"GLOSSIFY_AUTH_SECRET": SECRET_1, "GLOSSIFY_API_KEYS": f"{KEY_A}=meetings:wrote"},
            "GLOSSIFY_API_KEYS: entry 1 has an unknown scope",
        ),
        ({"GLOSSIFY_AUTH_SECRET": SECRET_1, "GLOSSIFY_API_KEYS": "short"}, "entry 1 is shorter"),
    ],
)
def test_bad_secrets_name_the_variable_never_the_value(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(AccessConfigError) as caught:
        load_access_secrets(env)
    message = str(caught.value)
    assert fragment in message
    for value in (SECRET_1, KEY_A, "too-short-secret"):
        assert value not in message
