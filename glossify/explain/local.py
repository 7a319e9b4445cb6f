"""Explaining a jargon term with a local GGUF model through xllamacpp (no network, no GPU).

The model's answer is constrained by a GBNF grammar to `domain: <Word>` plus one body line, then
cleaned by `explanation.finalize`, so callers always get a well-formed `Explanation` or an error.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Self

import xllamacpp as xlc

from glossify import metrics
from glossify.config.backends import ExplainerConfig
from glossify.explain.answer import (
    ABSTAINED,
    Explanation,
    ExplanationError,
    echoes_context,
    explanation_from_answer,
)
from glossify.explain.prompt import (
    ABSTAIN_ANSWER,
    EXAMPLE_EXCHANGE,
    SYSTEM_PROMPT,
    build_messages,
    clip_context,
    language_name,
)
from glossify.explain.slots import FairSlots
from glossify.text import SCRIPTS, base_language
from glossify.weights.packaged import default_llm_path

MIN_BODY_CHARS = 12
TEMPERATURE = 0.2
# A fixed seed gives the same card for the same term and line, which users expect of a glossary.
SEED = 42
# Any term and line will do: warming only has to put the fixed prompt prefix into each slot.
WARM_UP_TERM = ("SLA", "We agreed on the SLA with the vendor.")
# An answer whose body tokens have a mean log-probability below this is an abstention: the model
# was guessing (tuned on the dev split of bench/data/explanations; None: never).
ABSTAIN_BELOW: float | None = None


# An English answer names its field in a capitalised ASCII word; other languages name it in
# their own words (Korean 재무, German Qualität): any letters, no ASCII punctuation or digits.
_ENGLISH_DOMAIN = "[A-Z] [a-zA-Z]{1,23}"
_NATIVE_LETTER = "[^\\x00-\\x40\\x5B-\\x60\\x7B-\\x7F]"
# Languages with a script of their own (SCRIPTS): the domain is written in it and the body uses
# it within its first dozen characters, else Qwen-1.5B tends to answer a Korean meeting in English.
_SCRIPT_LEAD = 12
# Latin letters only, for English bodies (with the Korean worked example in the prompt, answers
# came back in Chinese or with a Russian gloss): ASCII, Latin-1 and Latin Extended, punctuation.
LATIN = ("[!-~\\u00A0-\\u024F]", "[ -~\\u00A0-\\u024F\\u2010-\\u2027\\u2030-\\u205E\\u20AC]")
_ANY = ("[^\\n ]", "[^\\n]")


def is_english(language: str | None) -> bool:
    return language is None or language_name(language) == "English"


def grammar_key(language: str | None) -> str:
    """Which grammar a meeting language gets: "en", a code of SCRIPTS, or "other"."""
    if is_english(language):
        return "en"
    code = base_language(language or "")
    return code if code in SCRIPTS else "other"


def build_grammar(
    max_body_chars: int,
    english: bool = True,
    script: str | None = None,
    latin: bool = False,
) -> str:
    """GBNF: a one-word domain line, then one body line of bounded length; or, as the whole
    answer, the abstention phrase. The domain is an ASCII word for English, a word in `script`
    (a character class) when given, else any letters; with a script the body must use it early;
    `latin` keeps the body to Latin letters.

    The length bound makes the model stop where `finalize` would cut anyway.
    """
    rest = max(max_body_chars - 1, MIN_BODY_CHARS)
    first, char = LATIN if latin else _ANY
    if script:
        domain = f"{script}{{1,12}}"
        tail = max(rest - _SCRIPT_LEAD - 1, MIN_BODY_CHARS)
        lead = f"{char}{{0,{_SCRIPT_LEAD - 1}}}"
        body = f"{first} {lead} {script} {char}{{{MIN_BODY_CHARS - 3},{tail}}}"
    else:
        domain = _ENGLISH_DOMAIN if english else f"{_NATIVE_LETTER}{{1,24}}"
        body = f"{first} {char}{{{MIN_BODY_CHARS - 1},{rest}}}"
    return (
        'root ::= "domain: " domain "\\n" body | abstain\n'
        f"domain ::= {domain}\n"
        f"body ::= {body}\n"
        f'abstain ::= "{ABSTAIN_ANSWER}"\n'
    )


def grammar_for(key: str, max_body_chars: int) -> str:
    """The grammar of `grammar_key`'s answer: English answers in Latin letters."""
    english = key == "en"
    return build_grammar(max_body_chars, english, script=SCRIPTS.get(key), latin=english)


