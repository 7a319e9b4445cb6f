"""The secrets ``glossify up`` and ``glossify demo`` need, generated once under GLOSSIFY_HOME.

``ensure_local_secrets(home)`` returns a token signing secret and a local service key with
every scope, which the CLI commands send as their ``Bearer`` credential. Each is made once with
``secrets.token_urlsafe(32)`` and kept in ``<home>/secrets/`` (``auth-secret``,
``service-key``): files of mode 0600 in a directory of mode 0700, reused on later runs, so
tokens and join links stay valid across restarts. A variable that is set wins over its file,
which is then neither read nor created: ``GLOSSIFY_AUTH_SECRET`` for the signing secret,
``GLOSSIFY_API_KEYS`` for the service keys (the CLI then uses the first key with every scope,
else the first key).

``LocalSecrets.environment()`` gives the two variables to serve with. Nothing here logs or
shows a secret; a file found readable by others is made private again, with a warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from glossify.access.keys import API_KEYS_VARIABLE, parse_api_keys
from glossify.access.scopes import ALL_SCOPES
from glossify.access.tokens import MIN_SECRET_LENGTH
from glossify.config.access import AUTH_SECRET_VARIABLE, AccessConfigError, load_access_secrets

log = logging.getLogger(__name__)

HOME_VARIABLE = "GLOSSIFY_HOME"
SECRETS_DIRECTORY = "secrets"
SIGNING_SECRET_FILE = "auth-secret"
SERVICE_KEY_FILE = "service-key"
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class LocalSecrets:
    """What the local stack serves with and what its CLI commands send."""

    signing_secrets: SecretStr = field(repr=False)  # the GLOSSIFY_AUTH_SECRET value
    api_keys: SecretStr = field(repr=False)  # the GLOSSIFY_API_KEYS value
    cli_key: SecretStr = field(repr=False)  # the service key the CLI commands send
    directory: Path

    def environment(self) -> dict[str, str]:
        """``GLOSSIFY_AUTH_SECRET`` and ``GLOSSIFY_API_KEYS`` for the serving processes."""
        return {
            AUTH_SECRET_VARIABLE: self.signing_secrets.get_secret_value(),
            API_KEYS_VARIABLE: self.api_keys.get_secret_value(),
        }


def default_home(env: Mapping[str, str] | None = None) -> Path:
    """``GLOSSIFY_HOME``, else ``~/.glossify``."""
    env = os.environ if env is None else env
    value = env.get(HOME_VARIABLE)
    return Path(value) if value else Path.home() / ".glossify"


def ensure_local_secrets(home: Path, env: Mapping[str, str] | None = None) -> LocalSecrets:
    """The local secrets, from the environment where set, else from (new) files in ``home``.

    Raises ``AccessConfigError`` when a variable or a file holds something unusable (the
    message names it; delete a bad file to have a new one generated).
    """
    env = os.environ if env is None else env
    directory = home / SECRETS_DIRECTORY
    from_env = load_access_secrets(env, mode="off")  # validates whichever variable is set
    if from_env.signing_secrets:
        signing = SecretStr(env[AUTH_SECRET_VARIABLE])
    else:
        signing = SecretStr(_read_or_create(directory, SIGNING_SECRET_FILE, _valid_signing))
    if len(from_env.service_keys):
        api_keys = SecretStr(env[API_KEYS_VARIABLE])
        keys = list(from_env.service_keys)
        everything = [key for key in keys if key.scopes == ALL_SCOPES]
        cli_key = (everything or keys)[0].secret
    else:
        key = _read_or_create(directory, SERVICE_KEY_FILE, _valid_service_key)
        api_keys = cli_key = SecretStr(key)
    return LocalSecrets(signing, api_keys, cli_key, directory)


def _valid_signing(text: str) -> bool:
    return len(text) >= MIN_SECRET_LENGTH and "," not in text


def _valid_service_key(text: str) -> bool:
    try:
        return len(parse_api_keys(text)) == 1 and "=" not in text
    except ValueError:
        return False


def _read_or_create(directory: Path, name: str, valid: Callable[[str], bool]) -> str:
    _private_directory(directory)
    path = directory / name
    if not path.exists():
        _create_once(path, secrets.token_urlsafe(32))
    _private_file(path)
    text = path.read_text(encoding="utf-8").strip()
    if not valid(text):
        raise AccessConfigError(
            f"{path} does not hold a usable secret; delete it to have a new one generated"
        )
    return text


def _create_once(path: Path, value: str) -> None:
    """Write ``value`` to ``path`` unless it exists, atomically: two commands starting at once
    both end up with the same secret, and nobody reads a half-written file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), FILE_MODE)  # whatever the umask
            file.write(value + "\n")
            file.flush()
            os.fsync(file.fileno())
        # link() refuses to replace an existing file, unlike rename(): the first writer wins.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _private_directory(directory: Path) -> None:
    directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(directory.stat().st_mode) != DIRECTORY_MODE:
        log.warning("%s was not private; setting its mode to 0700", directory)
        directory.chmod(DIRECTORY_MODE)


def _private_file(path: Path) -> None:
    if stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
        log.warning("%s was not private; setting its mode to 0600", path)
        path.chmod(FILE_MODE)
