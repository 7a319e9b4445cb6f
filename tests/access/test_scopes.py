"""Scopes, roles and the actions they allow."""

from __future__ import annotations

import pytest

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


def test_scope_values_are_the_documented_names() -> None:
    assert {scope.value for scope in Scope} == {
        "meetings:read",
        "meetings:write",
        "tokens:mint",
        "glossary:write",
    }
    assert frozenset(Scope) == ALL_SCOPES


def test_roles_are_ordered_by_rank_not_by_spelling() -> None:
    assert Role.LISTENER < Role.SPEAKER < Role.HOST
    assert Role.HOST > Role.SPEAKER  # although "host" < "speaker" as text
    assert Role.HOST >= Role.HOST and Role.LISTENER <= Role.LISTENER
    assert sorted([Role.HOST, Role.LISTENER, Role.SPEAKER]) == [
        Role.LISTENER,
        Role.SPEAKER,
        Role.HOST,
    ]
    assert max(Role) is Role.HOST


def test_roles_refuse_comparison_with_plain_strings() -> None:
    with pytest.raises(TypeError):
        _ = Role.HOST < "zzz"
    with pytest.raises(TypeError):
        _ = Role.HOST < "zzz"
    # Equality with the claim text still holds: the token's claim is the value.
    assert isinstance(Role.SPEAKER, str) and str(Role.SPEAKER) == "speaker"
    assert Role("host") is Role.HOST


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.LISTENER, {Action.READ}),
        (Role.SPEAKER, {Action.READ, Action.SPEAK}),
        (Role.HOST, {Action.READ, Action.SPEAK, Action.HOST}),
    ],
)
def test_each_role_can_do_what_the_lower_ones_can(role: Role, allowed: set[Action]) -> None:
    assert {action for action in Action if role_allows(role, action)} == allowed


def test_no_role_mints_or_writes_the_glossary() -> None:
    assert Action.MINT not in ROLE_FOR
    assert Action.GLOSSARY_WRITE not in ROLE_FOR


def test_every_action_has_a_scope() -> None:
    assert set(SCOPE_FOR) == set(Action)
    assert SCOPE_FOR[Action.READ] is Scope.MEETINGS_READ
    assert SCOPE_FOR[Action.SPEAK] is Scope.MEETINGS_WRITE
    assert SCOPE_FOR[Action.HOST] is Scope.MEETINGS_WRITE
    assert SCOPE_FOR[Action.MINT] is Scope.TOKENS_MINT
    assert SCOPE_FOR[Action.GLOSSARY_WRITE] is Scope.GLOSSARY_WRITE


def test_scopes_allow() -> None:
    read_only = frozenset({Scope.MEETINGS_READ})
    assert scopes_allow(read_only, Action.READ)
    assert not scopes_allow(read_only, Action.SPEAK)
    assert all(scopes_allow(ALL_SCOPES, action) for action in Action)
    assert not any(scopes_allow(frozenset(), action) for action in Action)


def test_only_the_glossary_is_outside_meetings() -> None:
    assert set(Action) - MEETING_ACTIONS == {Action.GLOSSARY_WRITE}


def test_rule_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        ROLE_FOR[Action.MINT] = Role.HOST  # type: ignore[index]
