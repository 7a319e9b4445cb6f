"""Cutting a long transcript line into pieces a service accepts, keeping each piece's offset."""

from __future__ import annotations

import re

from glossify.text import sentence_spans

_LAST_SPACE = re.compile(r"\s(?=\S*$)")


def split_at_sentences(text: str, max_chars: int) -> list[tuple[int, str]]:
    """(offset in ``text``, piece) with every piece at most ``max_chars`` long.

    Cuts fall at sentence ends where possible (an entity rarely spans one), else at the last
    space, else anywhere. Offsets are ``str`` indices (code points), the unit Azure AI Language
    reports entity offsets in, so ``offset + entity.offset`` points into the original line.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    if len(text) <= max_chars:
        return [(0, text)] if text.strip() else []
    ends = [end for _, end in sentence_spans(text)]
    pieces: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > max_chars:
        limit = start + max_chars
        cut = max((end for end in ends if start < end <= limit), default=0)
        if not cut:
            space = _LAST_SPACE.search(text, start + 1, limit)
            cut = space.start() if space else limit
        pieces.append((start, text[start:cut]))
        start = cut
    pieces.append((start, text[start:]))
    return [(offset, piece) for offset, piece in pieces if piece.strip()]
