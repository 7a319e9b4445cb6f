"""The packaged reference glossary: field senses of common jargon, written once and looked up
instead of generated (pure functions over the files in `reference/`, no model).

The packaged 1.5B model knows the everyday sense of many field terms and not the field one
("pods" as whales, "cliff" as a rock face), and no hint in the prompt fixed that: it lacks the
knowledge. So each field has a reference file per language (`<field>.<language>.tsv`: the term's
forms, a tab, its definition in that field), written on 2026-11-30 from general knowledge by
writers who saw no evaluation data, one writer a field. A term found there is explained from it;
a term with senses in several fields gets the sense of the field the meeting's lines talk about:
the field whose reference terms they name most (the line the term was heard in first, then the
lines before it), and between fields named equally often, the one whose definitions' words they
share most (a naive Bayes classifier over the reference's own text). A term said in no field's
terms and no field's words gets the first field's sense (FIELD_LABELS order). The organisation
glossary is asked before all this, and an entry someone corrected there wins
(`glossify.meetings.explanations`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from glossify.explain.answer import Explanation
from glossify.explain.prompt import split_context
from glossify.terms.gazetteer import GazetteerMatch, GlossaryGazetteer
from glossify.text import SCRIPTS, base_language

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
# Add-half smoothing of the word counts: a word a field's definitions never use is unlikely
# there, not impossible.
SMOOTHING = 0.5
# The meeting text read for the field (its end: the line and the lines just before it); a
# line can be long, and the replica's event loop must not stall on it.
MAX_CONTEXT_CHARS = 2000
_WORD = re.compile(r"[^\W_]+(?:[-'’.&/][^\W_]+)*")
_HANGUL = re.compile(SCRIPTS["ko"])
_SCRIPT_RUN = re.compile(rf"{SCRIPTS['ko']}+|(?:(?!{SCRIPTS['ko']}).)+")


@dataclass(frozen=True)
class Sense:
    field: str
    definition: str


def normalize_form(text: str) -> str:
    """How forms and heard terms are compared: NFKC, case-folded, hyphens and runs of spaces
    as one space, surrounding punctuation dropped."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("-", " ")
    return " ".join(folded.split()).strip(" .,;:!?\"'“”‘’()[]")


def _keys(form: str) -> list[str]:
    """What a heard form may be listed as: itself, without spaces ("데이터레이크"), and the
    singulars an English plural may have ("caches" -> "caches", "cache", "cach")."""
    keys = [form, form.replace(" ", "")]
    if len(form) >= 4 and form.endswith("s") and not form.endswith("ss"):
        keys.append(form[:-1])
        if form.endswith("es"):
            keys.append(form[:-2])
        if form.endswith("ies"):
            keys.append(form[:-3] + "y")
    return keys


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


