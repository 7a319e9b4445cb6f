"""Meeting tokens: minting, verification, rotation, and everything a verifier must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from glossify.access.keys import ServiceKeys
from glossify.access.principal import Forbidden, NotFound, authenticate, authorize
from glossify.access.scopes import Action, Role
from glossify.access.tokens import (
    DEFAULT_MAX_TTL_S,
    MintRequest,
    TokenError,
    TokenSigner,
    join_url,
)
from glossify.protocol import ProtocolError

NOW = 1_800_000_000
OLD_SECRET = "old-signing-secret-" + "o" * 30
NEW_SECRET = "new-signing-secret-" + "n" * 30
OTHER_SECRET = "someone-elses-secret-" + "x" * 30


def kid(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


def signer(*secrets: str, **options: int) -> TokenSigner:
    return TokenSigner([SecretStr(s) for s in secrets], **options)


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": "glossify",
        "mid": "weekly-sync",
        "role": "speaker",
        "sub": "Ada",
        "iat": NOW,
        "exp": NOW + 3600,
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def forge(
    payload: dict[str, Any], secret: str = NEW_SECRET, algorithm: str = "HS256", **header: Any
) -> str:
    """A token made the way an organisation's back end would, with PyJWT."""
    headers = {"kid": kid(secret), **header}
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def refused(verifier: TokenSigner, token: str, now: float = NOW + 10) -> str:
    with pytest.raises(TokenError) as caught:
        verifier.verify(token, now=now)
    return caught.value.code


def test_round_trip() -> None:
    minted = signer(NEW_SECRET).mint("weekly-sync", Role.SPEAKER, "Ada", 600, now=NOW)
    assert minted.expires_at == NOW + 600
    got = signer(NEW_SECRET).verify(minted.token, now=NOW + 1)
    assert (got.meeting_id, got.role, got.subject) == ("weekly-sync", Role.SPEAKER, "Ada")
    assert (got.issued_at, got.expires_at, got.key_id) == (NOW, NOW + 600, kid(NEW_SECRET))
    assert got.token_id and got == minted.claims


def test_header_and_claims_are_as_documented() -> None:
    token = signer(NEW_SECRET).mint("m1", "host", "Grace", 60, now=NOW).token
    assert jwt.get_unverified_header(token) == {
        "alg": "HS256",
        "typ": "JWT",
        "kid": kid(NEW_SECRET),
    }
    payload = jwt.decode(
        token, NEW_SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False}
    )
    assert {k: payload[k] for k in ("iss", "mid", "role", "sub", "iat", "exp")} == {
        "iss": "glossify",
        "mid": "m1",
        "role": "host",
        "sub": "Grace",
        "iat": NOW,
        "exp": NOW + 60,
    }
    assert isinstance(payload["jti"], str)


def test_a_token_minted_by_another_back_end_following_the_docs_verifies() -> None:
    token = forge(claims(role="listener", jti="abc"), typ="JWT")
    got = signer(NEW_SECRET).verify(token, now=NOW + 5)
    assert got.role is Role.LISTENER and got.token_id == "abc"


def test_expired_after_exp_plus_leeway() -> None:
    token = signer(NEW_SECRET).mint("m1", "listener", "Ada", 600, now=NOW).token
    verifier = signer(NEW_SECRET, leeway_s=10)
    assert verifier.verify(token, now=NOW + 600 + 9).meeting_id == "m1"
    assert refused(verifier, token, now=NOW + 600 + 10) == "expired"


def test_not_yet_valid() -> None:
    verifier = signer(NEW_SECRET)
    assert refused(verifier, forge(claims(iat=NOW + 100, exp=NOW + 200)), NOW) == "not_yet_valid"
    assert refused(verifier, forge(claims(nbf=NOW + 100)), NOW) == "not_yet_valid"
    assert verifier.verify(forge(claims(iat=NOW + 5)), now=NOW).subject == "Ada"  # leeway


def test_tampered_payload() -> None:
    token = signer(NEW_SECRET).mint("m1", "listener", "Ada", 600, now=NOW).token
    header, payload, signature = token.split(".")
    raised = json.loads(base64.urlsafe_b64decode(payload + "=="))
    raised["role"] = "host"
    tampered = ".".join([header, b64(json.dumps(raised).encode()), signature])
    assert refused(signer(NEW_SECRET), tampered) == "bad_signature"


