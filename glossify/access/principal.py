"""Who is asking, and may they do it: ``authenticate`` then ``authorize``.

A request's credential is a service key or a meeting token, found by ``bearer_credential``
(REST: ``Authorization: Bearer <credential>``) or ``websocket_credential`` (the handshake's
``?access_token=<credential>`` or a ``Sec-WebSocket-Protocol`` entry
``access_token.<credential>``, offered together with ``glossify.v1``, which the server accepts;
browsers cannot set headers on a WebSocket, and a browser whose offered subprotocols are all
refused fails the handshake).

``authenticate(credential, keys, signer)`` turns it into a ``Principal``: a credential with
exactly two dots is a JWT (``TokenPrincipal``), anything else a service key (``KeyPrincipal``).
``authorize(principal, action, meeting_id, meeting_exists=...)`` then applies the rules of
``glossify.access.scopes``:

- a token acts only in the meeting it names (403 ``wrong_meeting``), with a role at least the
  action's (403 ``role_too_low``), and never mints tokens or writes the organisation glossary
  (403 ``key_required``); a key needs the action's scope (403 ``missing_scope``);
- ``authorize_glossary_read(principal)`` lets any meeting token, or a key with
  ``meetings:read``, read the organisation glossary;
- a meeting that does not exist yet may be created only by whoever may ``host`` it (a host
  token or a ``meetings:write`` key); for anyone else it is 404 ``meeting_not_found``, as if
  absent (the ingress keeps answering 404 to reads and ``stop`` of a meeting that never
  existed, whoever asks).

Typical REST use::

    principal = authenticate(bearer_credential(request.headers.get("authorization")),
                             keys, signer)
    authorize(principal, Action.SPEAK, mid, meeting_exists=await hosts.exists(mid))
    speaker = speaker_name(principal, body.speaker)

Every failure is an ``AccessError`` (a ``ProtocolError``: ``status``, ``code``, ``message``,
``body()``); its ``headers()``, ``event()`` and ``close_code`` serve REST, the socket's ``error``
event and its close frame. Messages are fixed text: never a key, a token or part of one. With
``auth: {mode: off}`` the ingress skips ``authenticate`` and uses ``AUTH_OFF``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from glossify.access.keys import ServiceKeys
from glossify.access.scopes import (
    ALL_SCOPES,
    MEETING_ACTIONS,
    ROLE_FOR,
    SCOPE_FOR,
    Action,
    Role,
    Scope,
    role_allows,
    scopes_allow,
)
from glossify.access.tokens import TokenError, TokenSigner
from glossify.protocol import ProtocolError

GLOSSIFY_SUBPROTOCOL = "glossify.v1"
ACCESS_TOKEN_SUBPROTOCOL_PREFIX = "access_token."
_REALM = 'Bearer realm="glossify"'


class AccessError(ProtocolError):
    """A refused request. ``status`` and ``code`` are the protocol's; ``message`` is safe."""

    def headers(self) -> dict[str, str]:
        """Extra response headers for a REST answer."""
        return {}

    def event(self) -> dict[str, str]:
        """The socket's ``error`` event."""
        return {"type": "error", "code": self.code, "message": self.message}

    @property
    def close_code(self) -> int:
        """WebSocket close code: 4000 + the HTTP status (4401, 4403, 4404, 4429)."""
        return 4000 + self.status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.code!r}, {self.message!r})"


class AuthError(AccessError):
    """401: no credential, or one that does not verify."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(401, code, message)

    def headers(self) -> dict[str, str]:
        if self.code == "missing_credentials":
            return {"WWW-Authenticate": _REALM}
        return {"WWW-Authenticate": f'{_REALM}, error="invalid_token"'}


class Forbidden(AccessError):
    """403: a valid credential that does not allow this."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(403, code, message)


