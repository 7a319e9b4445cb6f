"""Secrets generated once under GLOSSIFY_HOME for glossify up / demo."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from glossify.access.keys import parse_api_keys
from glossify.access.local_secrets import (
    DIRECTORY_MODE,
    FILE_MODE,
    _create_once,
    default_home,
    ensure_local_secrets,
)
from glossify.access.scopes import ALL_SCOPES
from glossify.config.access import AccessConfigError, load_access_secrets

ENV_SECRET = "environment-signing-secret-0123456789abcdef"
ENV_KEYS = "env-read-key-0123456789=meetings:read,env-full-key-0123456789"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generates_private_files_once(tmp_path: Path) -> None:
    first = ensure_local_secrets(tmp_path, env={})
    directory = tmp_path / "secrets"
    assert first.directory == directory
    assert mode(directory) == DIRECTORY_MODE == 0o700
    for name in ("auth-secret", "service-key"):
        assert mode(directory / name) == FILE_MODE == 0o600
    assert (directory / "auth-secret").read_text().strip() == (
        first.signing_secrets.get_secret_value()
    )
    assert len(first.signing_secrets.get_secret_value()) >= 43
    assert first.cli_key == first.api_keys
    assert sorted(p.name for p in directory.iterdir()) == ["auth-secret", "service-key"]

    again = ensure_local_secrets(tmp_path, env={})
    assert again.signing_secrets == first.signing_secrets
    assert again.cli_key == first.cli_key


def test_environment_serves_with_the_generated_secrets(tmp_path: Path) -> None:
    local = ensure_local_secrets(tmp_path, env={})
    loaded = load_access_secrets(local.environment())
    (key,) = loaded.service_keys
    assert key.scopes == ALL_SCOPES
    assert loaded.service_keys.verify(local.cli_key.get_secret_value()) is not None
    signer = loaded.signer(3600)
    assert signer is not None
    assert signer.verify(signer.mint("m1", "host", "cli", 60).token).subject == "cli"


def test_environment_variables_win_and_no_file_is_made(tmp_path: Path) -> None:
    env = {"GLOSSIFY_AUTH_SECRET": ENV_SECRET, "GLOSSIFY_API_KEYS": ENV_KEYS}
    local = ensure_local_secrets(tmp_path, env=env)
    assert local.signing_secrets.get_secret_value() == ENV_SECRET
    assert local.api_keys.get_secret_value() == ENV_KEYS
    assert local.cli_key.get_secret_value() == "env-full-key-0123456789"  # the one with all scopes
    assert not (tmp_path / "secrets").exists()


def test_one_variable_set_one_file_made(tmp_path: Path) -> None:
    local = ensure_local_secrets(tmp_path, env={"GLOSSIFY_AUTH_SECRET": ENV_SECRET})
    assert local.signing_secrets.get_secret_value() == ENV_SECRET
    assert sorted(p.name for p in (tmp_path / "secrets").iterdir()) == ["service-key"]


def test_cli_key_is_the_first_when_none_has_every_scope(tmp_path: Path) -> None:
    keys = "first-key-0123456789=meetings:read,second-key-0123456789=tokens:mint"
    local = ensure_local_secrets(tmp_path, env={"GLOSSIFY_API_KEYS": keys})
    assert local.cli_key.get_secret_value() == "first-key-0123456789"


def test_bad_variables_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AccessConfigError, match="GLOSSIFY_AUTH_SECRET"):
        ensure_local_secrets(tmp_path, env={"GLOSSIFY_AUTH_SECRET": "short"})
    with pytest.raises(AccessConfigError, match="GLOSSIFY_API_KEYS"):
        ensure_local_secrets(tmp_path, env={"GLOSSIFY_API_KEYS": "short"})


def test_loose_permissions_are_tightened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    local = ensure_local_secrets(tmp_path, env={})
    directory = tmp_path / "secrets"
    (directory / "auth-secret").chmod(0o644)
    directory.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="glossify.access.local_secrets"):
        again = ensure_local_secrets(tmp_path, env={})
    assert again.signing_secrets == local.signing_secrets
    assert mode(directory) == 0o700 and mode(directory / "auth-secret") == 0o600
    assert "not private" in caplog.text
    assert local.signing_secrets.get_secret_value() not in caplog.text


def test_a_bad_file_is_reported_not_replaced(tmp_path: Path) -> None:
    ensure_local_secrets(tmp_path, env={})
    path = tmp_path / "secrets" / "service-key"
    path.write_text("short\n")
    with pytest.raises(AccessConfigError) as caught:
        ensure_local_secrets(tmp_path, env={})
    message = str(caught.value)
    assert str(path) in message and "short" not in message.replace(str(path), "")
    assert path.read_text() == "short\n"


def test_first_writer_wins(tmp_path: Path) -> None:
    path = tmp_path / "value"
    _create_once(path, "first")
    _create_once(path, "second")
    assert path.read_text() == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["value"]  # no temporary file left


def test_secrets_never_in_repr(tmp_path: Path) -> None:
    local = ensure_local_secrets(tmp_path, env={})
    for text in (repr(local), str(local)):
        assert local.signing_secrets.get_secret_value() not in text
        assert local.cli_key.get_secret_value() not in text


def test_generated_key_parses_as_one_full_key(tmp_path: Path) -> None:
    local = ensure_local_secrets(tmp_path, env={})
    (key,) = parse_api_keys(local.api_keys.get_secret_value())
    assert key.scopes == ALL_SCOPES


def test_default_home() -> None:
    assert default_home({"GLOSSIFY_HOME": "/srv/glossify"}) == Path("/srv/glossify")
    assert default_home({}) == Path.home() / ".glossify"
