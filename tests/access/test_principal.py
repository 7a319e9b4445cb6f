"""authenticate, authorize and the credential helpers."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from glossify.access.keys import parse_api_keys
from glossify.access.principal import (
    AUTH_OFF,
    AccessError,
    AuthError,
    Forbidden,
    KeyPrincipal,
    NotFound,
    Principal,
    TokenPrincipal,
    allows,
    authenticate,
    authorize,
    bearer_credential,
    may_write_glossary,
    speaker_name,
    websocket_credential,
)
from glossify.access.scopes import ALL_SCOPES, Action, Role, Scope
from glossify.access.tokens import TokenSigner
from glossify.protocol import ProtocolError

NOW = 1_800_000_000
SECRET = "principal-test-signing-secret-0123456789"
FULL_KEY = "full-service-key-0123456789"
READ_KEY = "read-only-service-key-0123456789"
MINT_KEY = "minting-service-key-0123456789"
KEYS = parse_api_keys(f"{FULL_KEY},{READ_KEY}=meetings:read,{MINT_KEY}=tokens:mint")
SIGNER = TokenSigner([SecretStr(SECRET)])


def token_for(role: str, meeting: str = "m1", ttl_s: int = 600) -> str:
    return SIGNER.mint(meeting, role, "Ada", ttl_s, now=NOW).token


def principal(credential: str) -> Principal:
    return authenticate(credential, KEYS, SIGNER, now=NOW + 1)


# --- finding the credential -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer   some-key ", "some-key"),
        ("BEARER k", "k"),
    ],
)
def test_bearer_credential(header: str | None, expected: str | None) -> None:
    assert bearer_credential(header) == expected


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token xyz"])
def test_bearer_credential_refuses_other_forms(header: str) -> None:
    with pytest.raises(AuthError) as caught:
        bearer_credential(header)
    assert caught.value.code == "malformed_credentials" and caught.value.status == 401
    assert "dXNlcjpwYXNz" not in caught.value.message and "xyz" not in caught.value.message


def test_websocket_credential_from_query_or_subprotocol() -> None:
    assert websocket_credential(None, None).credential is None
    query = websocket_credential("tok.en.x", None)
    assert (query.credential, query.subprotocol) == ("tok.en.x", None)
    header = websocket_credential(None, "glossify.v1, access_token.tok.en.x")
    assert (header.credential, header.subprotocol) == ("tok.en.x", "glossify.v1")
    same = websocket_credential("tok.en.x", "access_token.tok.en.x")
    assert (same.credential, same.subprotocol) == ("tok.en.x", None)
    plain = websocket_credential(None, "glossify.v1")
    assert (plain.credential, plain.subprotocol) == (None, "glossify.v1")
    assert "tok.en.x" not in repr(header)


def test_websocket_credential_refuses_two_different_ones() -> None:
    with pytest.raises(AuthError) as caught:
        websocket_credential("first.a.b", "glossify.v1, access_token.second.a.b")
    assert caught.value.code == "ambiguous_credentials"
    with pytest.raises(AuthError):
        websocket_credential(None, "access_token.one, access_token.two")


# --- authenticate ---------------------------------------------------------------------------


@pytest.mark.parametrize("credential", [None, ""])
def test_missing_credentials(credential: str | None) -> None:
    with pytest.raises(AuthError) as caught:
        authenticate(credential, KEYS, SIGNER)
    error = caught.value
    assert (error.status, error.code) == (401, "missing_credentials")
    assert error.headers() == {"WWW-Authenticate": 'Bearer realm="glossify"'}


def test_service_key() -> None:
    got = principal(READ_KEY)
    assert isinstance(got, KeyPrincipal)
    assert got.scopes == {Scope.MEETINGS_READ}
    assert got.log_name == f"key:{got.key_id}" and got.seconds_left(NOW) is None
    assert got.expires_at is None


def test_meeting_token() -> None:
    got = principal(token_for("speaker"))
    assert isinstance(got, TokenPrincipal)
    assert (got.meeting_id, got.role, got.subject, got.expires_at) == (
        "m1",
        Role.SPEAKER,
        "Ada",
        NOW + 600,
    )
    assert got.seconds_left(NOW + 100) == 500 and got.seconds_left(NOW + 10_000) == 0
    assert "Ada" not in got.log_name


@pytest.mark.parametrize(
    ("credential", "code"),
    [
        ("not-a-configured-key-123", "invalid_key"),
        ("short", "invalid_key"),
        ("a.b.c", "malformed"),
        ("eyJhbGciOiJub25lIn0.e30.", "bad_algorithm"),
    ],
)
def test_bad_credentials_are_401_with_the_code(credential: str, code: str) -> None:
    with pytest.raises(AuthError) as caught:
        principal(credential)
    assert (caught.value.status, caught.value.code) == (401, code)
    assert 'error="invalid_token"' in caught.value.headers()["WWW-Authenticate"]


def test_expired_token_is_401_expired() -> None:
    with pytest.raises(AuthError) as caught:
        authenticate(token_for("host", ttl_s=60), KEYS, SIGNER, now=NOW + 3600)
    assert caught.value.code == "expired"


def test_tokens_are_refused_without_a_signer() -> None:
    with pytest.raises(AuthError) as caught:
        authenticate(token_for("host"), KEYS, None)
    assert caught.value.code == "unknown_key"
    assert isinstance(authenticate(FULL_KEY, KEYS, None), KeyPrincipal)


# --- authorize ------------------------------------------------------------------------------

TOKEN_RULES = {
    "listener": {Action.READ},
    "speaker": {Action.READ, Action.SPEAK},
    "host": {Action.READ, Action.SPEAK, Action.HOST},
}


@pytest.mark.parametrize("role", list(TOKEN_RULES))
def test_token_roles_in_their_meeting(role: str) -> None:
    holder = principal(token_for(role))
    for action in Action:
        meeting = None if action is Action.GLOSSARY_WRITE else "m1"
        if action in TOKEN_RULES[role]:
            authorize(holder, action, meeting)
            assert allows(holder, action, meeting)
        else:
            with pytest.raises(Forbidden) as caught:
                authorize(holder, action, meeting)
            expected = "role_too_low" if action in TOKEN_RULES["host"] else "key_required"
            assert (caught.value.status, caught.value.code) == (403, expected)
            assert not allows(holder, action, meeting)


def test_token_in_another_meeting_is_forbidden() -> None:
    with pytest.raises(Forbidden) as caught:
        authorize(principal(token_for("host", "m1")), Action.READ, "m2")
    assert caught.value.code == "wrong_meeting"


@pytest.mark.parametrize(
    ("key", "allowed"),
    [
        (FULL_KEY, set(Action)),
        (READ_KEY, {Action.READ}),
        (MINT_KEY, {Action.MINT}),
    ],
)
def test_key_scopes(key: str, allowed: set[Action]) -> None:
    holder = principal(key)
    for action in Action:
        meeting = None if action is Action.GLOSSARY_WRITE else "any-meeting"
        if action in allowed:
            authorize(holder, action, meeting)
        else:
            with pytest.raises(Forbidden) as caught:
                authorize(holder, action, meeting)
            assert caught.value.code == "missing_scope"


def test_only_hosts_and_write_keys_create_meetings() -> None:
    for creator in (principal(token_for("host", "new")), principal(FULL_KEY)):
        authorize(creator, Action.HOST, "new", meeting_exists=False)
        authorize(creator, Action.SPEAK, "new", meeting_exists=False)
    for other, action in [
        (principal(token_for("listener", "new")), Action.READ),
        (principal(token_for("speaker", "new")), Action.SPEAK),
        (principal(READ_KEY), Action.READ),
    ]:
        with pytest.raises(NotFound) as caught:
            authorize(other, action, "new", meeting_exists=False)
        assert (caught.value.status, caught.value.code) == (404, "meeting_not_found")
    # The action itself is checked first: a read-only key cannot speak, existing or not.
    with pytest.raises(Forbidden):
        authorize(principal(READ_KEY), Action.SPEAK, "new", meeting_exists=False)


def test_meeting_actions_need_a_meeting_id() -> None:
    with pytest.raises(ValueError):
        authorize(principal(FULL_KEY), Action.READ)


def test_speaker_name_comes_from_the_token() -> None:
    assert speaker_name(principal(token_for("speaker")), "Mallory") == "Ada"
    assert speaker_name(principal(FULL_KEY), "Bot") == "Bot"
    assert speaker_name(principal(FULL_KEY), None) is None


def test_glossary_writes_need_the_scope() -> None:
    assert may_write_glossary(principal(FULL_KEY))
    assert not may_write_glossary(principal(READ_KEY))
    assert not may_write_glossary(principal(token_for("host")))


def test_auth_off_allows_everything() -> None:
    assert AUTH_OFF.scopes == ALL_SCOPES
    for action in Action:
        authorize(AUTH_OFF, action, "m1", meeting_exists=False)


# --- errors ---------------------------------------------------------------------------------


def test_errors_are_protocol_errors_with_socket_forms() -> None:
    error = Forbidden("wrong_meeting", "this token is for another meeting")
    assert isinstance(error, ProtocolError) and isinstance(error, AccessError)
    assert error.body() == {
        "status": "error",
        "code": "wrong_meeting",
        "message": "this token is for another meeting",
    }
    assert error.event() == {
        "type": "error",
        "code": "wrong_meeting",
        "message": "this token is for another meeting",
    }
    assert error.close_code == 4403 and error.headers() == {}
    assert AuthError("expired", "x").close_code == 4401
    assert NotFound("meeting_not_found", "x").close_code == 4404


def test_no_error_shows_a_credential() -> None:
    credentials = [
        FULL_KEY,
        READ_KEY,
        "not-a-configured-key-123",
        token_for("listener"),
        token_for("listener") + "tampered",
        token_for("host", "other"),
    ]
    errors: list[AccessError] = []
    for credential in credentials:
        for authorization in (f"Bearer {credential}", f"Basic {credential}", credential):
            try:
                holder = authenticate(bearer_credential(authorization), KEYS, SIGNER, now=NOW)
                for action in Action:
                    authorize(holder, action, "m1", meeting_exists=False)
            except AccessError as error:
                errors.append(error)
    assert len(errors) > 10
    for refusal in errors:
        shown = " ".join(
            [
                str(refusal),
                repr(refusal),
                refusal.message,
                str(refusal.body()),
                str(refusal.headers()),
            ]
        )
        for credential in credentials:
            assert credential not in shown
            for part in credential.split("."):
                assert len(part) < 12 or part not in shown
