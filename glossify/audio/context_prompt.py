"""What a stream has said lately, as Whisper's previous-text prompt for its next utterance.

Each utterance is transcribed on its own, so a fragment after a pause ("ask not what your
country...") would be heard without the sentence it continues. Whisper was trained with the
preceding transcript in its prompt; whisper_streaming prompts with its last committed text the
same way. Only finals count: a partial may still change.
"""

from __future__ import annotations


def context_tail(context: str, final_text: str, max_chars: int) -> str:
    """`context` followed by a new final's text, cut to its last `max_chars` characters at a
    word boundary (a cut word would read as a misspelling); "" when `max_chars` is 0."""
    joined = " ".join(part for part in (context.strip(), final_text.strip()) if part)
    if len(joined) <= max_chars:
        return joined
    tail = joined[len(joined) - max_chars :]
    if joined[len(joined) - max_chars - 1] != " " and " " in tail:
        # The tail starts inside a word: drop that word's end. A tail without any space (a
        # script written without them) is cut between characters, which are its units.
        tail = tail.partition(" ")[2]
    return tail.strip()
