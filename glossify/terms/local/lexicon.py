"""The English lexicon of the local term detector: word lists and word rarity.

Everyday words, generic nouns and situational adjectives are what a term is *not*; wordfreq's
Zipf frequency says how rare a word is in everyday English (rare words are candidate jargon).
"""

from __future__ import annotations

import re
from functools import lru_cache

from wordfreq import zipf_frequency


def _words(text: str) -> frozenset[str]:
    """A word list written as whitespace-separated text (easier to read and extend)."""
    return frozenset(text.split())


# Abbreviations every listener knows (including place abbreviations, since unknown acronyms
# are freed from spaCy's GPE guesses).
COMMON_ABBREVIATIONS = _words(
    """
    OK TV AM PM ID FYI BTW ASAP LOL PS US USA UK EU UAE NYC LA SF DC NY
    """
)

# Nouns too generic to be a term or to head one: "the marketing team", "the rebalancing issue".
# (Time words stay out: "setup time", "fiscal year" are terms; alone they are never rare.)
GENERIC_NOUNS = _words(
    """
    issue issues problem problems thing things stuff team teams project projects people person
    folks guys guy way ways lot lots bit kind sort part parts side question questions idea ideas
    meeting meetings call calls work job jobs task tasks item items update updates quarter
    quarters percent customer customers everyone someone something anything office room place
    case cases example examples option options reason reasons situation
    """
)

# Nouns for places people work at: a capitalised modifier of one is a place ("the Monterrey
# plant", "the Austin office"), not a product, whatever NER says.
SITE_NOUNS = _words(
    """
    plant plants office offices site sites factory factories facility facilities branch campus
    headquarters hq depot mill
    """
)

# Adjectives that describe the situation rather than classify the concept ("the new API
# gateway", "a full DMAIC project", "clear data drift"): stripped from the start of a chunk.
SITUATIONAL_ADJECTIVES = _words(
    """
    new old full clear right wrong next last first second third previous current same other
    another whole entire big small large huge tiny little good bad great main major minor
    important different certain specific particular general overall simple easy hard difficult
    quick fast slow long short high low early late recent final initial usual typical nice cool
    awesome various several many few much own only such possible likely potential additional
    extra separate actual basic proper correct existing upcoming following related based
    obvious serious productive helpful useful interesting significant massive slight strong weak
    ready able sure happy glad okay fine exact similar key critical urgent
    high-level top-level long-term short-term mid-term last-minute full-time part-time day-to-day
    up-to-date well-known face-to-face in-person one-on-one large-scale small-scale so-called
    """
)

# Number words that can lead a name mid-sentence ("Six Sigma").
NUMBER_WORDS = _words("one two three four five six seven eight nine ten eleven twelve twenty")

# Verbs whose subject (said) or object (ask) is a person: an unknown capitalised word in that
# slot is a colleague's name, not a product, even when NER did not label it.
SPEAKER_VERBS = _words(
    """
    say tell ask mention think want agree suggest explain propose note reply confirm believe
    know feel mean promise decide argue claim
    """
)
ADDRESSEE_VERBS = _words("ask tell ping thank email call cc message remind invite")
GREETINGS = _words("thanks thank hi hey hello bye cheers sorry")


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """Zipf frequency of a word; for a hyphenated/slashed word, that of its rarest part."""
    parts = [p for p in re.split(r"[-/]", word.lower()) if p]
    if not parts:
        return 0.0
    return min(zipf_frequency(part, "en") for part in parts)


def is_english(language: str | None) -> bool:
    return language is None or language.lower().replace("_", "-").split("-")[0] == "en"
