"""What a stream has said lately, as Whisper's previous-text prompt for its next utterance.

Each utterance is transcribed on its own, so a fragment after a pause ("ask not what your
country...") would be heard without the sentence it continues. Whisper was trained with the
preceding transcript in its prompt; whisper_streaming prompts with its last committed text the
same way. Only finals count: a partial may still change, and only finals Whisper was sure of:
a line it guessed at would steer the next ones towards the same guess.
"""

from __future__ import annotations

from glossify.transcription.gates import DEFAULT_GATES, GateConfig
from glossify.transcription.types import SpeechResult


def steers_context(result: SpeechResult, gates: GateConfig = DEFAULT_GATES) -> bool:
    """True when a final may become context: kept by the gates, and scored at least Whisper's
    own `log_prob_threshold` (-1.0, where Whisper itself would decode again), not merely the
    gates' lower `logprob_floor` (-1.2) that keeps a short, hesitant fragment as a line.

    On the Korean dev recording Whisper base writes romanised nonsense; one such line at -1.19
    in the context drew the next ones into it (CER 1.06 against 0.98 without that line). Every
    final of the English dev recordings scored -0.76 or better, so English is untouched
    (docs/benchmarks.md, "Context prompt and Korean speech").
    """
    return bool(result.text) and result.avg_logprob >= gates.log_prob_threshold


def next_context(
    context: str, result: SpeechResult, max_chars: int, gates: GateConfig = DEFAULT_GATES
) -> str:
    """The context after a final: with its text when it `steers_context`, else unchanged (the
    words before it are still what was said before the next utterance)."""
    if not steers_context(result, gates):
        return context
    return context_tail(context, result.text, max_chars)


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