def test_tampered_signature() -> None:
    token = signer(NEW_SECRET).mint("m1", "listener", "Ada", 600, now=NOW).token
    header, payload, signature = token.split(".")
    flipped = "A" if signature[0] != "A" else "B"
    assert refused(signer(NEW_SECRET), f"{header}.{payload}.{flipped}{signature[1:]}") in {
        "bad_signature",
        "malformed",
    }
    assert refused(signer(NEW_SECRET), f"{header}.{payload}.{b64(b'x' * 32)}") == "bad_signature"
    assert refused(signer(NEW_SECRET), f"{header}.{payload}.") == "bad_signature"


def test_wrong_secret() -> None:
    token = signer(OTHER_SECRET).mint("m1", "listener", "Ada", 600, now=NOW).token
    assert refused(signer(NEW_SECRET), token) == "unknown_key"
    # Our key id but someone else's secret: the signature gives it away.
    assert refused(signer(NEW_SECRET), forge(claims(), OTHER_SECRET, kid=kid(NEW_SECRET))) == (
        "bad_signature"
    )


def test_rotation_old_tokens_verify_until_the_old_secret_is_removed() -> None:
    old_token = signer(OLD_SECRET).mint("m1", "speaker", "Ada", 600, now=NOW).token
    rotating = signer(NEW_SECRET, OLD_SECRET)
    assert rotating.verify(old_token, now=NOW + 1).key_id == kid(OLD_SECRET)
    new_token = rotating.mint("m1", "speaker", "Ada", 600, now=NOW)
    assert new_token.claims.key_id == kid(NEW_SECRET) == rotating.signing_key_id
    assert rotating.key_ids == (kid(NEW_SECRET), kid(OLD_SECRET))
    rotated = signer(NEW_SECRET)
    assert refused(rotated, old_token) == "unknown_key"
    assert rotated.verify(new_token.token, now=NOW + 1).key_id == kid(NEW_SECRET)


def test_missing_kid_is_an_unknown_key() -> None:
    token = jwt.encode(claims(), NEW_SECRET, algorithm="HS256")
    assert refused(signer(NEW_SECRET), token) == "unknown_key"
    numeric_kid = b64(json.dumps({"alg": "HS256", "kid": 12345}).encode())
    body = b64(json.dumps(claims()).encode())
    assert refused(signer(NEW_SECRET), f"{numeric_kid}.{body}.{b64(b'sig')}") == "unknown_key"


def test_alg_none_is_refused() -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid(NEW_SECRET)}).encode())
    body = b64(json.dumps(claims(role="host")).encode())
    assert refused(signer(NEW_SECRET), f"{header}.{body}.") == "bad_algorithm"
    none_token = jwt.encode(claims(), "", algorithm="none", headers={"kid": kid(NEW_SECRET)})
    assert refused(signer(NEW_SECRET), none_token) == "bad_algorithm"
    header_no_alg = b64(json.dumps({"kid": kid(NEW_SECRET)}).encode())
    assert refused(signer(NEW_SECRET), f"{header_no_alg}.{body}.{b64(b'sig')}") == "bad_algorithm"


def test_other_algorithms_are_refused_even_with_the_right_secret() -> None:
    long_secret = "long-secret-" + "l" * 64  # HS512 wants 64 bytes
    verifier = signer(long_secret)
    for algorithm in ("HS384", "HS512"):
        token = forge(claims(), long_secret, algorithm=algorithm)
        assert refused(verifier, token) == "bad_algorithm"
    # An RS256 header (the key-confusion attack presents the HMAC secret as a public key).
    header = b64(json.dumps({"alg": "RS256", "kid": kid(long_secret)}).encode())
    body = b64(json.dumps(claims()).encode())
    assert refused(verifier, f"{header}.{body}.{b64(b'x' * 256)}") == "bad_algorithm"


