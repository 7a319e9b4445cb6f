"""Service API keys: trusted server-side callers, from the environment only.

``GLOSSIFY_API_KEYS`` is a comma-separated list of keys; each has every scope unless written
``key=scope+scope``::

    GLOSSIFY_API_KEYS="k8Zr...oldkey,Qm4x...newkey,Tz0p...botkey=meetings:write+meetings:read"

Several keys may be listed at once, so a key is rotated by adding the new one, moving callers
over, then removing the old one. A key is at least 16 characters of letters, digits and
``-_.~+/`` (``secrets.token_urlsafe(32)`` makes a good one), never contains ``,`` or ``=``
(they separate entries and scopes) and never has exactly two dots (that shape is a meeting
token). Callers send ``Authorization: Bearer <key>``.

Keys are held as ``SecretStr``; logs and metrics name a key by its ``key_id`` (the first 8 hex
digits of its SHA-256), never by its text. ``ServiceKeys.verify`` compares the SHA-256 of the
presented text with that of every key using ``hmac.compare_digest``: the digests have one
length, and every key is compared whichever matches, so the time taken tells nothing about the
keys' lengths or about which key matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from pydantic import SecretStr

from glossify.access.scopes import ALL_SCOPES, Scope

API_KEYS_VARIABLE = "GLOSSIFY_API_KEYS"
MIN_KEY_LENGTH = 16
MAX_KEY_LENGTH = 512

_KEY_CHARACTERS = re.compile(r"[A-Za-z0-9_.~+/-]+")
_SCOPES_BY_NAME = {scope.value: scope for scope in Scope}


def key_id(secret: str) -> str:
    """A stable, non-secret name for a key or a signing secret: 8 hex digits of its SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class ServiceKey:
    """One service key: its secret text, its scopes and its loggable id."""

    secret: SecretStr = field(repr=False)
    scopes: frozenset[Scope]
    key_id: str
    # SHA-256 of the key: what verify compares against. Kept out of reprs: it is as good as the
    # key for an offline guessing attack on a weak key.
    digest: bytes = field(repr=False, compare=False)

    @classmethod
    def create(cls, secret: str, scopes: frozenset[Scope] = ALL_SCOPES) -> ServiceKey:
        """A key from its text; the caller has checked the text (``parse_api_keys`` does)."""
        digest = hashlib.sha256(secret.encode("utf-8")).digest()
        return cls(SecretStr(secret), frozenset(scopes), digest.hex()[:8], digest)


class ServiceKeys:
    """The configured service keys; ``verify`` finds the one a caller presented."""

    def __init__(self, keys: Sequence[ServiceKey] = ()) -> None:
        self._keys = tuple(keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[ServiceKey]:
        return iter(self._keys)

    def __repr__(self) -> str:
        return f"ServiceKeys({[key.key_id for key in self._keys]})"

    def verify(self, presented: str) -> ServiceKey | None:
        """The key whose text is ``presented``, or None.

        Every key is compared, with no early exit, on fixed-length digests: timing reveals only
        how many keys are configured.
        """
        try:
            digest = hashlib.sha256(presented.encode("utf-8")).digest()
        except UnicodeEncodeError:  # lone surrogates: no key can match
            return None
        found: ServiceKey | None = None
        for key in self._keys:
            if hmac.compare_digest(digest, key.digest):
                found = key
        return found


def parse_api_keys(value: str, variable: str = API_KEYS_VARIABLE) -> ServiceKeys:
    """Parse ``GLOSSIFY_API_KEYS``; an empty or blank value means no keys.

    Raises ``ValueError`` naming ``variable`` and the 1-based entry number of a bad entry; the
    message never quotes a key (a typo in a scope may well be part of a key).
    """
    if not value.strip():
        return ServiceKeys()
    keys: list[ServiceKey] = []
    first_entry_of: dict[bytes, int] = {}
    for number, entry in enumerate(value.split(","), start=1):
        key = _parse_entry(entry.strip(), number, variable)
        if key.digest in first_entry_of:
            raise ValueError(
                f"{variable}: entry {number} repeats entry {first_entry_of[key.digest]}"
            )
        first_entry_of[key.digest] = number
        keys.append(key)
    return ServiceKeys(keys)


def _parse_entry(entry: str, number: int, variable: str) -> ServiceKey:
    def bad(why: str) -> ValueError:
        return ValueError(f"{variable}: entry {number} {why}")

    text, has_scopes, scope_list = entry.partition("=")
    text = text.strip()
    if not text:
        raise bad("has scopes but no key" if has_scopes else "is empty")
    if len(text) < MIN_KEY_LENGTH:
        raise bad(f"is shorter than {MIN_KEY_LENGTH} characters")
    if len(text) > MAX_KEY_LENGTH:
        raise bad(f"is longer than {MAX_KEY_LENGTH} characters")
    if not _KEY_CHARACTERS.fullmatch(text):
        raise bad("has a character other than letters, digits and -_.~+/")
    if text.count(".") == 2:
        raise bad("has exactly two dots, the shape of a meeting token")
    if not has_scopes:
        return ServiceKey.create(text)
    if not scope_list.strip():
        raise bad("has '=' but no scopes after it")
    scopes: set[Scope] = set()
    for position, name in enumerate(scope_list.split("+"), start=1):
        scope = _SCOPES_BY_NAME.get(name.strip())
        if scope is None:
            known = ", ".join(_SCOPES_BY_NAME)
            raise bad(f"has an unknown scope (scope {position}; known scopes: {known})")
        scopes.add(scope)
    return ServiceKey.create(text, frozenset(scopes))
