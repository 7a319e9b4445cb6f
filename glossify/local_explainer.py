"""Explaining a jargon term with a local GGUF model through xllamacpp (no network, no GPU).

The model's answer is constrained by a GBNF grammar to `domain: <Word>` plus one body line, then
cleaned by `explanation.finalize`, so callers always get a well-formed `Explanation` or an error.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import xllamacpp as xlc

from glossify.explanation import Explanation, finalize

# The format is also enforced by a grammar; the prompt is there to get the content right.
# "Do not spell out acronyms" is deliberate: Qwen2.5-1.5B invents expansions ("CPK: Control
# Point Key") when asked to expand only when sure; told not to, it named CPK right in a small trial.
SYSTEM_PROMPT = (
    "You explain jargon heard in a business or engineering meeting to a newcomer. "
    "Answer in exactly two lines. Line 1: `domain: ` followed by one English word naming the "
    "field (for example Finance, Software, Security, Manufacturing, Marketing, Legal). "
    "Line 2: one or two short, plain sentences (under 40 words): what the term is and what it "
    "is used for. Do not spell out acronyms. Do not copy the meeting sentence."
)
# One worked example: on Qwen2.5-1.5B it made answers shorter and more direct than more
# instructions did. It is a fixed prompt prefix, so llama.cpp's prompt cache makes it almost
# free after the first call per slot.
EXAMPLE_EXCHANGE = (
    {
        "role": "user",
        "content": 'Term: "8D"\nHeard in the meeting: "The supplier owes us an 8D report for the '
        'cracked housings."',
    },
    {
        "role": "assistant",
        "content": "domain: Quality\nA structured eight-step problem-solving report that finds the "
        "root cause of a defect and proves the fix works.",
    },
)
MIN_BODY_CHARS = 12
MAX_CONTEXT_CHARS = 400
TEMPERATURE = 0.2
# A fixed seed gives the same card for the same term and line, which users expect of a glossary.
SEED = 42
# Speech recognisers report ISO codes; the model follows a language name more reliably.
_LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "ja": "Japanese",
    "ko": "Korean",
    "zh": "Chinese",
}


class ExplanationError(ValueError):
    """The model answered, but nothing usable could be made of the answer."""


def language_name(language: str) -> str:
    """'de-DE' -> 'German'; unknown codes or names pass through unchanged."""
    return _LANGUAGE_NAMES.get(language.split("-")[0].split("_")[0].lower(), language)


def clip_context(context: str, term: str, limit: int = MAX_CONTEXT_CHARS) -> str:
    """Keep the part of a long transcript line around the term, so the prompt fits a slot."""
    text = " ".join(context.split())
    if len(text) <= limit:
        return text
    at = max(text.lower().find(term.lower()), 0)
    start = max(0, min(at - limit // 2, len(text) - limit))
    return text[start : start + limit]


def build_messages(term: str, context: str, language: str | None) -> list[dict[str, str]]:
    user = f'Term: "{term}"\nHeard in the meeting: "{clip_context(context, term)}"'
    if language:
        # "Write in German" alone made Qwen-1.5B copy the German transcript line back.
        user += f"\nExplain the term itself in {language_name(language)}, in your own words."
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        *EXAMPLE_EXCHANGE,
        {"role": "user", "content": user},
    ]


def build_grammar(max_body_chars: int) -> str:
    """GBNF: a capitalised one-word domain line, then one body line of bounded length.

    The length bound makes the model stop where `finalize` would cut anyway.
    """
    rest = max(max_body_chars - 1, MIN_BODY_CHARS)
    return (
        'root ::= "domain: " domain "\\n" body\n'
        "domain ::= [A-Z] [a-zA-Z]{1,23}\n"
        f"body ::= [^\\n ] [^\\n]{{{MIN_BODY_CHARS - 1},{rest}}}\n"
    )


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def echoes_context(body: str, context: str) -> bool:
    """Small models sometimes answer by copying the transcript line, which explains nothing."""
    squashed = _squash(body)
    return bool(squashed) and squashed in _squash(context)


def _server_params(model_path: Path, n_threads: int, n_ctx: int, n_parallel: int) -> Any:
    params = xlc.CommonParams()
    params.model.path = str(model_path)
    params.n_ctx = n_ctx  # shared by the slots: each request gets n_ctx / n_parallel tokens
    params.n_parallel = n_parallel
    params.verbosity = 0
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads
    return params


class LocalExplainer:
    """One loaded model serving up to `n_parallel` explanations at a time."""

    def __init__(
        self,
        model_path: str | Path,
        n_threads: int = 2,
        n_ctx: int = 2048,
        n_parallel: int = 2,
        max_tokens: int = 96,
        max_chars: int = 280,
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        self.max_tokens = max_tokens
        self.max_chars = max_chars
        self._grammar = build_grammar(max_chars)
        self._server = xlc.Server(_server_params(path, n_threads, n_ctx, n_parallel))
        # Requests beyond the model's slots wait here, outside the deadline: the deadline is
        # for a generation that hangs, not for a burst of terms queued behind each other.
        self._slots = asyncio.Semaphore(n_parallel)

    def build_request(self, term: str, context: str, language: str | None) -> dict[str, Any]:
        return {
            "messages": build_messages(term, context, language),
            "max_tokens": self.max_tokens,
            "temperature": TEMPERATURE,
            "seed": SEED,
            "grammar": self._grammar,
        }

    async def explain(
        self, term: str, context: str, language: str | None, deadline_s: float
    ) -> Explanation:
        """Explain `term` as heard in `context`, or raise TimeoutError when the generation
        takes longer than `deadline_s` once it has a slot.

        The native call cannot be interrupted: on timeout its worker thread runs on and its
        answer is dropped. `max_tokens` and the grammar's length bound cap that waste.
        """
        request = self.build_request(term, context, language)
        async with self._slots:
            call = asyncio.to_thread(self._server.handle_chat_completions, request)
            try:
                response = await asyncio.wait_for(call, timeout=deadline_s)
            except TimeoutError:
                raise TimeoutError(f"no explanation for {term!r} within {deadline_s:g} s") from None
        return self._to_explanation(term, context, response)

    def _to_explanation(self, term: str, context: str, response: dict[str, Any]) -> Explanation:
        if "error" in response:
            raise ExplanationError(f"model error for {term!r}: {response['error']}")
        choice = response["choices"][0]
        content = choice["message"]["content"] or ""
        body_chars = len(content.partition("\n")[2])
        # Cut off by max_tokens or by the grammar's bound: the last sentence may be unfinished.
        truncated = choice.get("finish_reason") == "length" or body_chars >= self.max_chars
        explanation = finalize(content, self.max_chars, truncated=truncated)
        if explanation is None or echoes_context(explanation.body, context):
            raise ExplanationError(f"unusable explanation for {term!r}: {content!r}")
        return explanation
