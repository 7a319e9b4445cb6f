"""Measurements shared by the live-audio benchmarks (Glossify and the WhisperLive peer): latency
per line and per sentence, WER, jargon spelled right, sentences heard, and the per-K table
columns both print.

Only the standard library at import time (faster_whisper when speech_regions runs), so that
both the project's venv and the peer's (`bench/.peer-venv`) can import it. WER comes from
`glossify.transcription.wer`, which is pure Python.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common.paths import SHARED_AUDIO
from bench.common.table import Column, cell
from glossify.transcription.wer import wer

DEFAULT_AUDIO = SHARED_AUDIO / "dev-meeting-hibari.wav"
DEFAULT_SCRIPT = SHARED_AUDIO / "dev-meeting.txt"
SAMPLE_RATE = 16_000
FRAME_S = 0.1

# The jargon of the dev meeting, one per sentence or more; each is said once.
JARGON = (
    "Kubernetes",
    "CPK",
    "EBITDA",
    "OAuth",
    "feature flag",
    "API gateway",
    "churn rate",
    "Jira",
    "SRE",
    "postmortem",
    "A/B test",
    "Snowflake",
    "GDPR",
    "OKRs",
    "SLA",
)


def _fold(text: str) -> str:
    """Lowercase, hyphens/slashes/apostrophes removed, other punctuation as spaces."""
    text = re.sub(r"['’]", "", text.casefold())
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _pattern(term: str) -> re.Pattern[str]:
    """'A/B test' also matches 'A B test' and 'AB test'; 'postmortem' matches 'post-mortem'."""
    letters = _fold(term).replace(" ", "")
    # Any spacing between the letters of the term, but whole words at both ends.
    spaced = r"\s?".join(re.escape(ch) for ch in letters)
    return re.compile(rf"\b{spaced}\b")


_PATTERNS = {term: _pattern(term) for term in JARGON}


def jargon_found(text: str) -> list[str]:
    """The jargon terms (of `JARGON`) that `text` spells right, ignoring case and punctuation."""
    folded = _fold(text)
    return [term for term, pattern in _PATTERNS.items() if pattern.search(folded)]


def load_script(path: Path = DEFAULT_SCRIPT) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict[str, Any]:
    rounded = [round(v, 3) for v in values]
    return {
        "n": len(values),
        "p50": _r(percentile(values, 50)),
        "p95": _r(percentile(values, 95)),
        "max": _r(max(values)) if values else None,
        "values": rounded,
    }


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class Line:
    """A final line of one stream: stream-time span and arrival, all in seconds after t0."""

    text: str
    start: float
    end: float
    arrival: float

    @property
    def latency(self) -> float:
        """End of utterance as the system reports it → the final line arrives."""
        return self.arrival - self.end


def speech_regions(audio: Any) -> list[tuple[float, float]]:
    """Where the recording has speech (Silero VAD, offline, no padding): the reference
    end of each sentence, the same for every system."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    stamps = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=400, speech_pad_ms=0))
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def sentence_latencies(
    lines: Sequence[Line], regions: Sequence[tuple[float, float]], min_overlap_s: float = 0.2
) -> list[float | None]:
    """Per reference speech region: the arrival of the last final line overlapping it less the
    region's true end of speech, or None when no final line covers it (audio lost)."""
    out: list[float | None] = []
    for start, end in regions:
        covering = [
            line.arrival
            for line in lines
            if min(line.end, end) - max(line.start, start) >= min_overlap_s
        ]
        out.append(max(covering) - end if covering else None)
    return out


def last_frame_to_final(
    last_frame: float, sentences: Sequence[float | None], regions: Sequence[tuple[float, float]]
) -> float | None:
    """Last audio frame sent → the final line of the last sentence (None: never final).

    `last_frame` and region ends are seconds after t0; sentence latencies are from region ends.
    """
    if not sentences or sentences[-1] is None:
        return None
    return round(regions[-1][1] + sentences[-1] - last_frame, 3)


def sentences_heard(script: Sequence[str], hypothesis: str) -> int:
    """Script sentences at least half of whose longer words (4+ letters) the hypothesis has."""
    from glossify.transcription.wer import words

    heard = set(words(hypothesis))
    count = 0
    for sentence in script:
        content = [w for w in words(sentence) if len(w) >= 4]
        if content and sum(w in heard for w in content) * 2 >= len(content):
            count += 1
    return count


def transcript_quality(script: Sequence[str], hypothesis: str) -> dict[str, Any]:
    return {
        "wer": round(wer(" ".join(script), hypothesis), 4),
        "jargon_right": jargon_found(hypothesis),
        "sentences_heard": sentences_heard(script, hypothesis),
    }


def pooled(values: Iterable[Iterable[float | None]]) -> list[float]:
    return [v for group in values for v in group if v is not None]


def quality_per_k(streams: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The K streams' transcript_quality pooled: WER, jargon, sentences heard, finals."""
    return {
        "wer_mean": round(sum(s["wer"] for s in streams) / len(streams), 4),
        "wer_worst": max(s["wer"] for s in streams),
        "jargon_right_min": min(len(s["jargon_right"]) for s in streams),
        "jargon_right_mean": round(sum(len(s["jargon_right"]) for s in streams) / len(streams), 2),
        "sentences_heard_min": min(s["sentences_heard"] for s in streams),
        "finals_per_stream": [s["finals"] for s in streams],
    }


# ---------------------------------------------------------------- the per-K table

KRow = dict[str, Any]  # one K's row of analyse_k

# The columns both live-audio benchmarks print: the latency ones first, last frame → last
# final, and after each benchmark's own, send lag, transcript quality, resources, real time.
LATENCY_COLUMNS: list[Column[KRow]] = [
    Column("K", 2, lambda r: str(r["k"])),
    Column("final p50", 9, lambda r: cell(r["final_latency"]["p50"])),
    Column("p95", 6, lambda r: cell(r["final_latency"]["p95"])),
    Column("sent p50", 8, lambda r: cell(r["sentence_latency"]["p50"])),
    Column("p95", 6, lambda r: cell(r["sentence_latency"]["p95"])),
]
LAST_FINAL_COLUMN: Column[KRow] = Column(
    "last→fin", 8, lambda r: cell(r["last_frame_to_last_final"]["max"])
)
QUALITY_COLUMNS: list[Column[KRow]] = [
    Column("lag p95", 7, lambda r: cell(r["send_lag_p95_worst"])),
    Column("WER", 6, lambda r: f"{r['wer_mean']:.3f}"),
    Column("jargon", 6, lambda r: f"{r['jargon_right_min']:>3}/{len(JARGON)}"),
    Column(
        "heard",
        5,
        lambda r: f"{r['sentences_heard_min']:>3}/{len(r['streams'][0]['sentence_latency'])}",
    ),
    Column("CPU%", 5, lambda r: cell(r["resources"]["streaming"]["cpu_mean_pct"], 0)),
    Column("RSS MiB", 7, lambda r: cell(r["resources"]["streaming"]["rss_peak_mib"], 0)),
    Column("other%", 6, lambda r: cell(r["resources"]["streaming"].get("outside_cpu_mean_pct"), 0)),
    Column("RT", 3, lambda r: "yes" if r["real_time"] else "no"),
]
