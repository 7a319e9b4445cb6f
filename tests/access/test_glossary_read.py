"""Who may read the organisation glossary: any valid meeting token, whatever its meeting and
role, or a key with meetings:read; writing it stays with glossary:write keys."""

from __future__ import annotations

import pytest

from glossify.access.principal import (
    AUTH_OFF,
    Forbidden,
    allows,
    authorize,
    authorize_glossary_read,
)
from glossify.access.scopes import Action
from tests.access.test_principal import FULL_KEY, MINT_KEY, READ_KEY, principal, token_for


@pytest.mark.parametrize("role", ["listener", "speaker", "host"])
def test_any_meeting_token_reads_the_glossary_but_never_writes_it(role: str) -> None:
    for meeting in ["m1", "another-meeting"]:
        holder = principal(token_for(role, meeting))
        authorize_glossary_read(holder)
        with pytest.raises(Forbidden) as caught:
            authorize(holder, Action.GLOSSARY_WRITE)
        assert caught.value.code == "key_required"


def test_keys_read_it_with_meetings_read() -> None:
    authorize_glossary_read(principal(FULL_KEY))
    authorize_glossary_read(principal(READ_KEY))
    authorize_glossary_read(AUTH_OFF)
    with pytest.raises(Forbidden) as caught:
        authorize_glossary_read(principal(MINT_KEY))
    assert (caught.value.status, caught.value.code) == (403, "missing_scope")
    assert "meetings:read" in caught.value.message
    assert not allows(principal(READ_KEY), Action.GLOSSARY_WRITE)
    assert allows(principal(FULL_KEY), Action.GLOSSARY_WRITE)
