"""Measurements shared by the live-audio benchmarks (Glossify and the WhisperLive peer).

Only the standard library, numpy and psutil, so that both the project's venv and the peer's
(`bench/.peer-venv`) can import it. WER comes from `glossify.transcription.wer`, which is pure
Python.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psutil

from glossify.transcription.wer import wer

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_AUDIO = REPO_ROOT.parent / "shared" / "audio"
DEFAULT_AUDIO = SHARED_AUDIO / "dev-meeting-hibari.wav"
DEFAULT_SCRIPT = SHARED_AUDIO / "dev-meeting.txt"
RESULTS_DIR = REPO_ROOT / "bench" / "results"
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


def cell(value: float | None, digits: int = 2, scale: float = 1.0) -> str:
    """A table cell: the number rounded, or "-" where there is none."""
    return "-" if value is None else f"{value * scale:.{digits}f}"


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


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
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


def machine_info() -> dict[str, Any]:
    load1, load5, load15 = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "loadavg_at_start": [round(load1, 2), round(load5, 2), round(load15, 2)],
    }


def results_path(name: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    return RESULTS_DIR / f"{name}-{date.today().isoformat()}.json"


@dataclass
class Sample:
    t: float  # time.monotonic()
    cpu_percent: float  # sum over the watched processes; 100 = one core
    rss_mib: float  # sum of resident sets (shared pages counted once per process)
    machine_cpu_percent: float  # whole machine, 100 = one core
    processes: int


def _kind(proc: psutil.Process) -> str:
    """'ray::ServeReplica:glossify:Transcriber' for a Ray worker (method suffix dropped)."""
    try:
        title = " ".join(proc.cmdline()[:1]) or proc.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied, IndexError):
        return "?"
    match = re.match(r"(ray::[^.\s]+)", title)
    return match.group(1) if match else Path(title.split()[0]).name


def cpu_share(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per process kind between two snapshots of `ResourceSampler.cpu_seconds`."""
    spent = {kind: after[kind] - before.get(kind, 0.0) for kind in after}
    return {k: round(v, 1) for k, v in sorted(spent.items(), key=lambda kv: -kv[1]) if v >= 0.5}


@dataclass
class ResourceSampler:
    """Every `interval_s`, the summed CPU and RSS of the processes `find()` returns."""

    find: Callable[[], Iterable[psutil.Process]]
    interval_s: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    # CPU seconds per process kind (Ray actor class, "postgres", ...) since the start.
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    _known: dict[int, psutil.Process] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> ResourceSampler:
        psutil.cpu_percent(None)
        self._thread = threading.Thread(target=self._run, name="resource-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.samples.append(self._sample())

    def _sample(self) -> Sample:
        cpu = rss = 0.0
        alive = 0
        for proc in self.find():
            # Keep one Process object per pid: cpu_percent() is measured since its last call.
            known = self._known.setdefault(proc.pid, proc)
            try:
                percent = known.cpu_percent(None)
                cpu += percent
                rss += known.memory_info().rss
                kind = _kind(known)
                self.cpu_seconds[kind] = (
                    self.cpu_seconds.get(kind, 0.0) + percent / 100 * self.interval_s
                )
                alive += 1
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                self._known.pop(proc.pid, None)
        return Sample(
            time.monotonic(),
            cpu,
            rss / 2**20,
            psutil.cpu_percent(None) * (os.cpu_count() or 1),
            alive,
        )

    def window(self, start: float, end: float) -> dict[str, float | None]:
        """Mean and peak CPU, peak RSS of the samples taken in [start, end] (monotonic)."""
        inside = [s for s in self.samples if start <= s.t <= end]
        if not inside:
            return {"cpu_mean_pct": None, "cpu_peak_pct": None, "rss_peak_mib": None}
        cpu = [s.cpu_percent for s in inside]
        return {
            "cpu_mean_pct": round(sum(cpu) / len(cpu), 1),
            "cpu_peak_pct": round(max(cpu), 1),
            "machine_cpu_mean_pct": round(
                sum(s.machine_cpu_percent for s in inside) / len(inside), 1
            ),
            # Everything else on the machine (this benchmark's own client included): a run
            # with much CPU here was disturbed by other work.
            "outside_cpu_mean_pct": round(
                sum(s.machine_cpu_percent - s.cpu_percent for s in inside) / len(inside), 1
            ),
            "rss_peak_mib": round(max(s.rss_mib for s in inside), 1),
            "processes": max(s.processes for s in inside),
        }


def memory_snapshot(procs: Iterable[psutil.Process]) -> dict[str, Any]:
    """RSS and PSS (MiB) of the processes, in total and per kind (Ray actor class, "raylet",
    "postgres", ...). PSS splits shared pages between the processes that map them, so the
    total is what the stack really occupies; RSS counts shared pages once per process."""
    kinds: dict[str, dict[str, float]] = {}
    for proc in procs:
        try:
            info = proc.memory_full_info()
            kind = _kind(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        row = kinds.setdefault(kind, {"processes": 0, "rss_mib": 0.0, "pss_mib": 0.0})
        row["processes"] += 1
        row["rss_mib"] += info.rss / 2**20
        row["pss_mib"] += getattr(info, "pss", info.rss) / 2**20
    rounded = {
        kind: {k: round(v, 1) if isinstance(v, float) else v for k, v in row.items()}
        for kind, row in sorted(kinds.items(), key=lambda kv: -kv[1]["pss_mib"])
    }
    return {
        "t": time.monotonic(),
        "processes": sum(int(row["processes"]) for row in kinds.values()),
        "rss_mib": round(sum(row["rss_mib"] for row in kinds.values()), 1),
        "pss_mib": round(sum(row["pss_mib"] for row in kinds.values()), 1),
        "by_kind": rounded,
    }


def wait_machine_quiet(
    sampler: ResourceSampler, max_outside_pct: float, hold_s: float = 5.0, timeout_s: float = 900
) -> float:
    """Wait until the CPU used outside the watched processes stays below `max_outside_pct`
    (other test runs on a shared machine); returns the seconds waited."""
    began = time.monotonic()
    quiet_since: float | None = None
    while time.monotonic() - began < timeout_s:
        time.sleep(sampler.interval_s)
        last = sampler.samples[-1] if sampler.samples else None
        if last is None or last.machine_cpu_percent - last.cpu_percent >= max_outside_pct:
            quiet_since = None
            continue
        quiet_since = quiet_since or last.t
        if last.t - quiet_since >= hold_s:
            break
    return round(time.monotonic() - began, 1)


def descendants(root: psutil.Process, include_root: bool = False) -> list[psutil.Process]:
    try:
        found = root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [root, *found] if include_root else found


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