@pytest.mark.parametrize("claim", ["iss", "mid", "role", "sub", "iat", "exp"])
def test_missing_claims(claim: str) -> None:
    assert refused(signer(NEW_SECRET), forge(claims(**{claim: None}))) == "bad_claims"


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "someone-else"},
        {"mid": "bad meeting id"},
        {"mid": "x" * 65},
        {"mid": 42},
        {"role": "admin"},
        {"role": ["host"]},
        {"sub": ""},
        {"sub": "line\nbreak"},
        {"sub": "x" * 129},
        {"iat": True},
        {"exp": "tomorrow"},
        {"exp": NOW},  # not after iat
        {"exp": NOW + DEFAULT_MAX_TTL_S + 1},  # ttl above the maximum
        {"jti": 7},
        {"jti": "j" * 65},
        {"nbf": "soon"},
    ],
)
def test_bad_claims(changes: dict[str, Any]) -> None:
    assert refused(signer(NEW_SECRET), forge(claims(**changes))) == "bad_claims"


def test_float_times_are_numeric_dates() -> None:
    got = signer(NEW_SECRET).verify(forge(claims(iat=NOW + 0.5, exp=NOW + 60.5)), now=NOW + 1)
    assert got.expires_at == NOW + 60.5


def test_extra_claims_are_ignored() -> None:
    got = signer(NEW_SECRET).verify(forge(claims(aud="x", extra={"a": 1})), now=NOW + 1)
    assert got.subject == "Ada"


@pytest.mark.parametrize(
    "header",
    [{"alg": "HS256", "b64": False, "crit": ["b64"]}, {"alg": "HS256", "crit": ["exp"]}],
)
def test_jose_extensions_are_refused(header: dict[str, Any]) -> None:
    head = b64(json.dumps({**header, "kid": kid(NEW_SECRET)}).encode())
    body = b64(json.dumps(claims()).encode())
    assert refused(signer(NEW_SECRET), f"{head}.{body}.{b64(b'sig')}") == "malformed"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "....",
        "é.é.é",
        "\udc80.x.y",
        "x" * 5000,
        f"{b64(b'[1,2]')}.{b64(b'{}')}.c2ln",
        f"{b64(b'not json')}.{b64(b'{}')}.c2ln",
        f"{b64(b'{}')}.{b64(b'{}')}.c2ln",
    ],
)
def test_malformed_tokens(token: str) -> None:
    assert refused(signer(NEW_SECRET), token) in {"malformed", "bad_algorithm"}


def test_payload_that_is_not_an_object() -> None:
    token = jwt.api_jws.encode(b"[1, 2, 3]", NEW_SECRET, "HS256", headers={"kid": kid(NEW_SECRET)})
    assert refused(signer(NEW_SECRET), token) == "malformed"


def test_mint_refuses_a_ttl_above_the_maximum_and_other_bad_arguments() -> None:
    minter = signer(NEW_SECRET, max_ttl_s=3600)
    with pytest.raises(ValueError, match="ttl_s"):
        minter.mint("m1", "host", "Ada", 3601)
    with pytest.raises(ValueError, match="ttl_s"):
        minter.mint("m1", "host", "Ada", 0)
    with pytest.raises(ValueError, match="meeting id"):
        minter.mint("m 1", "host", "Ada", 60)
    with pytest.raises(ValueError):
        minter.mint("m1", "owner", "Ada", 60)
    with pytest.raises(ValueError, match="subject"):
        minter.mint("m1", "host", "", 60)
    assert minter.mint("m1", "host", "Ada", 3600, now=NOW).expires_at == NOW + 3600


def test_signer_refuses_unusable_secrets() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TokenSigner([])
    with pytest.raises(ValueError, match="secret 2 is shorter than 32"):
        signer(NEW_SECRET, "short")
    with pytest.raises(ValueError, match="secret 2 repeats"):
        signer(NEW_SECRET, NEW_SECRET)


def test_a_token_for_meeting_a_authorises_nothing_in_b() -> None:
    verifier = signer(NEW_SECRET)
    token = verifier.mint("meeting-a", "host", "Ada", 600, now=NOW).token
    principal = authenticate(token, ServiceKeys(), verifier, now=NOW + 1)
    for action in Action:
        authorize_in_a = action in {Action.READ, Action.SPEAK, Action.HOST}
        if authorize_in_a:
            authorize(principal, action, "meeting-a")
        for exists in (True, False):
            with pytest.raises(Forbidden) as caught:
                authorize(principal, action, "meeting-b", meeting_exists=exists)
            assert caught.value.code in {"wrong_meeting", "key_required"}
            assert not isinstance(caught.value, NotFound)


