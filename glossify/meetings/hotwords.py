"""Which terms go to speech recognition as hotwords for a meeting (pure functions).

The meeting's own terms come first: they were said in it. The organisation glossary fills the
rest, but only with terms written in the meeting's script. Whisper reads the hotwords as text
that came before, so words in another script pull it towards that script. Measured on the Korean
recording (Whisper base, the context prompt on; `bench.korean_hotwords`): no hotwords CER 0.60,
40 Hangul glossary terms 0.40, 40 acronyms 1.49 with the transcript romanised ("PICA, REN ROLA,
ODE, TORROR"), the recording's own 14 terms 0.42 and with 26 acronyms added 0.90. So a Latin
loan (CPK, LoRA) reaches a Korean meeting's hotwords only once the meeting itself has said it;
an English phrase never does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from glossify.text import SCRIPTS, base_language

_OWN_SCRIPT = {code: re.compile(char_class) for code, char_class in SCRIPTS.items()}
_ANY_OWN_SCRIPT = re.compile("|".join(SCRIPTS.values()))


def written_for(term: str, language: str | None) -> bool:
    """Whether ``term`` is written in the script of a meeting held in ``language`` (None:
    any): Hangul for Korean, and no Hangul, kana or Han for a language in Latin letters."""
    if not language:
        return True
    own = _OWN_SCRIPT.get(base_language(language))
    if own is None:
        return not _ANY_OWN_SCRIPT.search(term)
    return own.search(term) is not None


def meeting_hotwords(
    meeting_terms: Iterable[str],
    glossary_terms: Iterable[str],
    language: str | None,
    limit: int,
) -> list[str]:
    """Up to ``limit`` hotwords: the meeting's terms first (newest first, as given), then the
    glossary's written in the meeting's script; each once."""
    words = list(dict.fromkeys(meeting_terms))[:limit]
    seen = set(words)
    for term in glossary_terms:
        if len(words) >= limit:
            break
        if term not in seen and written_for(term, language):
            words.append(term)
            seen.add(term)
    return words
