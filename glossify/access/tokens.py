"""Per-meeting access tokens: HS256-signed JWTs that any ingress replica verifies alone.

A token lets a browser or other client into one meeting with one role. Glossify mints them at
``POST /meeting/{mid}/tokens``; an organisation's own back end may mint them too, with a secret
listed in ``GLOSSIFY_AUTH_SECRET``, by following this exactly.

**Secrets.** ``GLOSSIFY_AUTH_SECRET`` is a comma-separated list of secrets of at least 32
characters (``secrets.token_urlsafe(32)``); the first signs, every one verifies. To rotate, put
the new secret first and keep the old one after it until the tokens it signed have expired, then
remove it. The HMAC key is the secret's UTF-8 bytes.

**Header** (JOSE)::

    {"alg": "HS256", "typ": "JWT", "kid": "<key id>"}

``alg`` must be ``HS256`` (``none`` and every other algorithm are refused). ``kid`` is required:
the first 8 lower-case hex digits of the SHA-256 of the secret's UTF-8 bytes; it picks the
secret that verifies.

**Claims** (a JSON object; other claims are ignored)::

    iss   "glossify"                                   exactly this string
    mid   the meeting id, [A-Za-z0-9_-]{1,64}
    role  "listener" | "speaker" | "host"
    sub   display name, 1-128 characters, no control characters; a speaker's lines carry it
    iat   issued at, seconds since the Unix epoch (a number)
    exp   expiry, seconds since the Unix epoch; iat < exp <= iat + 86400 (the maximum time to
          live, ``token_max_ttl_s``)
    nbf   optional: not valid before, seconds since the Unix epoch
    jti   optional: a token id string of at most 64 characters (Glossify puts a random one)

A leeway of 10 s absorbs clock skew on ``exp``, ``iat`` and ``nbf``. A socket's connection is
gated by ``exp``: it is refused after it, and an open socket is closed when it comes.

Minting with PyJWT, for example::

    kid = hashlib.sha256(secret.encode()).hexdigest()[:8]
    now = int(time.time())
    token = jwt.encode(
        {"iss": "glossify", "mid": "weekly-sync", "role": "listener", "sub": "Ada",
         "iat": now, "exp": now + 3600},
        secret, algorithm="HS256", headers={"kid": kid})

The join link of the meeting page is ``/m/{mid}#token=<token>``: the fragment never reaches a
server, so the token stays out of access logs.

**Errors.** ``verify`` raises ``TokenError`` with one of the ``code`` values ``malformed``,
``bad_algorithm``, ``unknown_key``, ``bad_signature``, ``bad_claims``, ``expired`` and
``not_yet_valid``; its message is fixed text, never the token or any part of it.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from secrets import token_urlsafe
from typing import Annotated, Any, Literal, TypeGuard

import jwt
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from glossify.access.keys import key_id
from glossify.access.scopes import Role
from glossify.protocol import MAX_SPEAKER_CHARS, MEETING_ID, ProtocolError

ISSUER = "glossify"
ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 32
DEFAULT_MAX_TTL_S = 24 * 3600
DEFAULT_LEEWAY_S = 10
DEFAULT_SUBJECT = "guest"
MAX_SUBJECT_LENGTH = MAX_SPEAKER_CHARS
MAX_TOKEN_ID_LENGTH = 64
# Far above any token Glossify or a sane back end mints; bounds the work spent on garbage.
MAX_TOKEN_LENGTH = 4096

# Compact serialisation, base64url without padding: header.payload.signature
# (an empty signature is let through so that "alg": "none" is answered as such).
_COMPACT_JWS = re.compile(r"([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_ROLE_NAMES = frozenset(role.value for role in Role)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

TokenErrorCode = Literal[
    "malformed",
    "bad_algorithm",
    "unknown_key",
    "bad_signature",
    "bad_claims",
    "expired",
    "not_yet_valid",
]


class TokenError(Exception):
    """A token that does not verify. ``code`` is machine-readable; ``message`` is safe to show."""

    def __init__(self, code: TokenErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: TokenErrorCode = code
        self.message = message

    def __repr__(self) -> str:
        return f"TokenError({self.code!r}, {self.message!r})"


@dataclass(frozen=True)
class MeetingClaims:
    """What a verified token says."""

    meeting_id: str
    role: Role
    subject: str
    issued_at: float
    expires_at: float
    key_id: str
    token_id: str | None = None


@dataclass(frozen=True)
class MintedToken:
    """A freshly signed token; the token text is kept out of the repr."""

    token: str = field(repr=False)
    expires_at: int
    claims: MeetingClaims

    @property
    def expires_at_iso(self) -> str:
        return datetime.fromtimestamp(self.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def response(self) -> dict[str, str]:
        """The body of ``POST /meeting/{mid}/tokens``: ``{"token", "expires_at", "url"}``."""
        return {
            "token": self.token,
            "expires_at": self.expires_at_iso,
            "url": join_url(self.claims.meeting_id, self.token),
        }


def join_url(meeting_id: str, token: str) -> str:
    """The meeting page's join link; the token rides in the fragment, which no server sees."""
    return f"/m/{meeting_id}#token={token}"


