"""The packaged reference glossary: field senses of common jargon, written once and looked up
instead of generated (pure functions over the files in `reference/`, no model).

The packaged 1.5B model knows the everyday sense of many field terms and not the field one
("pods" as whales, "cliff" as a rock face), and no hint in the prompt fixed that: it lacks the
knowledge. So each field has a reference file per language (`<field>.<language>.tsv`: the
term's forms, a tab, its definition in that field), written on 2026-11-30 from general
knowledge by writers who saw no evaluation data, one writer a field. A term found there is
explained from it; a term with senses in several fields gets the sense of the field the
meeting's lines talk about: the field whose reference terms they name most, and between fields
named equally often, the one whose definitions' words they share most (a naive Bayes
classifier over the reference's own text).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from glossify.explain.answer import Explanation
from glossify.text import base_language

# The domain label a reference card shows, by field and language.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "software": {"en": "Software", "ko": "소프트웨어"},
    "cloud": {"en": "Cloud", "ko": "클라우드"},
    "data_ml": {"en": "Data", "ko": "데이터"},
    "finance": {"en": "Finance", "ko": "재무"},
    "manufacturing": {"en": "Manufacturing", "ko": "제조"},
    "legal": {"en": "Legal", "ko": "법무"},
    "medical": {"en": "Medical", "ko": "의료"},
    "sales_marketing": {"en": "Marketing", "ko": "마케팅"},
    "hr": {"en": "HR", "ko": "인사"},
}
LANGUAGES = ("en", "ko")
_FIELD_ORDER = {field: index for index, field in enumerate(FIELD_LABELS)}
MAX_FORM_WORDS = 4
# Add-half smoothing of the word counts: a word a field's definitions never use is unlikely
# there, not impossible.
SMOOTHING = 0.5
_WORD = re.compile(r"[^\W_]+(?:[-'’.&/][^\W_]+)*")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_SCRIPT_RUN = re.compile(r"[\uac00-\ud7a3]+|[^\uac00-\ud7a3]+")
# Particles a Korean transcript glues to a noun ("감가상각이", "WBS부터"): tried off the end of a
# word when the word itself is no form.
_PARTICLE_CHARS = 3


@dataclass(frozen=True)
class Sense:
    field: str
    definition: str
    # Normalised forms the file writes as a capitalised name ("Snowflake", "Drift"): a term
    # heard all in lower case ("that box is a snowflake") is the common word, not the name.
    name_forms: frozenset[str] = frozenset()


def normalize_form(text: str) -> str:
    """How forms and heard terms are compared: NFKC, case-folded, hyphens and runs of spaces
    as one space, surrounding punctuation dropped."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("-", " ")
    return " ".join(folded.split()).strip(" .,;:!?\"'“”‘’()[]")


def _singular(form: str) -> str | None:
    """The regular singular of an English plural form, or None ("pods" -> "pod",
    "policies" -> "policy", "classes" -> "class")."""
    if len(form) < 4 or not form.endswith("s") or form.endswith("ss"):
        return None
    if form.endswith("ies"):
        return form[:-3] + "y"
    if form.endswith(("sses", "xes", "ches", "shes", "zes")):
        return form[:-2]
    return form[:-1]


def parse_entries(text: str) -> Iterable[tuple[tuple[str, ...], str]]:
    """Each entry of a reference file: its forms as written and its definition."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        forms_text, _, definition = line.partition("\t")
        forms = tuple(form.strip() for form in forms_text.split("|") if normalize_form(form))
        if forms and definition.strip():
            yield forms, definition.strip()


def _is_name(form: str) -> bool:
    """One capitalised word: "Snowflake", not "SRE", "Cpk" or "kanban"."""
    return form[:1].isupper() and form[1:].isalpha() and form[1:].islower()


class FieldWords:
    """How often each word occurs in each field's entries, for one language."""

    def __init__(self, counts: Mapping[str, Counter[str]]) -> None:
        self._counts = counts
        self._totals = {field: sum(words.values()) for field, words in counts.items()}
        self._vocabulary = len(set().union(*counts.values())) if counts else 0

    def log_likelihoods(self, text: str) -> dict[str, float]:
        """log P(text's words | field) for every field, under add-half smoothing."""
        words = word_tokens(text)
        return {
            field: sum(
                math.log(
                    (counts[word] + SMOOTHING)
                    / (self._totals[field] + SMOOTHING * self._vocabulary)
                )
                for word in words
            )
            for field, counts in self._counts.items()
        }


def word_tokens(text: str) -> list[str]:
    """The words a field model counts: English words of three letters or more, and for Korean
    each pair of adjacent syllables in a word (particles glued to nouns would otherwise make
    every inflected form a new word)."""
    tokens: list[str] = []
    for word in (normalize_form(w) for w in _WORD.findall(text)):
        # "WBS부터": the Latin and the Hangul parts of a word are counted apart.
        for part in _SCRIPT_RUN.findall(word):
            if _HANGUL.match(part):
                tokens.extend(part[i : i + 2] for i in range(len(part) - 1))
            elif len(part) >= 3:
                tokens.append(part)
    return tokens


