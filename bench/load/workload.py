"""What the text load says and how much of it: the sentence pool (jargon sentences, lead-ins,
coined terms) each meeting speaks from, the steps of a sweep, and the app args the stack runs
with. Pure: unit-tested in tests/bench/test_load.py."""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.common.paths import SHARED_AUDIO, SHARED_DATA

DEFAULT_SOURCES = (SHARED_DATA / "terms-dev.jsonl", SHARED_AUDIO / "dev-meeting.txt")


# Lead-ins that make a repeated sentence a new line (a meeting's recent lines are deduplicated)
# without adding jargon: plain lower-case words the term detector does not pick up.
OPENERS = (
    "",
    "So, ",
    "Okay, ",
    "Right, ",
    "Also, ",
    "Well, ",
    "And ",
    "Honestly, ",
    "I think ",
    "Just to add, ",
    "Quick note: ",
    "As I said, ",
    "Again, ",
    "To be fair, ",
    "On that point, ",
    "By the way, ",
)


# First words that are ordinary words, lower-cased after an opener ("So, we need ...").
_COMMON_STARTS = frozenset(
    {"we", "we're", "the", "let's", "can", "our", "there's", "put", "please", "churn"}
)


# Fresh jargon: coined names the detector finds (CamelCase, letter-digit codes, acronyms)
# with a noun, so each is a new term for the explainer.
_SYLLABLES = ("Flux", "Kor", "Vant", "Zeph", "Quil", "Brio", "Nex", "Tral", "Opti", "Lumo")


_PARTS = ("Grid", "Mesh", "Sync", "Stack", "Forge", "Path", "Loom", "Vault", "Beam", "Core")


_NOUNS = ("service", "module", "gateway", "pipeline", "rollout", "dashboard", "cache", "scheduler")


_CLAUSES = (
    "The {term} needs a review before the release.",
    "Who owns the {term} this quarter?",
    "We should move the {term} to the new cluster.",
    "Let's check the {term} numbers tomorrow.",
)


def load_sentences(paths: Iterable[Path] = DEFAULT_SOURCES) -> list[str]:
    """Jargon sentences: the `text` of each JSON line of a .jsonl file, each line of others."""
    sentences: list[str] = []
    for path in paths:
        for raw in path.read_text().splitlines():
            raw = raw.strip()
            if not raw:
                continue
            sentences.append(json.loads(raw)["text"] if path.suffix == ".jsonl" else raw)
    return sentences


def with_opener(opener: str, sentence: str) -> str:
    if not opener:
        return sentence
    first = sentence.split(" ", 1)[0]
    if first.lower() in _COMMON_STARTS:
        sentence = sentence[0].lower() + sentence[1:]
    return opener + sentence


def fresh_term(rng: random.Random) -> str:
    """A coined product or code name and a noun, e.g. 'KorVault gateway' or 'QXT-417 cache'."""
    if rng.random() < 0.5:
        name = rng.choice(_SYLLABLES) + rng.choice(_PARTS)
    else:
        letters = "".join(rng.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(3))
        name = f"{letters}-{rng.randrange(10, 1000)}"
    return f"{name} {rng.choice(_NOUNS)}"


def meeting_lines(
    sentences: Sequence[str], meeting_index: int, seed: int = 0, fresh_ratio: float = 0.5
) -> Iterator[str]:
    """The endless line stream of one meeting.

    Each meeting says the pool in its own order; every pass through the pool uses another
    opener (and meetings start at different openers), so no line repeats within
    len(OPENERS) passes. With probability `fresh_ratio` a line also names a coined term of
    this meeting, so a long meeting keeps asking for explanations after the pool's jargon
    has been explained once (terms are deduplicated within a meeting)."""
    if not sentences:
        raise ValueError("empty sentence pool")
    rng = random.Random(f"{seed}:{meeting_index}")
    order = list(range(len(sentences)))
    rng.shuffle(order)
    n = 0
    while True:
        cycle, pos = divmod(n, len(order))
        opener = OPENERS[(cycle + meeting_index) % len(OPENERS)]
        line = with_opener(opener, sentences[order[pos]])
        if rng.random() < fresh_ratio:
            line = f"{line} {rng.choice(_CLAUSES).format(term=fresh_term(rng))}"
        yield line
        n += 1


DEFAULT_SWEEP_MEETINGS = (10, 25, 50, 100, 200)


def parse_steps(
    sweep: str | None, meetings: Sequence[int], rates: Sequence[float]
) -> list[tuple[int, float]]:
    """(meetings, lines/s per meeting) per step, lightest first.

    No --sweep: every combination of --meetings and --rate. `--sweep` alone: 10, 25, 50, 100,
    200 meetings at the first rate; `meetings=10,50,...` or `rate=0.1,0.5,...` sweeps that one
    at the first value of the other."""
    if sweep is None:
        steps = [(m, r) for m in meetings for r in rates]
    elif sweep in ("", "meetings"):
        steps = [(m, rates[0]) for m in DEFAULT_SWEEP_MEETINGS]
    else:
        key, _, values = sweep.partition("=")
        if key == "meetings" and values:
            steps = [(int(v), rates[0]) for v in values.split(",")]
        elif key == "rate" and values:
            steps = [(meetings[0], float(v)) for v in values.split(",")]
        else:
            raise ValueError(f"--sweep {sweep!r}: use meetings=10,25,... or rate=0.1,0.2,...")
    if any(m < 1 or r <= 0 for m, r in steps):
        raise ValueError("meetings must be ≥ 1 and rates > 0")
    return sorted(steps, key=lambda step: step[0] * step[1])


# Text load needs no Transcriber (a CPU and ~0.5 GB freed on a small node), and a term that
# the glossary table answers would skip the explainer whose capacity is being measured.
TEXT_APP_ARGS: dict[str, Any] = {
    "transcriber": {"enabled": False},
    "meetings": {"use_glossary": False},
}


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Nested dicts merged key by key; `override` wins."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def stack_app_args(args: argparse.Namespace) -> dict[str, Any]:
    """The args this script deploys the local stack with (not used with --url)."""
    from glossify.cli.main import serve_config_args

    merged: dict[str, Any] = dict(TEXT_APP_ARGS) if args.mode == "text" else {}
    if args.config:
        merged = deep_merge(merged, serve_config_args(args.config))
    if args.app_args:
        merged = deep_merge(merged, json.loads(args.app_args))
    return merged


def explainer_label(args: argparse.Namespace, app_args: dict[str, Any]) -> str:
    if args.url:
        return "whatever the stack at --url runs"
    explainer = app_args.get("explainer") or {}
    if explainer.get("backend", "local") != "local":
        return str(explainer["backend"])
    if args.tiny_llm:
        return "local SmolLM2-135M (--tiny-llm)"
    return f"local {explainer.get('model_path') or 'Qwen2.5-Coder-1.5B (packaged default)'}"
