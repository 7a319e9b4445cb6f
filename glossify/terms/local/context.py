"""Context rules of the local detector: spans whose slot in the sentence says they are no term.

* Events: a lower-case noun phrase that is cancelled or postponed, that is moved or starts "to
  / on / until" a day, or that "is on Tuesday", names a meeting or an occasion ("the pipeline
  review got moved to Friday", "the quarterly all-hands is on Tuesday", "let's cancel the design
  sync"), not a concept, whatever words it is made of. (A measurement is taken *at* a time: "the
  primary endpoint is HbA1c at week 26" is no event.)
* Colleagues: a lone capitalised word that is the subject of a verb and that the small model
  could only call an organisation ("and Priya will present") is a person; products are said with
  a classifier noun or a capital-rich spelling (handled by the name and surface-form rules).
* Departments: a bare noun that is the subject of a verb of saying or wanting ("Cardiology
  wants to uptitrate", "legal says no") is a team speaking, whatever its field flavour.
* Dates inside names: a name run with a weekday or month in it ("Black Friday", "Cyber Monday")
  is a date.
* People, places, dates and numbers that spaCy's NER found are labelled with a category the
  term filter drops, unless a jargon rule already claimed them.
"""

from __future__ import annotations

from spacy.tokens import Doc, Span, Token

from glossify.terms.local.collector import Collector
from glossify.terms.local.lexicon import TEAM_VOICE_VERBS, words_of
from glossify.terms.local.tokens import PERIOD_CODE, entity_labels

# spaCy entity labels that are not jargon, with the category the filter will drop them by.
_NON_JARGON_CATEGORY: dict[str, str] = {
    "PERSON": "Person",
    "GPE": "Location",
    "LOC": "Location",
    "FAC": "Location",
    "NORP": "Location",
    "DATE": "DateTime",
    "TIME": "DateTime",
    "CARDINAL": "Quantity",
    "ORDINAL": "Quantity",
    "QUANTITY": "Quantity",
    "MONEY": "Quantity",
    "PERCENT": "Quantity",
}

# Verbs whose subject is an event when they are said with a time ("X got moved to Friday",
# "X starts at ten"); the first three are about time on their own ("X got cancelled").
EVENT_SUBJECT_VERBS = words_of(
    "cancel postpone reschedule move push start begin end overrun happen delay be"
)
TEMPORAL_VERBS = words_of("cancel postpone reschedule")
# Verbs whose object is an event ("cancel the budget review", "attend the kickoff").
EVENT_OBJECT_VERBS = words_of("schedule reschedule postpone cancel attend host chair book")
CALENDAR_WORDS = words_of(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december
    """
)
_TIME_LABELS = frozenset({"DATE", "TIME"})
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})


def _said_with_a_day(verb: Token) -> bool:
    """ "... is on Tuesday", "... was moved to Friday", "... pushed until next week" (not "...
    is HbA1c at week 26": a measurement is taken *at* a time, a meeting is held *on* a day)."""
    for prep in verb.children:
        if prep.dep_ != "prep" or prep.lower_ not in {"on", "to", "until", "till"}:
            continue
        if any(t.ent_type_ in _TIME_LABELS or t.lower_ in CALENDAR_WORDS for t in prep.subtree):
            return True
    return False


def is_event_phrase(chunk: Span) -> bool:
    """Is this noun phrase a meeting or an occasion, by the verb it goes with?"""
    head = chunk.root
    verb = head.head
    if verb.pos_ not in {"VERB", "AUX"} or not head.text.islower():
        return False  # "the MVP should move it": acronyms and names are handled on their own
    lemma = verb.lemma_.lower()
    if head.dep_ in _SUBJECT_DEPS and lemma in EVENT_SUBJECT_VERBS:
        return lemma in TEMPORAL_VERBS or _said_with_a_day(verb)
    return head.dep_ == "dobj" and lemma in EVENT_OBJECT_VERBS


def event_phrases(doc: Doc) -> list[Span]:
    """Noun phrases that name a meeting or an occasion, and each tail of them that ends at
    their head ("quarterly all-hands", "all-hands"), without determiners."""
    spans: list[Span] = []
    for chunk in doc.noun_chunks:
        if not is_event_phrase(chunk):
            continue
        words = [t for t in chunk if t.pos_ not in {"DET", "PRON"} and t.dep_ != "poss"]
        spans.extend(doc[word.i : words[-1].i + 1] for word in words)
    return spans


def is_subject_colleague(run: list[Token], labels: set[str]) -> bool:
    """ "and Priya will present": a lone unknown capitalised word as a verb's subject."""
    if len(run) != 1 or not labels <= {"ORG"}:
        return False
    token = run[0]
    return token.dep_ in _SUBJECT_DEPS and token.head.pos_ == "VERB" and token.text.isalpha()


def is_department(token: Token) -> bool:
    """ "Cardiology wants to uptitrate", "and legal says no": a bare noun (no determiner)
    as the subject of a verb of saying or wanting is a team speaking, not a concept."""
    if token.dep_ not in _SUBJECT_DEPS or token.head.lemma_.lower() not in TEAM_VOICE_VERBS:
        return False
    return not any(child.dep_ in {"det", "poss", "amod", "compound"} for child in token.children)


def has_calendar_word(run: list[Token]) -> bool:
    return any(t.lower_ in CALENDAR_WORDS for t in run)


def non_jargon_entities(doc: Doc, out: Collector) -> None:
    """People, places, dates and numbers, labelled so that the filter drops them."""
    for ent in doc.ents:
        category = _NON_JARGON_CATEGORY.get(ent.label_)
        if all(PERIOD_CODE.match(t.text) for t in ent):
            category = "DateTime"  # "Q3" is a quarter, whatever NER guessed
        # Skip spans already claimed as jargon (an acronym spaCy called a PERSON, say).
        if category is None or not entity_labels(ent) or any(t.text in out for t in ent):
            continue
        out.add(ent.text, category, 0.8, ent.start_char)