class NotFound(AccessError):
    """404: the meeting does not exist and this caller may not create it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(404, code, message)


@dataclass(frozen=True)
class KeyPrincipal:
    """A trusted server-side caller holding a service key."""

    key_id: str
    scopes: frozenset[Scope]

    @property
    def expires_at(self) -> None:
        return None

    @property
    def log_name(self) -> str:
        """Safe for logs and metric labels."""
        return f"key:{self.key_id}"

    def seconds_left(self, now: float) -> float | None:
        """Service keys do not expire."""
        return None


@dataclass(frozen=True)
class TokenPrincipal:
    """A client holding a meeting token: one meeting, one role, a display name, an expiry."""

    meeting_id: str
    role: Role
    subject: str
    expires_at: float
    key_id: str
    token_id: str | None = None

    @property
    def log_name(self) -> str:
        """Safe for logs and metric labels (no subject: display names are personal data)."""
        return f"token:{self.key_id}:{self.role.value}"

    def seconds_left(self, now: float) -> float:
        """Until the token expires; an open socket is closed when this reaches 0."""
        return max(0.0, self.expires_at - now)


Principal = KeyPrincipal | TokenPrincipal

# What the ingress uses for every request when auth mode is off (a closed network).
AUTH_OFF = KeyPrincipal(key_id="auth-off", scopes=ALL_SCOPES)


@dataclass(frozen=True)
class WebSocketCredential:
    """The credential of a WebSocket handshake and the subprotocol to accept (or None)."""

    credential: str | None = field(repr=False)
    subprotocol: str | None


def bearer_credential(authorization: str | None) -> str | None:
    """The credential of an ``Authorization: Bearer <credential>`` header; None when absent.

    Raises ``AuthError`` (``malformed_credentials``) for another scheme or an empty credential.
    """
    if authorization is None or not authorization.strip():
        return None
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential or " " in credential:
        raise AuthError(
            "malformed_credentials",
            "Authorization must be 'Bearer <service key or meeting token>'",
        )
    return credential


def websocket_credential(access_token: str | None, protocols: str | None) -> WebSocketCredential:
    """The credential of a handshake, from ``?access_token=`` or ``Sec-WebSocket-Protocol``.

    ``protocols`` is the raw header (comma-separated). Two different credentials at once are
    refused (``ambiguous_credentials``); ``glossify.v1`` is accepted when offered, and a
    credential entry is never echoed back.
    """
    offered = [entry.strip() for entry in (protocols or "").split(",") if entry.strip()]
    in_header = [
        entry.removeprefix(ACCESS_TOKEN_SUBPROTOCOL_PREFIX)
        for entry in offered
        if entry.startswith(ACCESS_TOKEN_SUBPROTOCOL_PREFIX)
    ]
    candidates = set(in_header)
    if access_token:
        candidates.add(access_token)
    if len(candidates) > 1:
        raise AuthError("ambiguous_credentials", "send one credential, not several")
    subprotocol = GLOSSIFY_SUBPROTOCOL if GLOSSIFY_SUBPROTOCOL in offered else None
    return WebSocketCredential(next(iter(candidates), None), subprotocol)


def authenticate(
    credential: str | None,
    keys: ServiceKeys,
    signer: TokenSigner | None,
    *,
    now: float | None = None,
) -> Principal:
    """The principal a credential proves; raises ``AuthError`` (401) otherwise.

    ``signer`` None means no signing secret is configured: every token is refused.
    """
    if not credential:
        raise AuthError(
            "missing_credentials", "send a service key or a meeting token as a Bearer credential"
        )
    if credential.count(".") == 2:
        if signer is None:
            raise AuthError("unknown_key", "meeting tokens are not accepted here")
        try:
            claims = signer.verify(credential, now)
        except TokenError as error:
            raise AuthError(error.code, error.message) from None
        return TokenPrincipal(
            claims.meeting_id,
            claims.role,
            claims.subject,
            claims.expires_at,
            claims.key_id,
            claims.token_id,
        )
    key = keys.verify(credential)
    if key is None:
        raise AuthError("invalid_key", "the service key is not valid")
    return KeyPrincipal(key.key_id, key.scopes)


def allows(principal: Principal, action: Action, meeting_id: str | None = None) -> bool:
    """True when ``authorize`` would let ``principal`` do ``action`` in an existing meeting."""
    try:
        authorize(principal, action, meeting_id)
    except AccessError:
        return False
    return True


def authorize(
    principal: Principal,
    action: Action,
    meeting_id: str | None = None,
    *,
    meeting_exists: bool = True,
) -> None:
    """Raise ``Forbidden`` (403) or ``NotFound`` (404) unless ``principal`` may do ``action``.

    ``meeting_id`` is required for meeting actions (all but ``glossary_write``). With
    ``meeting_exists=False`` the action would create the meeting, which needs the ``host``
    action; anyone else gets 404 as if the meeting were absent.
    """
    if action in MEETING_ACTIONS and meeting_id is None:
        raise ValueError(f"action {action.value} needs a meeting id")
    if isinstance(principal, TokenPrincipal):
        _authorize_token(principal, action, meeting_id)
    elif not scopes_allow(principal.scopes, action):
        raise Forbidden(
            "missing_scope", f"this service key lacks the scope {SCOPE_FOR[action].value}"
        )
    if not meeting_exists and meeting_id is not None and not _may_create(principal):
        raise NotFound("meeting_not_found", f"no meeting {meeting_id!r}")


def authorize_glossary_read(principal: Principal) -> None:
    """Reading the organisation glossary (search, domains, one term): any valid meeting token,
    whatever its meeting and role (people in a meeting look up its words), or a service key
    with ``meetings:read``; raises ``Forbidden`` (403 ``missing_scope``) otherwise."""
    if isinstance(principal, TokenPrincipal):
        return
    if not scopes_allow(principal.scopes, Action.READ):
        raise Forbidden(
            "missing_scope", f"this service key lacks the scope {Scope.MEETINGS_READ.value}"
        )


def _authorize_token(principal: TokenPrincipal, action: Action, meeting_id: str | None) -> None:
    needed = ROLE_FOR.get(action)
    if needed is None:
        raise Forbidden("key_required", f"{action.value} needs a service key, not a meeting token")
    if meeting_id != principal.meeting_id:
        raise Forbidden("wrong_meeting", "this token is for another meeting")
    if not role_allows(principal.role, action):
        raise Forbidden(
            "role_too_low",
            f"a {principal.role.value} token cannot {action.value}: it needs {needed.value}",
        )


def _may_create(principal: Principal) -> bool:
    if isinstance(principal, TokenPrincipal):
        return role_allows(principal.role, Action.HOST)
    return scopes_allow(principal.scopes, Action.HOST)


def speaker_name(principal: Principal, requested: str | None) -> str | None:
    """The ``speaker`` of a line: a token's subject (clients cannot speak as someone else);
    for a service key, what the request says."""
    if isinstance(principal, TokenPrincipal):
        return principal.subject
    return requested


def may_write_glossary(principal: Principal) -> bool:
    """Whether external terms from ``principal`` may enter the organisation glossary; terms
    from anyone else stay in their meeting."""
    return allows(principal, Action.GLOSSARY_WRITE)
