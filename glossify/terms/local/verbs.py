"""Jargon verbs of the local detector: "cordon", "rebase", "failed over", "write off".

A verb is jargon when wordfreq says it is rare (titrate, memoize, indemnify) or fairly rare
and done to a thing rather than to people (prune the model, cordon the node), when it is a
field verb whose everyday sense is not the one a meeting uses (drain a node, squash commits,
discharge a patient: `fields.FIELD_VERBS`), or when it is a phrasal verb of a trade said with
its particle (fail over, write off, true up: `fields.PHRASAL_VERBS`). The small tagger often
calls such a verb a noun ("Quarantine the lot and disposition the parts"); a field verb
followed by a determiner or an object pronoun is taken as the verb it is.

Verbs that only sound rare because of their ending ("swallowing", "surfacing": -ing forms of
everyday verbs) are judged by their base form, and the lemma always counts among the base
forms, so an uninflected everyday verb ("read", "load") is never judged by a non-word made by
stripping a suffix from it ("rea").
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

from glossify.terms.local.collector import Collector
from glossify.terms.local.fields import FIELD_VERBS, PHRASAL_VERBS
from glossify.terms.local.lexicon import OFFICE_VERBS, SITUATIONAL_ADJECTIVES, words_of, zipf
from glossify.terms.local.tokens import is_verb_before_object

_OBJECT_STARTERS = frozenset({"the", "a", "an", "it", "them", "this", "that", "those", "these"})
_OBJECT_PRONOUNS = frozenset({"it", "them", "this", "that", "these", "those"})
_PARTICLES = frozenset({p for _, p in PHRASAL_VERBS})
_PERSON_PRONOUNS = frozenset({"me", "us", "you", "him", "her", "them", "everyone", "everybody"})
# Objects that are people: a verb done to them is about people, not a field's operation.
PEOPLE_NOUNS = words_of(
    """
    customer client user team people person everyone manager employee colleague member staff
    stakeholder partner vendor supplier candidate folk guy boss lead leadership owner
    """
)
_VERB_TAGS = frozenset({"VB", "VBD", "VBG", "VBN", "VBP", "VBZ"})
# Verbs too common to be jargon however rare one of their forms is.
_AUXILIARY_LIKE = frozenset({"be", "have", "do", "get", "go", "make", "say"})


def base_forms(word: str) -> set[str]:
    """Plausible base forms of an inflected English verb (no dictionary needed)."""
    w = word.lower()
    forms = {w}
    for suffix in ("ing", "ed", "es", "s", "d"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            stem = w[: -len(suffix)]
            forms |= {stem, stem + "e"}
            if len(stem) >= 2 and stem[-1] == stem[-2]:
                forms.add(stem[:-1])  # "squashed" no, "rebased" no, "shipped" -> ship
            if stem.endswith("i"):
                forms.add(stem[:-1] + "y")  # "stratified" -> stratify
    return forms


def is_field_verb(token: Token) -> bool:
    forms = base_forms(token.text) | {token.lemma_.lower()}
    return bool(forms & FIELD_VERBS)


def verb_rarity(token: Token) -> float:
    """Zipf frequency of the verb by its base form ("swallowing" is as common as "swallow",
    "randomized" as rare as "randomize"); the surface form when no base form is a word."""
    surface = token.text.lower()
    # The lemma always counts, even when it is the surface form: stripping a suffix from an
    # uninflected verb makes non-words that wordfreq still knows as rare strings ("read" ->
    # "rea", "need" -> "nee"), and those must not make an everyday verb look rare.
    bases = (base_forms(surface) - {surface}) | {token.lemma_.lower()}
    known = [zipf(form) for form in bases if zipf(form) > 0]
    return max(known) if known else zipf(surface)


def _looks_like_verb(token: Token) -> bool:
    if token.tag_ in _VERB_TAGS and token.pos_ in {"VERB", "AUX"}:
        return True
    if is_verb_before_object(token):
        return True  # "a cross-encoder reranks the candidates": the tagger said noun
    # "disposition the parts": a noun-tagged field verb that takes an object.
    following = token.doc[token.i + 1] if token.i + 1 < len(token.doc) else None
    return (
        token.pos_ in {"NOUN", "PROPN"}
        and following is not None
        and following.lower_ in _OBJECT_STARTERS
        and is_field_verb(token)
    )


def jargon_verbs(doc: Doc, out: Collector, rare_zipf: float) -> None:
    for token in doc:
        if not token.text.replace("-", "").isalpha() or not _looks_like_verb(token):
            continue
        forms = base_forms(token.text) | {token.lemma_.lower()}
        if forms & (_AUXILIARY_LIKE | OFFICE_VERBS):
            continue
        particle = _particle(token)
        if particle is not None and (token.lemma_.lower(), particle.lower_) in PHRASAL_VERBS:
            span = doc[token.i : particle.i + 1]
            out.add(span.text, "Skill", 0.85, span.start_char)
            continue
        if token.tag_ == "VBN" and token.dep_ == "amod":
            continue  # "the deprecated endpoint" is glossed with its noun, if at all
        if token.dep_ == "amod" and token.lower_ in SITUATIONAL_ADJECTIVES:
            continue  # "the pending audit": a state ("pend" is rare, "pending" is not)
        rarity = verb_rarity(token)
        fairly_rare = rarity < rare_zipf + 0.2 and not is_change_of_degree(token)
        if (
            is_field_verb(token)
            or rarity < rare_zipf - 0.5
            or (fairly_rare and _acts_on_a_thing(token))
        ):
            out.add(token.text, "Skill", 0.85, token.idx)


def split_phrasal_verbs(doc: Doc, out: Collector) -> None:
    """A trade's phrasal verb with its object in between ("true it up", "roll them back"),
    whatever tag the small tagger gave the verb: the pair is what marks it."""
    for token in doc[:-2]:
        pronoun, particle = doc[token.i + 1], doc[token.i + 2]
        if pronoun.lower_ not in _OBJECT_PRONOUNS or particle.lower_ not in _PARTICLES:
            continue
        forms = base_forms(token.text) | {token.lemma_.lower()}
        if any((form, particle.lower_) in PHRASAL_VERBS for form in forms):
            span = doc[token.i : particle.i + 1]
            out.add(span.text, "Skill", 0.85, span.start_char)


def is_change_of_degree(verb: Token) -> bool:
    """widen, shorten, tighten, flatten: "-en" verbs made from an everyday adjective say that
    something changes in degree, which is everyday English however rare the verb is."""
    for base in base_forms(verb.text) | {verb.lemma_.lower()}:
        if base.endswith("en") and len(base) > 4:
            adjective = base[:-2]
            candidates = (
                {adjective, adjective[:-1]} if adjective[-1:] == adjective[-2:-1] else {adjective}
            )
            if any(zipf(a) >= 4.5 for a in candidates | {adjective + "e"}):
                return True
    return False


def _acts_on_a_thing(verb: Token) -> bool:
    """A fairly rare verb done to a thing is a trade's operation ("prune the model", "cordon
    it"); one done to people or with no object ("notify the customers", "the gap widens") is
    everyday English."""
    objects = [child for child in verb.children if child.dep_ == "dobj"]
    return bool(objects) and all(
        obj.lower_ not in _PERSON_PRONOUNS
        and obj.lemma_.lower() not in PEOPLE_NOUNS
        and obj.ent_type_ not in {"PERSON", "ORG", "NORP"}
        for obj in objects
    )


def _particle(token: Token) -> Token | None:
    """The particle right after a verb ("failed over", "write off"), if any."""
    doc = token.doc
    if token.i + 1 < len(doc):
        following = doc[token.i + 1]
        if following.dep_ == "prt" or following.tag_ == "RP":
            return following
    return None
