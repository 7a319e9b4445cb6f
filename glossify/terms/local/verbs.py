"""Jargon verbs of the local detector: "cordon", "rebase", "failed over", "write off".

A verb is jargon when wordfreq says it is rare (titrate, memoize, indemnify), when it is a
field verb whose everyday sense is not the one a meeting uses (drain a node, squash commits,
discharge a patient: `fields.FIELD_VERBS`), or when it is a phrasal verb of a trade said with
its particle (fail over, write off, true up: `fields.PHRASAL_VERBS`). The small tagger often
calls such a verb a noun ("Quarantine the lot and disposition the parts"); a field verb
followed by a determiner or an object pronoun is taken as the verb it is.

Verbs that only sound rare because of their ending ("swallowing", "surfacing": -ing forms of
everyday verbs) are judged by their base form.
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

from glossify.terms.local.collector import Collector
from glossify.terms.local.fields import FIELD_VERBS, PHRASAL_VERBS
from glossify.terms.local.lexicon import OFFICE_VERBS, zipf

_OBJECT_STARTERS = frozenset({"the", "a", "an", "it", "them", "this", "that", "those", "these"})
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
    bases = (base_forms(surface) | {token.lemma_.lower()}) - {surface}
    known = [zipf(form) for form in bases if zipf(form) > 0]
    return max(known) if known else zipf(surface)


def _looks_like_verb(token: Token) -> bool:
    if token.tag_ in _VERB_TAGS and token.pos_ in {"VERB", "AUX"}:
        return True
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
        if is_field_verb(token) or verb_rarity(token) < rare_zipf - 0.5:
            out.add(token.text, "Skill", 0.85, token.idx)


def _particle(token: Token) -> Token | None:
    """The particle right after a verb ("failed over", "write off"), if any."""
    doc = token.doc
    if token.i + 1 < len(doc):
        following = doc[token.i + 1]
        if following.dep_ == "prt" or following.tag_ == "RP":
            return following
    return None
