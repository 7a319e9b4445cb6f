"""Prepositional terms of the local detector: "span of control", "mean time to detect",
"right of first refusal", "Definition of Done", "cost per hire".

Such a term is a noun, a preposition (of, to, for, per, between) and a short complement with
no determiner, pronoun or number in it: a lexicalised phrase names a concept, while "the end of
the month" or "a share of our revenue" describe this situation. Because everyday speech is full
of "X of Y", one more sign is needed: the first noun is capitalised mid-sentence (a named
method: "Definition of Done"), or it is a relational noun that heads many such terms in the
fields (limitation, right, span, definition, statement, cost, time, ...). The complement is
adjectives and one noun ("first refusal"), never a name ("ships to Stuttgart").
"X to <verb>" ("time to fill") is a term only when the first noun is modified or possessed
("our time to fill", "mean time to detect") or the verb is rare ("a motion to compel"), so that
"it's time to go" stays small talk, and when no object follows the verb ("time to fix it" is a
clause).
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

from glossify.terms.local.collector import Collector
from glossify.terms.local.lexicon import GENERIC_NOUNS, SITUATIONAL_ADJECTIVES, words_of, zipf

_words = words_of

PREPOSITIONS = frozenset({"of", "to", "for", "per", "between"})
# First nouns that head many terms of the fields in this shape.
RELATIONAL_NOUNS = _words(
    """
    limitation limitations right rights span definition statement statements bill proof cost
    costs chain standard burden letter power memorandum certificate conflict range mechanism
    time mean rate return scope duty breach choice separation segregation assignment waiver
    deed indemnification termination request requests proof notice motion cause quality level
    line terms rule days
    """
)
# First nouns that make "X of Y" a quantity or a hedge, never a term.
PARTITIVE_NOUNS = _words(
    """
    lot lots kind sort most share percent part rest end top number bunch couple half amount
    piece type some all one none bit ton tons majority minority plenty front back middle
    start beginning side sides out instead because matter
    """
)
# Below this Zipf frequency, the verb of "X to <verb>" is a field's, not small talk's.
RARE_VERB_ZIPF = 4.0
_COMPLEMENT_POS = frozenset({"NOUN", "PROPN", "ADJ", "VERB"})
_OBJECT_POS = frozenset({"DET", "PRON", "NUM", "NOUN", "PROPN"})


def _first_noun_start(head: Token) -> Token:
    """ "mean" of "mean time", "limitation" alone: compound and adjective modifiers before it."""
    start = head
    for left in reversed(list(head.lefts)):
        if left.i != start.i - 1 or left.dep_ not in {"compound", "amod"}:
            break
        if left.lower_ in SITUATIONAL_ADJECTIVES:
            break  # "our new span of control": situational adjectives describe
        start = left
    return start


def _complement(doc: Doc, prep: Token, named: bool) -> list[Token]:
    """Adjectives and one noun (or a bare verb after "to"): "first refusal", "control"."""
    tokens: list[Token] = []
    for token in doc[prep.i + 1 : prep.i + 4]:
        if token.pos_ not in _COMPLEMENT_POS or token.pos_ == "NUM":
            break
        if token.pos_ == "PROPN" and not named:
            break  # "ships to Stuttgart", "transfer for Wei": a name is no part of a term
        tokens.append(token)
        if token.pos_ in {"NOUN", "PROPN", "VERB"}:
            break
    while tokens and tokens[-1].pos_ == "ADJ":
        tokens.pop()
    return tokens


def _is_rare_verb(verb: Token) -> bool:
    """ "a motion to compel", "the right to terminate": a rare verb makes the phrase a
    procedure's name even without a modifier ("time to go" is everyday)."""
    return verb.is_alpha and zipf(verb.lemma_.lower()) < RARE_VERB_ZIPF


def _is_modified(head: Token) -> bool:
    return any(left.dep_ in {"poss", "amod", "compound"} for left in head.lefts)


def prepositional_terms(doc: Doc, out: Collector) -> None:
    for prep in doc[1:-1]:
        if prep.lower_ not in PREPOSITIONS:
            continue
        head = doc[prep.i - 1]
        if head.pos_ not in {"NOUN", "PROPN"} or not head.is_alpha:
            continue
        if head.lower_ in PARTITIVE_NOUNS | GENERIC_NOUNS:
            continue
        start = _first_noun_start(head)
        named = head.text.istitle() and not start.is_sent_start and not head.ent_type_
        complement = _complement(doc, prep, named)
        if not complement:
            continue
        last = complement[-1]
        if last.pos_ == "VERB":
            # "time to fill": only with a modified first noun and no object after the verb.
            after = doc[last.i + 1] if last.i + 1 < len(doc) else None
            if prep.lower_ != "to" or not (_is_modified(head) or _is_rare_verb(last)):
                continue
            if after is not None and after.pos_ in _OBJECT_POS:
                continue
        relational = head.lower_ in RELATIONAL_NOUNS or head.lemma_.lower() in RELATIONAL_NOUNS
        if named or relational:
            span = doc[start.i : last.i + 1]
            out.add(span.text, "Skill", 0.75, span.start_char)
