"""Pure parts of the text-load benchmark (`python -m bench.load`): the sentence pool, latency
matching, summaries, knee finding and the replica-count timeline. No network, no Ray:
unit-tested in tests/bench/test_load.py."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.audio_metrics import percentile
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


# ---------------------------------------------------------------- latencies


def stats(values: Sequence[float], digits: int = 4) -> dict[str, float | int | None]:
    """n, mean, p50/p90/p95/p99 and max, without the values (runs have thousands)."""

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "n": len(values),
        "mean": r(sum(values) / len(values)) if values else None,
        "p50": r(percentile(values, 50)),
        "p90": r(percentile(values, 90)),
        "p95": r(percentile(values, 95)),
        "p99": r(percentile(values, 99)),
        "max": r(max(values)) if values else None,
    }


_WORD = re.compile(r"[\w/]+")


def _words(text: str) -> str:
    return " " + " ".join(_WORD.findall(text.casefold())) + " "


@dataclass(frozen=True)
class SentLine:
    text: str
    sent_at: float  # time.monotonic() when the POST went out


def transcript_latencies(
    lines: Sequence[SentLine], events: Iterable[tuple[float, Mapping[str, Any]]]
) -> tuple[list[float], int]:
    """Arrival of each final `transcript` event − when its line was posted; and how many
    transcript events matched no posted line."""
    sent = {line.text.strip(): line.sent_at for line in lines}
    latencies: list[float] = []
    unmatched = 0
    for arrival, event in events:
        if event.get("type") != "transcript" or not event.get("is_final"):
            continue
        at = sent.get(str(event.get("text", "")).strip())
        if at is None:
            unmatched += 1
        else:
            latencies.append(arrival - at)
    return latencies, unmatched


def term_latencies(
    lines: Sequence[SentLine], events: Iterable[tuple[float, Mapping[str, Any]]]
) -> dict[str, Any]:
    """For each `terms` event: arrival − posting of the first line that contains the term
    (terms are deduplicated within a meeting, so that line is the one that asked for it).
    Explained terms (`local`, `foundry`, `openai`) and glossary answers are kept apart."""
    ordered = sorted(lines, key=lambda line: line.sent_at)
    folded = [(_words(line.text), line.sent_at) for line in ordered]
    explained: list[float] = []
    glossary: list[float] = []
    sources: dict[str, int] = {}
    unmatched = 0
    for arrival, event in events:
        if event.get("type") != "terms":
            continue
        source = str(event.get("source"))
        sources[source] = sources.get(source, 0) + 1
        entity = _words(str(event.get("entity", "")))
        at = next((sent for text, sent in folded if entity.strip() and entity in text), None)
        if at is None:
            unmatched += 1
        elif source in ("glossary", "external"):
            glossary.append(arrival - at)
        else:
            explained.append(arrival - at)
    return {
        "explained": explained,
        "glossary": glossary,
        "sources": sources,
        "unmatched": unmatched,
    }


# ---------------------------------------------------------------- knee


def find_knee(
    steps: Sequence[Mapping[str, Any]],
    factor: float = 2.0,
    metric: str = "term_p95",
    load: str = "offered_lines_per_s",
) -> dict[str, Any]:
    """The lightest step whose `metric` is at least `factor` × the lightest measured step's.

    Steps are ordered by `load`; steps without the metric (no term arrived) are skipped for
    the baseline and count as past the knee after it. Returns the baseline, the knee step
    (None when latency never doubled), and the heaviest step before the knee."""
    ordered = sorted(steps, key=lambda step: float(step[load]))
    base = next((s for s in ordered if s.get(metric) is not None), None)
    result: dict[str, Any] = {
        "metric": metric,
        "factor": factor,
        "baseline": _brief(base, metric, load),
        "knee": None,
        "last_good": None,
    }
    if base is None:
        return result
    threshold = factor * float(base[metric])
    result["threshold"] = round(threshold, 4)
    for step in ordered[ordered.index(base) :]:
        value = step.get(metric)
        if value is None or float(value) >= threshold:
            result["knee"] = _brief(step, metric, load)
            break
        result["last_good"] = _brief(step, metric, load)
    return result


def _brief(step: Mapping[str, Any] | None, metric: str, load: str) -> dict[str, Any] | None:
    if step is None:
        return None
    keys = ("meetings", "rate", load, metric)
    return {key: step.get(key) for key in keys}


# ---------------------------------------------------------------- replicas


_STARTING = frozenset({"STARTING", "UPDATING", "RECOVERING", "PENDING_MIGRATION"})


def _plain(value: Any) -> str:
    """An enum member (in-process details) or its value (the REST JSON), as the value."""
    return str(getattr(value, "value", value))


def replica_counts(
    details: Mapping[str, Any], app: str, deployments: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Running / starting replicas and the autoscaler's target per deployment, from Serve's
    instance details (the JSON of the dashboard's /api/serve/applications/)."""
    found = (details.get("applications") or {}).get(app) or {}
    out: dict[str, dict[str, Any]] = {}
    for name in deployments:
        deployment = (found.get("deployments") or {}).get(name)
        if deployment is None:
            continue
        states = [_plain(r.get("state")) for r in deployment.get("replicas") or []]
        scaling = (deployment.get("deployment_config") or {}).get("autoscaling_config") or {}
        out[name] = {
            "running": states.count("RUNNING"),
            # A replica waiting for CPUs (fractional budgets on a small node) stays STARTING.
            "starting": sum(s in _STARTING for s in states),
            "stopping": states.count("STOPPING"),
            "target": deployment.get("target_num_replicas"),
            "min": scaling.get("min_replicas"),
            "max": scaling.get("max_replicas"),
            "status": _plain(deployment.get("status")),
        }
    return out


def scaling_changes(samples: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The samples at which any deployment's running or target count changed (and the
    first), as compact rows {t, phase, counts: {name: "running/target"}, load}."""
    rows: list[dict[str, Any]] = []
    previous: dict[str, str] | None = None
    for sample in samples:
        counts = {
            name: f"{c.get('running')}/{c.get('target')}"
            for name, c in sorted((sample.get("replicas") or {}).items())
        }
        if counts != previous:
            rows.append(
                {
                    "t": sample.get("t"),
                    "phase": sample.get("phase"),
                    "counts": counts,
                    "load": sample.get("load"),
                }
            )
            previous = counts
    return rows


def at_rest(
    counts: Mapping[str, Mapping[str, Any]], baseline: Mapping[str, Mapping[str, Any]]
) -> bool:
    """Every deployment back at its minimum (or where it started when it has none)."""
    for name, now in counts.items():
        floor = now.get("min")
        if floor is None:
            floor = (baseline.get(name) or {}).get("running")
        if now.get("running") != floor or now.get("target") not in (None, floor):
            return False
    return bool(counts)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Nested dicts merged key by key; `override` wins."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


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