def test_minted_token_never_shows_in_reprs_or_errors() -> None:
    minted = signer(NEW_SECRET).mint("m1", "host", "Ada", 600, now=NOW)
    assert minted.token not in repr(minted) and minted.token not in str(minted)
    assert NEW_SECRET not in repr(signer(NEW_SECRET))
    _, payload, signature = minted.token.split(".")
    for bad in (minted.token + "x", minted.token, minted.token[:-3]):
        with pytest.raises(TokenError) as caught:
            signer(NEW_SECRET).verify(bad, now=NOW + 10_000)
        for text in (str(caught.value), repr(caught.value), caught.value.message):
            assert payload not in text and signature[:10] not in text


def test_response_body_and_join_link() -> None:
    minted = signer(NEW_SECRET).mint("m1", "listener", "Ada", 600, now=NOW)
    body = minted.response()
    assert body == {
        "token": minted.token,
        "expires_at": "2027-01-15T08:10:00Z",
        "url": f"/m/m1#token={minted.token}",
    }
    assert join_url("m1", "t") == "/m/m1#token=t"


def test_mint_request_ttl() -> None:
    assert MintRequest(role=Role.HOST).ttl_within(600, 3600) == 600
    assert MintRequest(role=Role.HOST, ttl_s=3600).ttl_within(600, 3600) == 3600
    with pytest.raises(ProtocolError) as caught:
        MintRequest(role=Role.HOST, ttl_s=3601).ttl_within(600, 3600)
    assert (caught.value.status, caught.value.code) == (400, "invalid_ttl")


def test_mint_request() -> None:
    request = MintRequest.model_validate({"role": "speaker", "subject": "  Ada "})
    assert (request.role, request.subject, request.ttl_s) == (Role.SPEAKER, "Ada", None)
    assert MintRequest.model_validate({"role": "listener"}).subject == "guest"
    for body in (
        {"role": "admin"},
        {},
        {"role": "host", "ttl_s": 10},
        {"role": "host", "subject": ""},
        {"role": "host", "subject": "a\tb"},
        {"role": "host", "extra": 1},
    ):
        with pytest.raises(ValidationError):
            MintRequest.model_validate(body)


# --- property tests: nothing but TokenError comes out of verify -----------------------------

VERIFIER = signer(NEW_SECRET, OLD_SECRET)
CLAIM_NAMES = st.sampled_from(["iss", "mid", "role", "sub", "iat", "exp", "nbf"])
B64_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-_", max_size=60)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


def check_only_token_error(token: str) -> None:
    try:
        VERIFIER.verify(token, now=NOW)
    except TokenError as error:
        assert error.code in {
            "malformed",
            "bad_algorithm",
            "unknown_key",
            "bad_signature",
            "bad_claims",
            "expired",
            "not_yet_valid",
        }


@given(st.text(max_size=400))
def test_random_text_raises_only_token_error(token: str) -> None:
    check_only_token_error(token)


@given(st.binary(max_size=400))
def test_random_bytes_raise_only_token_error(data: bytes) -> None:
    check_only_token_error(data.decode("latin-1"))


@given(st.lists(B64_TEXT, min_size=1, max_size=5))
def test_random_jwt_shapes_raise_only_token_error(segments: list[str]) -> None:
    check_only_token_error(".".join(segments))


@settings(max_examples=200)
@given(
    st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=4),
    st.dictionaries(CLAIM_NAMES, JSON_VALUES),
    st.sampled_from(["HS256", "none", "HS512", 7]),
)
def test_signed_random_claims_verify_or_raise_token_error(
    extra_header: dict[str, Any], payload: dict[str, Any], alg: Any
) -> None:
    header = {**extra_header, "alg": alg, "kid": kid(NEW_SECRET)}
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(NEW_SECRET.encode(), f"{head}.{body}".encode(), "sha256").digest()
    check_only_token_error(f"{head}.{body}.{b64(signature)}")
