"""Word and character error rates, for tests and benchmarks of the transcriber.

Texts are compared as lowercase words without punctuation, so that Whisper's choice of commas
and capitals does not count as an error while every wrong, missing or extra word does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# Inside a word these join its halves ("let's", "post-mortem"); elsewhere punctuation separates.
_JOINERS = re.compile(r"['’\-‐]")


def words(text: str) -> list[str]:
    """Lowercase words with punctuation and symbols removed."""
    folded = _JOINERS.sub("", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in folded)
    return kept.split()


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions + deletions + insertions turning `reference` into `hypothesis`."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[j] + 1,  # reference word deleted
                    current[j - 1] + 1,  # hypothesis word inserted
                    previous[j - 1] + (ref_word != hyp_word),  # kept or substituted
                )
            )
        previous = current
    return previous[-1]


def wer(reference: str, hypothesis: str) -> float:
    """Word errors per reference word; with an empty reference, 1.0 for any output at all."""
    ref, hyp = words(reference), words(hypothesis)
    if not ref:
        return float(bool(hyp))
    return edit_distance(ref, hyp) / len(ref)


def cer(reference: str, hypothesis: str) -> float:
    """Character errors per reference character, spaces and punctuation left out: for scripts
    such as Korean, whose spacing Whisper often chooses differently from the writer."""
    ref, hyp = "".join(words(reference)), "".join(words(hypothesis))
    if not ref:
        return float(bool(hyp))
    return edit_distance(ref, hyp) / len(ref)
