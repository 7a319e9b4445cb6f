"""What a caller may do: service-key scopes, meeting-token roles, and the actions they allow.

Two kinds of caller exist (see ``principal``):

- a **service key** (trusted server-side caller) holds a set of ``Scope`` values;
- a **meeting token** (browser or other client) names one meeting and one ``Role``.

Every protected request maps to one ``Action``. An action is allowed to a service key holding
``SCOPE_FOR[action]``, and to a meeting token (for its own meeting only) whose role is at least
``ROLE_FOR[action]``; actions missing from ``ROLE_FOR`` are never allowed to a token.

| action | what it covers | token role | key scope |
|---|---|---|---|
| ``read`` | WebSocket events, ``GET`` terms / transcript / stop status | listener | meetings:read |
| ``speak`` | audio frames on the socket, ``POST /stt`` | speaker | meetings:write |
| ``host`` | ``start`` (creates the meeting), external ``terms``, ``stop`` | host | meetings:write |
| ``mint`` | ``POST /meeting/{mid}/tokens`` | — | tokens:mint |
| ``glossary_write`` | writing the organisation glossary | — | glossary:write |

Creating a meeting needs the ``host`` action (a host token or a ``meetings:write`` key).
Reading the organisation glossary concerns no meeting and is no action here: any valid meeting
token, or a key with ``meetings:read``, may (``principal.authorize_glossary_read``).
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType


class Scope(StrEnum):
    """A permission of a service key, written as in ``GLOSSIFY_API_KEYS``."""

    MEETINGS_READ = "meetings:read"
    MEETINGS_WRITE = "meetings:write"
    TOKENS_MINT = "tokens:mint"
    GLOSSARY_WRITE = "glossary:write"


ALL_SCOPES: frozenset[Scope] = frozenset(Scope)

# Position in the order listener < speaker < host; each role can do what the lower ones can.
_RANK = {"listener": 0, "speaker": 1, "host": 2}


class Role(StrEnum):
    """The role a meeting token grants, ordered: ``LISTENER < SPEAKER < HOST``.

    The value is what the token's ``role`` claim holds. Comparisons between roles follow the
    rank, not the spelling (``Role.HOST > Role.SPEAKER`` although "host" < "speaker" as text).
    """

    LISTENER = "listener"
    SPEAKER = "speaker"
    HOST = "host"

    @property
    def rank(self) -> int:
        return _RANK[self.value]

    # str's own comparisons would order roles alphabetically; compare ranks instead. A plain
    # string is refused outright: NotImplemented would let Python fall back to text order.
    def __lt__(self, other: str) -> bool:
        return self.rank < _rank_of(other)

    def __le__(self, other: str) -> bool:
        return self.rank <= _rank_of(other)

    def __gt__(self, other: str) -> bool:
        return self.rank > _rank_of(other)

    def __ge__(self, other: str) -> bool:
        return self.rank >= _rank_of(other)


def _rank_of(other: object) -> int:
    if not isinstance(other, Role):
        raise TypeError(f"a Role compares only with a Role, not {type(other).__name__}")
    return other.rank


class Action(StrEnum):
    """One thing a request does to a meeting or to the organisation glossary."""

    READ = "read"
    SPEAK = "speak"
    HOST = "host"
    MINT = "mint"
    GLOSSARY_WRITE = "glossary_write"


# The lowest role that may do an action; an action absent here needs a service key.
ROLE_FOR: MappingProxyType[Action, Role] = MappingProxyType(
    {Action.READ: Role.LISTENER, Action.SPEAK: Role.SPEAKER, Action.HOST: Role.HOST}
)

SCOPE_FOR: MappingProxyType[Action, Scope] = MappingProxyType(
    {
        Action.READ: Scope.MEETINGS_READ,
        Action.SPEAK: Scope.MEETINGS_WRITE,
        Action.HOST: Scope.MEETINGS_WRITE,
        Action.MINT: Scope.TOKENS_MINT,
        Action.GLOSSARY_WRITE: Scope.GLOSSARY_WRITE,
    }
)

# Actions about one meeting; the others (the organisation glossary) concern no meeting.
MEETING_ACTIONS: frozenset[Action] = frozenset(
    {Action.READ, Action.SPEAK, Action.HOST, Action.MINT}
)


def role_allows(role: Role, action: Action) -> bool:
    """True when a meeting token with ``role`` may do ``action`` in its own meeting."""
    needed = ROLE_FOR.get(action)
    return needed is not None and role >= needed


def scopes_allow(scopes: frozenset[Scope], action: Action) -> bool:
    """True when a service key holding ``scopes`` may do ``action``."""
    return SCOPE_FOR[action] in scopes