def _server_params(model_path: Path, n_threads: int, ctx_per_slot: int, n_parallel: int) -> Any:
    params = xlc.CommonParams()
    params.model.path = str(model_path)
    # llama.cpp splits one context among the slots.
    params.n_ctx = ctx_per_slot * n_parallel
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
        ctx_per_slot: int = 1024,
        n_parallel: int = 4,
        max_tokens: int = 96,
        max_chars: int = 280,
        queue_timeout_s: float | None = None,
        deadline_s: float | None = None,
        stuck_after_s: float = 120.0,
        abstain_below: float | None = ABSTAIN_BELOW,
    ) -> None:
        """``deadline_s``: how long a generation may take once it has a slot, unless a call
        says otherwise; None waits for it."""
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        self.max_tokens = max_tokens
        self.max_chars = max_chars
        self.abstain_below = abstain_below
        self._grammars = {key: grammar_for(key, max_chars) for key in ("en", "other", *SCRIPTS)}
        self._server = xlc.Server(_server_params(path, n_threads, ctx_per_slot, n_parallel))
        self._n_parallel = n_parallel
        self._queue_timeout_s = queue_timeout_s
        self._deadline_s = deadline_s
        # Requests beyond the model's slots wait here, outside the deadline: the deadline is
        # for a generation that hangs, not for a burst of terms queued behind each other.
        self._slots = FairSlots(n_parallel)
        # Native generations still running (also after their caller gave up), by start time.
        self._running: dict[asyncio.Future[dict[str, Any]], float] = {}
        self._stuck_after_s = stuck_after_s

    @classmethod
    def from_config(cls, config: ExplainerConfig) -> Self:
        return cls(
            config.model_path or default_llm_path(),
            n_threads=config.n_threads,
            ctx_per_slot=config.ctx_per_slot,
            n_parallel=config.n_parallel,
            max_tokens=config.max_tokens,
            max_chars=config.max_chars,
            queue_timeout_s=config.queue_timeout_s,
            deadline_s=config.deadline_s,
            stuck_after_s=config.stuck_after_s,
        )

    async def start(self) -> None:
        await self.warm_up()

    def health(self) -> dict[str, Any]:
        oldest = min(self._running.values(), default=None)
        running_s = 0.0 if oldest is None else time.monotonic() - oldest
        if running_s > self._stuck_after_s:
            problem = f"a generation has been running for {running_s:.0f} s"
            return {"backend": "local", "state": "failing", "stuck": True, "error": problem}
        return {"backend": "local", "state": "ok"}

    async def close(self) -> None:
        await self.finished()

    async def finished(self) -> None:
        """Returns once no native generation runs, also those whose callers gave up."""
        await asyncio.gather(*self._running, return_exceptions=True)

    async def warm_up(self) -> None:
        """Fill every slot's prompt cache with the fixed system prompt and example.

        Without it the first term a slot serves pays for ~200 prompt tokens (~3 s on two CPU
        cores), and the first terms of every meeting after a deploy arrive late."""
        term, context = WARM_UP_TERM
        request = {**self.build_request(term, context, None), "max_tokens": 1}
        # Named slots: left to choose, the server gives a repeat of a cached prompt the slot
        # that already holds it, and the other slots stay cold.
        for slot in range(self._n_parallel):
            await asyncio.to_thread(
                self._server.handle_chat_completions, {**request, "id_slot": slot}
            )

    def build_request(self, term: str, context: str, language: str | None) -> dict[str, Any]:
        return {
            "messages": build_messages(term, context, language),
            "max_tokens": self.max_tokens,
            "temperature": TEMPERATURE,
            "seed": SEED,
            "grammar": self._grammars[grammar_key(language)],
            # The chosen tokens' log-probabilities: how sure the model was of its answer.
            "logprobs": True,
            "top_logprobs": 1,
        }

    async def explain(
        self,
        term: str,
        context: str,
        language: str | None,
        *,
        meeting: str | None = None,
        deadline_s: float | None = None,
    ) -> Explanation:
        """Explain `term` as heard in `context`, or raise TimeoutError when the generation
        takes longer than `deadline_s` once it has a slot, or no slot frees up within the
        queue timeout. The slots are shared fairly between meetings (`meeting`).

        The native call cannot be interrupted: on timeout its worker thread runs on and its
        answer is dropped. `max_tokens` and the grammar's length bound cap that waste.
        """
        if deadline_s is None:
            deadline_s = self._deadline_s
        request = self.build_request(term, context, language)
        queued = time.monotonic()
        try:
            slot = await self._slots.acquire(self._queue_timeout_s, meeting)
        except TimeoutError:
            raise TimeoutError(
                f"no model slot for {term!r} within {self._queue_timeout_s:g} s"
            ) from None
        async with slot:
            metrics.EXPLAINER_SLOT_WAIT.observe(time.monotonic() - queued)
            call = self._generate(request)
            try:
                # Shielded: a caller that gives up leaves the native call tracked until it ends.
                response = await asyncio.wait_for(asyncio.shield(call), timeout=deadline_s)
            except TimeoutError:
                raise TimeoutError(f"no explanation for {term!r} within {deadline_s:g} s") from None
        return self._to_explanation(term, context, response)

    def _generate(self, request: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(None, self._server.handle_chat_completions, request)
        self._running[call] = time.monotonic()
        call.add_done_callback(self._finished)
        return call

    def _finished(self, call: asyncio.Future[dict[str, Any]]) -> None:
        self._running.pop(call, None)
        if not call.cancelled():
            call.exception()  # retrieved: a caller that gave up no longer reads it

    def _to_explanation(self, term: str, context: str, response: dict[str, Any]) -> Explanation:
        return explanation_from_response(
            term, context, response, self.max_chars, abstain_below=self.abstain_below
        )


def explanation_from_response(
    term: str,
    context: str,
    response: dict[str, Any],
    max_chars: int,
    *,
    abstain_below: float | None = None,
) -> Explanation:
    """The card in a chat completion, with its confidence; an abstention when the model said
    so, or when its confidence is below `abstain_below`."""
    if "error" in response:
        raise ExplanationError(f"model error for {term!r}: {response['error']}")
    choice = response["choices"][0]
    content = choice["message"]["content"] or ""
    body_chars = len(content.partition("\n")[2])
    # Cut off by max_tokens or by the grammar's bound: the last sentence may be unfinished.
    truncated = choice.get("finish_reason") == "length" or body_chars >= max_chars
    explanation = explanation_from_answer(term, content, context, max_chars, truncated=truncated)
    confidence = body_confidence(choice)
    if explanation.abstained or confidence is None:
        return explanation
    if abstain_below is not None and confidence < abstain_below:
        return replace(ABSTAINED, confidence=confidence)
    return replace(explanation, confidence=confidence)


def body_confidence(choice: dict[str, Any]) -> float | None:
    """The mean log-probability of the tokens after the domain line; None when the answer has
    no body or the server sent no log-probabilities."""
    tokens = (choice.get("logprobs") or {}).get("content") or []
    in_body = False
    logprobs: list[float] = []
    for token in tokens:
        if in_body:
            logprobs.append(float(token["logprob"]))
        elif "\n" in token.get("token", ""):
            in_body = True
    return sum(logprobs) / len(logprobs) if logprobs else None


# Kept importable from here: the prompt and answer checks moved to shared modules.
__all__ = [
    "EXAMPLE_EXCHANGE",
    "SYSTEM_PROMPT",
    "ExplanationError",
    "LocalExplainer",
    "build_grammar",
    "build_messages",
    "clip_context",
    "echoes_context",
    "language_name",
]