def valid_subject(subject: str) -> bool:
    return 0 < len(subject) <= MAX_SUBJECT_LENGTH and not _CONTROL_CHARACTERS.search(subject)


class MintRequest(BaseModel):
    """The body of ``POST /meeting/{mid}/tokens``: ``{"role", "subject"?, "ttl_s"?}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    subject: str = DEFAULT_SUBJECT
    # None: the configured default (``token_default_ttl_s``); above the maximum is refused.
    ttl_s: Annotated[int | None, Field(ge=60)] = None

    @field_validator("subject")
    @classmethod
    def _check_subject(cls, value: str) -> str:
        value = value.strip()
        if not valid_subject(value):
            raise ValueError(
                f"must be 1-{MAX_SUBJECT_LENGTH} characters without control characters"
            )
        return value

    def ttl_within(self, default_s: int, max_s: int) -> int:
        """The lifetime to mint: ``ttl_s``, else ``default_s``; a 400 ``invalid_ttl``
        (``ProtocolError``) above ``max_s``."""
        ttl_s = default_s if self.ttl_s is None else self.ttl_s
        if ttl_s > max_s:
            raise ProtocolError(400, "invalid_ttl", f"ttl_s must be at most {max_s} seconds")
        return ttl_s


class TokenSigner:
    """Mints and verifies meeting tokens with the configured secrets; the first one signs.

    ``secrets`` come from ``GLOSSIFY_AUTH_SECRET``. Holds no state beyond the secrets, so every
    replica verifies every other replica's tokens.
    """

    def __init__(
        self,
        secrets: Sequence[SecretStr],
        *,
        max_ttl_s: int = DEFAULT_MAX_TTL_S,
        leeway_s: int = DEFAULT_LEEWAY_S,
    ) -> None:
        if not secrets:
            raise ValueError("TokenSigner needs at least one signing secret")
        if max_ttl_s <= 0 or leeway_s < 0:
            raise ValueError("max_ttl_s must be positive and leeway_s not negative")
        by_id: dict[str, bytes] = {}
        for number, secret in enumerate(secrets, start=1):
            text = secret.get_secret_value()
            if len(text) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"signing secret {number} is shorter than {MIN_SECRET_LENGTH} characters"
                )
            kid = key_id(text)
            if kid in by_id:
                raise ValueError(f"signing secret {number} repeats an earlier one (same key id)")
            by_id[kid] = text.encode("utf-8")
        self._secrets: Mapping[str, bytes] = by_id
        self._signing_key_id = next(iter(by_id))
        self.max_ttl_s = max_ttl_s
        self.leeway_s = leeway_s
        # HS256 only; PyJWT refuses keys shorter than the hash rather than warning.
        self._jws = jwt.PyJWS(algorithms=[ALGORITHM], options={"enforce_minimum_key_length": True})

    def __repr__(self) -> str:
        return f"TokenSigner(key_ids={list(self._secrets)}, max_ttl_s={self.max_ttl_s})"

    @property
    def signing_key_id(self) -> str:
        return self._signing_key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._secrets)

    def mint(
        self,
        meeting_id: str,
        role: Role | str,
        subject: str,
        ttl_s: int,
        now: float | None = None,
    ) -> MintedToken:
        """Sign a token for ``meeting_id``; raises ``ValueError`` for an invalid argument
        (unknown role, bad meeting id or subject, ``ttl_s`` outside 1..max_ttl_s)."""
        if not MEETING_ID.fullmatch(meeting_id):
            raise ValueError("meeting id must match [A-Za-z0-9_-]{1,64}")
        role = Role(role)
        if not valid_subject(subject):
            raise ValueError(
                f"subject must be 1-{MAX_SUBJECT_LENGTH} characters without control characters"
            )
        if not 0 < ttl_s <= self.max_ttl_s:
            raise ValueError(f"ttl_s must be between 1 and {self.max_ttl_s} seconds")
        issued_at = int(time.time() if now is None else now)
        expires_at = issued_at + ttl_s
        token_id = token_urlsafe(12)
        payload = {
            "iss": ISSUER,
            "mid": meeting_id,
            "role": role.value,
            "sub": subject,
            "iat": issued_at,
            "exp": expires_at,
            "jti": token_id,
        }
        token = self._jws.encode(
            json.dumps(payload, separators=(",", ":")).encode("utf-8"),
            self._secrets[self._signing_key_id],
            algorithm=ALGORITHM,
            headers={"kid": self._signing_key_id, "typ": "JWT"},
        )
        claims = MeetingClaims(
            meeting_id, role, subject, issued_at, expires_at, self._signing_key_id, token_id
        )
        return MintedToken(token, expires_at, claims)

    def verify(self, token: str, now: float | None = None) -> MeetingClaims:
        """The claims of a valid token; anything else raises ``TokenError``."""
        if not isinstance(token, str) or not token.isascii() or len(token) > MAX_TOKEN_LENGTH:
            raise TokenError("malformed", "the token is not a JWT")
        header = self._header(token)
        if header.get("alg") != ALGORITHM:
            raise TokenError("bad_algorithm", "only HS256 tokens are accepted")
        kid = header.get("kid")
        secret = self._secrets.get(kid) if isinstance(kid, str) else None
        if not isinstance(kid, str) or secret is None:
            raise TokenError("unknown_key", "the token's key id names no configured secret")
        try:
            payload = self._jws.decode(token, secret, algorithms=[ALGORITHM])
        except jwt.InvalidSignatureError:
            raise TokenError("bad_signature", "the token's signature does not verify") from None
        except jwt.InvalidAlgorithmError:
            raise TokenError("bad_algorithm", "only HS256 tokens are accepted") from None
        except jwt.PyJWTError:
            raise TokenError("malformed", "the token is not a JWT") from None
        try:
            claims = json.loads(payload)
        except (ValueError, RecursionError):
            raise TokenError("malformed", "the token's payload is not JSON") from None
        if not isinstance(claims, dict):
            raise TokenError("malformed", "the token's payload is not a JSON object")
        return self._check_claims(claims, kid, time.time() if now is None else now)

    @staticmethod
    def _header(token: str) -> dict[str, Any]:
        # Read the header alone: PyJWT's reader would decode and check all three segments here
        # and again in decode(), doubling the cost of every check.
        compact = _COMPACT_JWS.fullmatch(token)
        if compact is None:
            raise TokenError("malformed", "the token is not a JWT")
        segment = compact.group(1)
        try:
            header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        except (ValueError, RecursionError):
            raise TokenError("malformed", "the token's header is not JSON") from None
        if not isinstance(header, dict):
            raise TokenError("malformed", "the token's header is not a JSON object")
        # Detached or critical-extension tokens are valid JOSE, but not tokens we mint.
        if "b64" in header or "crit" in header:
            raise TokenError("malformed", "the token uses JOSE extensions Glossify refuses")
        return header

    def _check_claims(self, claims: dict[str, Any], kid: str, now: float) -> MeetingClaims:
        def bad(message: str) -> TokenError:
            return TokenError("bad_claims", message)

        if claims.get("iss") != ISSUER:
            raise bad('the token\'s "iss" claim is not "glossify"')
        meeting_id = claims.get("mid")
        if not isinstance(meeting_id, str) or not MEETING_ID.fullmatch(meeting_id):
            raise bad('the token\'s "mid" claim is not a meeting id')
        role_name = claims.get("role")
        if not isinstance(role_name, str) or role_name not in _ROLE_NAMES:
            raise bad('the token\'s "role" claim is not listener, speaker or host')
        subject = claims.get("sub")
        if not isinstance(subject, str) or not valid_subject(subject):
            raise bad('the token\'s "sub" claim is not a display name')
        token_id = claims.get("jti")
        if token_id is not None and (
            not isinstance(token_id, str) or len(token_id) > MAX_TOKEN_ID_LENGTH
        ):
            raise bad('the token\'s "jti" claim is not a short string')
        issued_at, expires_at = claims.get("iat"), claims.get("exp")
        not_before = claims.get("nbf", issued_at)
        if not (_is_time(issued_at) and _is_time(expires_at) and _is_time(not_before)):
            raise bad('the token\'s "iat", "exp" and "nbf" claims must be numbers')
        if not issued_at < expires_at <= issued_at + self.max_ttl_s:
            raise bad(f"the token must expire within {self.max_ttl_s} s of being issued")
        if now >= expires_at + self.leeway_s:
            raise TokenError("expired", "the token has expired")
        if max(issued_at, not_before) > now + self.leeway_s:
            raise TokenError("not_yet_valid", "the token is not valid yet")
        return MeetingClaims(
            meeting_id, Role(role_name), subject, issued_at, expires_at, kid, token_id
        )


def _is_time(value: object) -> TypeGuard[float]:
    """A JSON number usable as a NumericDate (bool is an int in Python, but not a time)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)
