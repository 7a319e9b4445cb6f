"""Service keys from GLOSSIFY_API_KEYS."""

from __future__ import annotations

import hashlib
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glossify.access.keys import MIN_KEY_LENGTH, ServiceKey, key_id, parse_api_keys
from glossify.access.scopes import ALL_SCOPES, Scope

KEY_A = "alpha-key-0123456789abcdef"
KEY_B = "bravo-key-0123456789abcdef"
KEY_C = "charlie_key_0123456789ABCDEF"


def test_empty_or_blank_means_no_keys() -> None:
    assert len(parse_api_keys("")) == 0
    assert len(parse_api_keys("  ")) == 0
    assert parse_api_keys("").verify(KEY_A) is None


def test_keys_without_scopes_have_every_scope() -> None:
    keys = list(parse_api_keys(f"{KEY_A}, {KEY_B}"))
    assert [key.scopes for key in keys] == [ALL_SCOPES, ALL_SCOPES]
    assert [key.secret.get_secret_value() for key in keys] == [KEY_A, KEY_B]


def test_scopes_after_equals_joined_by_plus() -> None:
    (key,) = parse_api_keys(f"{KEY_A}=meetings:read + tokens:mint")
    assert key.scopes == {Scope.MEETINGS_READ, Scope.TOKENS_MINT}


def test_key_id_is_the_first_8_hex_of_sha256() -> None:
    (key,) = parse_api_keys(KEY_A)
    assert key.key_id == hashlib.sha256(KEY_A.encode()).hexdigest()[:8] == key_id(KEY_A)
    assert len({k.key_id for k in parse_api_keys(f"{KEY_A},{KEY_B},{KEY_C}")}) == 3


def test_verify_finds_the_presented_key_whichever_position() -> None:
    keys = parse_api_keys(f"{KEY_A},{KEY_B}=meetings:read,{KEY_C}")
    for text in (KEY_A, KEY_B, KEY_C):
        found = keys.verify(text)
        assert found is not None and found.secret.get_secret_value() == text
    found_b = keys.verify(KEY_B)
    assert found_b is not None and found_b.scopes == {Scope.MEETINGS_READ}


@pytest.mark.parametrize(
    "presented", ["", KEY_A[:-1], KEY_A + "x", KEY_A.upper(), " " + KEY_A, "\udc80" * 20]
)
def test_verify_refuses_anything_else(presented: str) -> None:
    assert parse_api_keys(f"{KEY_A},{KEY_B}").verify(presented) is None


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (f"{KEY_A},,{KEY_B}", "entry 2 is empty"),
        (f"{KEY_A},", "entry 2 is empty"),
        ("=meetings:read", "entry 1 has scopes but no key"),
        (f"{KEY_A},{KEY_B}=", "entry 2 has '=' but no scopes"),
        (f"{KEY_A}=meetings:reed", "entry 1 has an unknown scope (scope 1"),
        (f"{KEY_A}=meetings:read+{KEY_B}", "entry 1 has an unknown scope (scope 2"),
        (f"{KEY_B},short-key", f"entry 2 is shorter than {MIN_KEY_LENGTH} characters"),
        ("has space in the key 12345", "entry 1 has a character other than"),
        ("eyJhbGciOiJI.eyJzdWIiOi.c2lnbmF0dXJl", "entry 1 has exactly two dots"),
        (f"{KEY_A},{KEY_B},{KEY_A}=meetings:read", "entry 3 repeats entry 1"),
        ("k" * 513, "entry 1 is longer than 512"),
    ],
)
def test_bad_entries_name_the_variable_and_entry_never_the_key(value: str, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_api_keys(value)
    message = str(caught.value)
    assert message.startswith("GLOSSIFY_API_KEYS: ")
    assert fragment in message
    for secret in (KEY_A, KEY_B, "short-key", "has space", "k" * 16, "eyJhbGciOiJI"):
        assert secret not in message


def test_another_variable_name_is_reported() -> None:
    with pytest.raises(ValueError, match=r"^MY_KEYS: entry 1"):
        parse_api_keys("short", "MY_KEYS")


def test_reprs_never_show_a_key() -> None:
    keys = parse_api_keys(f"{KEY_A},{KEY_B}=tokens:mint")
    (key,) = [k for k in keys if k.scopes == {Scope.TOKENS_MINT}]
    for text in (repr(keys), str(keys), repr(key), str(key), repr(list(keys))):
        assert KEY_A not in text and KEY_B not in text
        assert key.digest.hex() not in text
    assert key.key_id in repr(key)


def test_service_key_create_defaults_to_every_scope() -> None:
    key = ServiceKey.create(KEY_C)
    assert key.scopes == ALL_SCOPES and key.key_id == key_id(KEY_C)


KEY_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-_~+/", min_size=16)
SCOPE_LISTS = st.lists(st.sampled_from(list(Scope)), min_size=1, max_size=4)


@given(st.lists(st.tuples(KEY_TEXT, st.none() | SCOPE_LISTS), min_size=1, max_size=5))
def test_any_well_formed_list_round_trips(entries: list[tuple[str, list[Scope] | None]]) -> None:
    texts = [text for text, _ in entries]
    if len(set(texts)) != len(texts):
        return  # repeats are refused, tested above
    value = ",".join(
        text if scopes is None else f"{text}={'+'.join(scopes)}" for text, scopes in entries
    )
    keys = parse_api_keys(value)
    assert len(keys) == len(entries)
    for text, scopes in entries:
        found = keys.verify(text)
        assert found is not None
        assert found.scopes == (ALL_SCOPES if scopes is None else frozenset(scopes))


@given(st.text(max_size=300))
def test_any_text_parses_or_raises_value_error_without_quoting_keys(value: str) -> None:
    try:
        keys = parse_api_keys(value)
    except ValueError as error:
        message = str(error)
        assert message.startswith("GLOSSIFY_API_KEYS: entry ")
        for entry in value.split(","):
            text = entry.partition("=")[0].strip()
            if len(text) >= MIN_KEY_LENGTH:
                assert text not in message
    else:
        assert len(keys) <= value.count(",") + 1