class ReferenceGlossary:
    """Senses by language and normalised form; each field's forms and definitions also tell
    which field a meeting's lines are about."""

    def __init__(
        self,
        senses: Mapping[str, Mapping[str, tuple[Sense, ...]]],
        field_words: Mapping[str, FieldWords],
    ) -> None:
        self._senses = senses
        self._field_words = field_words

    @classmethod
    def from_texts(cls, texts: Mapping[tuple[str, str], str]) -> ReferenceGlossary:
        """From file texts keyed by (field, language)."""
        senses: dict[str, dict[str, list[Sense]]] = {}
        counts: dict[str, dict[str, Counter[str]]] = {}
        for (field, language), text in texts.items():
            by_form = senses.setdefault(language, {})
            words = counts.setdefault(language, {}).setdefault(field, Counter())
            for forms, definition in parse_entries(text):
                words.update(word_tokens(" ".join((*forms, definition))))
                names = frozenset(normalize_form(form) for form in forms if _is_name(form))
                sense = Sense(field, definition, names)
                for form in dict.fromkeys(normalize_form(form) for form in forms):
                    if all(known.field != field for known in by_form.get(form, ())):
                        by_form.setdefault(form, []).append(sense)
        return cls(
            {
                language: {form: tuple(found) for form, found in by_form.items()}
                for language, by_form in senses.items()
            },
            {language: FieldWords(by_field) for language, by_field in counts.items()},
        )

    def senses(self, term: str, language: str) -> tuple[Sense, ...]:
        """The senses of ``term`` in ``language`` (fields in FIELD_LABELS order), found by
        the term as heard, its singular and, in Korean, the form without spaces; a term heard
        in lower case has no name's sense."""
        lower = term == term.lower()
        return tuple(
            sense
            for key, sense in self._lookup(term, language)
            if not (lower and key in sense.name_forms)
        )

    def _lookup(self, term: str, language: str) -> list[tuple[str, Sense]]:
        """Every sense of ``term`` (names included), with the form it was found by."""
        by_form = self._senses.get(language, {})
        form = normalize_form(term)
        found: dict[Sense, str] = {}
        for key in (form, _singular(form), form.replace(" ", "")):
            for sense in by_form.get(key or "", ()):
                found.setdefault(sense, key or "")
        return sorted(((key, sense) for sense, key in found.items()), key=_field_order)

    def field_evidence(self, text: str, language: str, term: str) -> Counter[str]:
        """How many distinct reference entries of each field the meeting text names (by any of
        their forms), the term's own entries not counted."""
        by_form = self._senses.get(language, {})
        own = {sense for _, sense in self._lookup(term, language)}
        found: set[Sense] = set()
        words = [normalize_form(word) for word in _WORD.findall(text)]
        for start in range(len(words)):
            for end in range(start + 1, min(start + MAX_FORM_WORDS, len(words)) + 1):
                phrase = " ".join(words[start:end])
                known = next((by_form[c] for c in _candidates(phrase) if c in by_form), ())
                found.update(sense for sense in known if sense not in own)
        return Counter(sense.field for sense in found)

    def forms(self, language: str) -> tuple[str, ...]:
        """Every normalised form of ``language``."""
        return tuple(self._senses.get(language, {}))

    def explain(self, term: str, context: str, language: str | None) -> Explanation | None:
        """The reference card for ``term`` heard in ``context`` (the meeting's lines) in the
        sense the meeting means, or None when the reference lacks the term in that language."""
        code = base_language(language or "en")
        if code not in LANGUAGES:
            return None
        senses = self.senses(term, code)
        if not senses:
            return None
        sense = senses[0]
        if len(senses) > 1:
            evidence = self.field_evidence(context, code, term)
            # The term's own words say nothing of which of its fields is meant.
            rest = re.sub(re.escape(term), " ", context, flags=re.IGNORECASE)
            likelihoods = self._field_words[code].log_likelihoods(rest)
            sense = choose_sense(senses, evidence, likelihoods)
        return Explanation(domain=FIELD_LABELS[sense.field][code], body=sense.definition)


def _field_order(found: tuple[str, Sense]) -> int:
    return _FIELD_ORDER[found[1].field]


def _candidates(word_or_phrase: str) -> Iterable[str]:
    """A word as heard, its singular, and for a Korean word the word without up to three
    trailing particle characters."""
    yield word_or_phrase
    singular = _singular(word_or_phrase)
    if singular:
        yield singular
    if _HANGUL.search(word_or_phrase[-1:]):
        for cut in range(1, _PARTICLE_CHARS + 1):
            if len(word_or_phrase) - cut >= 2:
                yield word_or_phrase[:-cut]


def choose_sense(
    senses: tuple[Sense, ...], evidence: Mapping[str, int], likelihoods: Mapping[str, float]
) -> Sense:
    """Of a term's senses, the one whose field the meeting names most reference terms of;
    among fields named equally often, the one whose words the meeting's are likeliest under
    (often such a tie is one concept in two fields: a canary release in software and cloud)."""
    best = max(evidence.get(sense.field, 0) for sense in senses)
    tied = [sense for sense in senses if evidence.get(sense.field, 0) == best]
    return max(tied, key=lambda sense: likelihoods.get(sense.field, -math.inf))


@cache
def packaged_reference() -> ReferenceGlossary:
    """The reference glossary shipped in `glossify/explain/reference/`."""
    folder = files("glossify.explain").joinpath("reference")
    texts: dict[tuple[str, str], str] = {}
    for field in FIELD_LABELS:
        for language in LANGUAGES:
            path = folder.joinpath(f"{field}.{language}.tsv")
            if path.is_file():
                texts[(field, language)] = path.read_text(encoding="utf-8")
    return ReferenceGlossary.from_texts(texts)