class FieldWords:
    """How often each word occurs in each field's entries, for one language."""

    def __init__(self, counts: Mapping[str, Counter[str]]) -> None:
        self._counts = counts
        self._totals = {field: sum(words.values()) for field, words in counts.items()}
        self._vocabulary: set[str] = set().union(*counts.values())

    def log_likelihoods(self, words: Iterable[str]) -> dict[str, float]:
        """log P(words | field) for every field, under add-half smoothing; words no field
        uses are left out (they would favour the fields with the least text)."""
        known = [word for word in words if word in self._vocabulary]
        size = len(self._vocabulary)
        return {
            field: sum(
                math.log((counts[word] + SMOOTHING) / (self._totals[field] + SMOOTHING * size))
                for word in known
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
        # The forms as phrases said in a line (plurals, hyphen variants, Korean particles).
        self._gazetteers = {
            language: GlossaryGazetteer(by_form) for language, by_form in senses.items()
        }

    @classmethod
    def from_texts(cls, texts: Mapping[tuple[str, str], str]) -> ReferenceGlossary:
        """From file texts keyed by (field, language); a form's senses in the order given."""
        senses: dict[str, dict[str, list[Sense]]] = {}
        counts: dict[str, dict[str, Counter[str]]] = {}
        for (field, language), text in texts.items():
            by_form = senses.setdefault(language, {})
            words = counts.setdefault(language, {}).setdefault(field, Counter())
            for forms, definition in parse_entries(text):
                words.update(word_tokens(" ".join((*forms, definition))))
                sense = Sense(field, definition)
                for form in dict.fromkeys(normalize_form(form) for form in forms):
                    # A field's first entry with a form is its sense of it.
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
        """The senses of ``term`` in ``language``, fields in FIELD_LABELS order, found by the
        term as heard, without its spaces, or as the singular of an English plural."""
        by_form = self._senses.get(language, {})
        found = {
            sense: None for key in _keys(normalize_form(term)) for sense in by_form.get(key, ())
        }
        return tuple(sorted(found, key=lambda sense: _FIELD_ORDER[sense.field]))

    def has_definition(self, term: str, text: str) -> bool:
        """Whether ``text`` is word for word one of the reference's definitions of ``term``
        (in any language): a glossary entry that nobody has corrected."""
        return any(
            sense.definition == text.strip()
            for language in self._senses
            for sense in self.senses(term, language)
        )

    def find(self, text: str, language: str) -> list[GazetteerMatch]:
        """The reference's forms said in ``text`` (plurals, hyphen variants, Korean particles)."""
        gazetteer = self._gazetteers.get(language)
        return gazetteer.find(text) if gazetteer is not None else []

    def compile(self, language: str) -> None:
        """Compile the matcher of ``language``'s forms now rather than line by line."""
        gazetteer = self._gazetteers.get(language)
        if gazetteer is not None:
            gazetteer.compile()

    def field_evidence(self, text: str, language: str, term: str) -> Counter[str]:
        """How many distinct reference entries of each field the meeting text names (by any of
        their forms), the term's own entries not counted."""
        own = set(self.senses(term, language))
        named = self.named(self.find(text[-MAX_CONTEXT_CHARS:], language), language)
        return Counter(sense.field for sense in named if sense not in own)

    def named(self, said: Iterable[GazetteerMatch], language: str) -> frozenset[Sense]:
        """The senses of the forms ``said`` (matches of `find`)."""
        return frozenset(sense for match in said for sense in self.senses(match.text, language))

    def forms(self, language: str) -> tuple[str, ...]:
        """Every normalised form of ``language``."""
        return tuple(self._senses.get(language, {}))

    def explain(self, term: str, context: str, language: str | None) -> Explanation | None:
        """The reference card for ``term`` heard in ``context`` (the meeting's lines) in the
        sense the meeting means, or None when the reference lacks the term in the meeting's
        language (without one, Korean if the lines are, else English)."""
        guessed = "ko" if _HANGUL.search(context) else "en"
        code = base_language(language) if language else guessed
        senses = self.senses(term, code) if code in LANGUAGES else ()
        if not senses:
            return None
        sense = senses[0]
        if len(senses) > 1:
            recent = context[-MAX_CONTEXT_CHARS:]
            earlier, heard = split_context(recent, term)
            in_line = self.field_evidence(heard, code, term)
            before = self.field_evidence("\n".join(earlier), code, term)
            # The term's own words say nothing of which of its fields is meant.
            own = set(word_tokens(term))
            words = [w for w in word_tokens(recent) if w not in own]
            likelihoods = self._field_words[code].log_likelihoods(words)
            sense = choose_sense(senses, (in_line, before), likelihoods)
        return Explanation(domain=FIELD_LABELS[sense.field][code], body=sense.definition)


def choose_sense(
    senses: tuple[Sense, ...],
    evidence: Sequence[Mapping[str, int]],
    likelihoods: Mapping[str, float],
) -> Sense:
    """Of a term's senses, the one whose field the meeting names most reference terms of, the
    line the term was heard in first (``evidence``: its count, then the earlier lines'); among
    fields named equally often, the one whose words the meeting's are likeliest under (often
    such a tie is one concept in two fields: a canary release in software and cloud)."""
    return max(
        senses,
        key=lambda sense: (
            *(counts.get(sense.field, 0) for counts in evidence),
            likelihoods.get(sense.field, -math.inf),
        ),
    )


def packaged_texts() -> dict[tuple[str, str], str]:
    """The texts of the files shipped in `glossify/explain/reference/`, by (field, language)."""
    folder = files("glossify.explain").joinpath("reference")
    texts: dict[tuple[str, str], str] = {}
    for field in FIELD_LABELS:
        for language in LANGUAGES:
            path = folder.joinpath(f"{field}.{language}.tsv")
            if path.is_file():
                texts[(field, language)] = path.read_text(encoding="utf-8")
    return texts


@cache
def packaged_reference() -> ReferenceGlossary:
    """The reference glossary shipped in `glossify/explain/reference/`."""
    return ReferenceGlossary.from_texts(packaged_texts())
