"""The processes a benchmark watches: their summed CPU and RSS every half second
(`ResourceSampler`), RSS/PSS snapshots per process kind, CPU seconds per kind, and the machine.

Only the standard library and psutil: the WhisperLive peer's venv imports it too.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil


def machine_info() -> dict[str, Any]:
    load1, load5, load15 = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "loadavg_at_start": [round(load1, 2), round(load5, 2), round(load15, 2)],
    }


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


def stack_finder(pg_data: Path | None) -> Callable[[], list[psutil.Process]]:
    """The stack's processes: this process's descendants (Ray: GCS, raylet, workers) and the
    embedded PostgreSQL (found by its data directory); for --url, Ray and postgres by name."""
    me = psutil.Process()

    def by_name() -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            name = proc.info["name"] or ""
            cmd = " ".join(proc.info["cmdline"] or [])
            if proc.pid != me.pid and (
                name.startswith("ray::")
                or name in ("raylet", "gcs_server", "postgres")
                or "ray/_private" in cmd
            ):
                found.append(proc)
        return found

    def local() -> list[psutil.Process]:
        procs = me.children(recursive=True)
        for proc in psutil.process_iter(["cmdline"]):
            if str(pg_data) in " ".join(proc.info["cmdline"] or []):
                procs.append(proc)
                procs.extend(proc.children(recursive=True))
        return procs

    return by_name if pg_data is None else local
