"""Load on a live Glossify stack: M text meetings × R lines/s with L listeners each; the knee
of the term latency; TermDetector/TermExplainer replica counts while it runs.

    .venv/bin/python -m bench.load [--meetings 10] [--rate 0.5] [--duration 60] [--listeners 2]
        [--sweep [meetings=10,25,50,100,200 | rate=0.1,0.2,0.5,1]] [--watch-scaling]
        [--config bench/autoscale.local.yaml] [--app-args JSON] [--tiny-llm]
        [--url http://host:8000 [--dashboard-url http://host:8265]]
    .venv/bin/python -m bench.load --mode audio --meetings 1,4 [--tiny-llm] [--watch-scaling]

By default starts the local stack itself (Ray, Serve, a fresh embedded PostgreSQL, like
`python -m bench.audio_streams`); text runs deploy it without the Transcriber and with
`meetings.use_glossary: false`, so every term goes through the explainer however many
meetings ran before (`--config`'s args and `--app-args` go on top). `--url` targets a
running stack or cluster instead.

Text mode, per step: L listeners per meeting connect to `ws://…/meeting/<id>/ws`; each meeting
then gets final lines at R lines/s (`POST /meeting/<id>/stt`, open loop: a slow answer does not
delay the next line) for --duration seconds, from jargon sentences in a per-meeting order,
lead-ins and coined terms (bench/load/workload.py); then the run drains (no event for --settle
s), every meeting is stopped and its upsert awaited (`upsert_done`, `GET …/stop/status`).
Measured: requests/s, HTTP latency, line → transcript event and line → terms event latency at
the listeners, errors (non-2xx, exceptions, sockets closed by the server, `error` events), and
RSS/PSS of the stack's processes before, loaded and after the stop (per meeting). The knee is
the lightest step whose p95 line → terms latency is ≥ --knee-factor × the lightest step's.

`--mode audio` runs bench.audio_streams' machinery for K = --meetings live-audio meetings
(the dev recording streamed in real time) with the same memory accounting and scaling watch.

`--watch-scaling` samples Serve's replica counts every second (in-process from the Serve
controller when this script started the stack, else the dashboard's
/api/serve/applications/), prints each change with the load at that moment, and keeps
sampling after the load until the deployments are back at their minimum (--scale-down-wait).
Results: bench/results/load-<date>.json (or --json-out).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import psutil

from bench import audio_streams
from bench.common.paths import results_path
from bench.common.processes import (
    ResourceSampler,
    descendants,
    machine_info,
    memory_snapshot,
    stack_finder,
    wait_machine_quiet,
)
from bench.common.stack import open_stack, stop_meetings
from bench.common.table import Column, cell, format_table
from bench.load.workload import (
    SentLine,
    at_rest,
    deep_merge,
    find_knee,
    load_sentences,
    meeting_lines,
    parse_steps,
    replica_counts,
    scaling_changes,
    stats,
    term_latencies,
    transcript_latencies,
)
from glossify.cli.stream_client import ws_url

APP_NAME = "glossify"
WATCHED = ("TermDetector", "TermExplainer")
# Process kinds of autoscaled replicas (processes.memory_snapshot names them
# "ray::ServeReplica:<app>:<deployment>").
SCALED_KINDS = (":TermDetector", ":TermExplainer", ":Transcriber")
# Text load needs no Transcriber (a CPU and ~0.5 GB freed on a small node), and a term that
# the glossary table answers would skip the explainer whose capacity is being measured.
TEXT_APP_ARGS: dict[str, Any] = {
    "transcriber": {"enabled": False},
    "meetings": {"use_glossary": False},
}
QUIET_HELP = "before each step, wait until other processes use < this %% CPU (0: don't wait)"


# ---------------------------------------------------------------- records


@dataclass
class Live:
    """What the load is doing right now, for the scaling timeline."""

    phase: str = "start"
    meetings: int = 0
    lines_sent: int = 0
    in_flight: int = 0
    terms: int = 0
    last_event_at: float = 0.0

    def saw(self, event: dict[str, Any], at: float) -> None:
        self.last_event_at = at
        if event.get("type") == "terms":
            self.terms += 1


@dataclass
class LineRecord:
    text: str
    due: float
    sent_at: float = 0.0
    done_at: float | None = None
    status: int | None = None
    error: str | None = None
    duplicate: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class ListenerRun:
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    connect_error: str | None = None
    socket_error: str | None = None
    closed_by_server: int | None = None  # close code when the server closed first
    closing: bool = False

    def upsert_event(self) -> dict[str, Any] | None:
        kinds = ("upsert_done", "upsert_error")
        return next((e for _, e in self.events if e.get("type") in kinds), None)


@dataclass
class MeetingRun:
    meeting_id: str
    index: int
    lines: list[LineRecord] = field(default_factory=list)
    listeners: list[ListenerRun] = field(default_factory=list)
    stop_http: int | None = None
    stop_status: dict[str, Any] | None = None

    def sent(self) -> list[SentLine]:
        return [SentLine(r.text, r.sent_at) for r in self.lines if r.ok and not r.duplicate]

    def upsert_seen(self) -> bool | None:
        """For stop_meetings: a listener saw the upsert end; else whether one still will."""
        if any(listener.upsert_event() for listener in self.listeners):
            return True
        if any(not listener.connect_error for listener in self.listeners):
            return False  # its listeners will see upsert_done / upsert_error
        return None


# ---------------------------------------------------------------- listeners


async def connect_listener(
    session: aiohttp.ClientSession, url: str, run: ListenerRun, gate: asyncio.Semaphore
) -> aiohttp.ClientWebSocketResponse | None:
    async with gate:
        try:
            ws = await session.ws_connect(url, max_msg_size=2**22, autoping=True)
            ready = await asyncio.wait_for(ws.receive_json(), 30)
        except (aiohttp.ClientError, TimeoutError, ValueError, TypeError) as exc:
            run.connect_error = f"{type(exc).__name__}: {exc}"[:200]
            return None
    if ready.get("type") != "ready":
        run.connect_error = f"not ready: {ready}"[:200]
        await ws.close()
        return None
    return ws


async def read_listener(ws: aiohttp.ClientWebSocketResponse, run: ListenerRun, live: Live) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            now = time.monotonic()
            event = json.loads(message.data)
            run.events.append((now, event))
            live.saw(event, now)
        elif message.type == aiohttp.WSMsgType.ERROR:
            run.socket_error = repr(ws.exception())[:200]
            break
    if not run.closing and run.socket_error is None:
        run.closed_by_server = ws.close_code if ws.close_code is not None else -1


Opened = list[tuple[ListenerRun, aiohttp.ClientWebSocketResponse, "asyncio.Task[None]"]]


async def open_listeners(
    sockets: aiohttp.ClientSession,
    base_url: str,
    runs: list[MeetingRun],
    per_meeting: int,
    live: Live,
) -> Opened:
    """`per_meeting` listeners on each meeting (32 handshakes at a time), each read by a task."""
    gate = asyncio.Semaphore(32)
    for run in runs:
        run.listeners = [ListenerRun() for _ in range(per_meeting)]
    pairs = [(run, listener) for run in runs for listener in run.listeners]
    connected = await asyncio.gather(
        *(
            connect_listener(sockets, ws_url(base_url, run.meeting_id), listener, gate)
            for run, listener in pairs
        )
    )
    return [
        (listener, ws, asyncio.create_task(read_listener(ws, listener, live)))
        for (_, listener), ws in zip(pairs, connected, strict=True)
        if ws is not None
    ]


async def close_listeners(opened: Opened) -> None:
    for listener, _, _ in opened:
        listener.closing = True
    await asyncio.gather(*(ws.close() for _, ws, _ in opened), return_exceptions=True)
    await asyncio.gather(*(reader for _, _, reader in opened), return_exceptions=True)


# ---------------------------------------------------------------- speaking


async def post_line(
    session: aiohttp.ClientSession,
    base_url: str,
    meeting_id: str,
    record: LineRecord,
    live: Live,
    limits: aiohttp.ClientTimeout,
) -> None:
    record.sent_at = time.monotonic()
    live.lines_sent += 1
    live.in_flight += 1
    body = {"text": record.text, "is_final": True}
    try:
        url = f"{base_url}/meeting/{meeting_id}/stt"
        async with session.post(url, json=body, timeout=limits) as response:
            record.status = response.status
            answer = await response.json(content_type=None)
            record.duplicate = isinstance(answer, dict) and bool(answer.get("duplicate"))
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        record.error = type(exc).__name__
    finally:
        record.done_at = time.monotonic()
        live.in_flight -= 1


async def speak(
    session: aiohttp.ClientSession,
    base_url: str,
    run: MeetingRun,
    lines: Iterator[str],
    schedule: tuple[float, float, float],
    live: Live,
    args: argparse.Namespace,
) -> None:
    """Lines due at first, first + period, ... until `end`, each posted on time (open loop)
    unless --max-in-flight of this meeting's lines are still unanswered."""
    due, period, end = schedule
    timeout = aiohttp.ClientTimeout(total=args.http_timeout)
    gate = asyncio.Semaphore(args.max_in_flight)
    tasks: set[asyncio.Task[None]] = set()
    while due < end:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        record = LineRecord(next(lines), due)
        run.lines.append(record)
        await gate.acquire()
        task = asyncio.create_task(
            post_line(session, base_url, run.meeting_id, record, live, timeout)
        )
        tasks.add(task)
        task.add_done_callback(lambda t: (tasks.discard(t), gate.release()))
        due += period
    while tasks:
        await asyncio.gather(*list(tasks))


async def wait_drained(live: Live, settle_s: float, max_wait_s: float) -> bool:
    """Until no request is in flight and no event came for `settle_s`; False on timeout."""
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        quiet_for = time.monotonic() - max(live.last_event_at, 0.0)
        if live.in_flight == 0 and quiet_for >= settle_s:
            return True
    return False


# ---------------------------------------------------------------- stopping


def stop_summary(runs: list[MeetingRun], waited_s: float) -> dict[str, Any]:
    """Stop statuses, rows upserted, and whether each glossary holds what its listeners saw.

    A term shown after the meeting's upsert_done (its line was still in the pipeline when
    meetings.stop_drain_s ran out) is not in the upserted glossary: `terms_after_upsert`."""
    mismatched = []
    after_upsert = 0
    for run in runs:
        before, after = upsert_split(run)
        after_upsert += after
        upserted = (run.stop_status or {}).get("upserted")
        # Rows are (term, domain) pairs; listeners saw one event per explained pair.
        if run.listeners and upserted is not None and upserted != before:
            mismatched.append({"meeting": run.meeting_id, "upserted": upserted, "shown": before})
    return {
        "seconds": round(waited_s, 1),
        "stop_http": _count(str(run.stop_http) for run in runs),
        "status": _count(str((run.stop_status or {}).get("status")) for run in runs),
        "all_done": all((run.stop_status or {}).get("status") == "done" for run in runs),
        "upserted_rows": sum(int((run.stop_status or {}).get("upserted") or 0) for run in runs),
        "upsert_events_seen": sum(
            any(listener.upsert_event() for listener in run.listeners) for run in runs
        ),
        "terms_after_upsert": after_upsert,
        "upserted_vs_shown_mismatch": mismatched[:20],
    }


def upsert_split(run: MeetingRun) -> tuple[int, int]:
    """Distinct (term, domain) pairs the first listener saw before and after the upsert."""
    if not run.listeners:
        return 0, 0
    upsert = run.listeners[0].upsert_event()
    cut = upsert["seq"] if upsert else float("inf")
    before: set[tuple[str, str]] = set()
    after: set[tuple[str, str]] = set()
    for _, event in run.listeners[0].events:
        if event.get("type") == "terms":
            key = (str(event.get("entity", "")).casefold(), str(event.get("domain")))
            (before if event.get("seq", 0) < cut else after).add(key)
    return len(before), len(after - before)


def _count(values: Iterator[str] | list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


# ---------------------------------------------------------------- one step


@dataclass
class Stack:
    base_url: str
    finder: Callable[[], Any]
    sampler: ResourceSampler


async def snapshot(stack: Stack) -> dict[str, Any]:
    return await asyncio.to_thread(memory_snapshot, stack.finder())


async def run_step(
    sessions: tuple[aiohttp.ClientSession, aiohttp.ClientSession],
    stack: Stack,
    step: tuple[int, float],
    number: int,
    pool: list[str],
    live: Live,
    args: argparse.Namespace,
) -> dict[str, Any]:
    meetings, rate = step
    session, sockets = sessions  # requests; listeners
    tag = f"{int(time.time()) % 100000}"
    runs = [MeetingRun(f"load-{tag}-s{number}-{i}", i) for i in range(meetings)]
    before = await snapshot(stack)
    live.phase, live.meetings = f"connect {meetings}x{rate:g}", meetings
    opened = await open_listeners(sockets, stack.base_url, runs, args.listeners, live)

    live.phase = f"load {meetings}x{rate:g}"
    start = time.monotonic() + 1.0
    end = start + args.duration
    period = 1.0 / rate
    await asyncio.gather(
        *(
            speak(
                session,
                stack.base_url,
                run,
                meeting_lines(pool, run.index + number * 1000, args.seed, args.fresh_terms),
                (start + period * run.index / meetings, period, end),
                live,
                args,
            )
            for run in runs
        )
    )
    load_end = time.monotonic()
    live.phase = f"drain {meetings}x{rate:g}"
    quiet = await wait_drained(live, args.settle, args.max_wait)
    drained = time.monotonic()
    loaded = await snapshot(stack)
    live.phase = f"stop {meetings}x{rate:g}"
    waited = await stop_meetings(session, stack.base_url, runs, args.stop_timeout)
    stop = stop_summary(runs, waited)
    await close_listeners(opened)
    after = await snapshot(stack)
    live.phase, live.meetings = "idle", 0
    row = analyse_step(runs, step, args)
    row.update(
        {
            "drained": quiet,
            "drain_s": round(drained - load_end, 1),
            "stop": stop,
            "memory": memory_rows(before, loaded, after, meetings),
            "resources": {
                "load": stack.sampler.window(start, load_end),
                "whole": stack.sampler.window(start, drained),
            },
        }
    )
    return row


def memory_rows(
    before: dict[str, Any], loaded: dict[str, Any], after: dict[str, Any], meetings: int
) -> dict[str, Any]:
    """Snapshots and what the meetings cost. Replicas the autoscaler added while loaded are
    not the meetings' memory: `per_meeting_pss_mib` leaves the scaled backends out
    (`per_meeting_pss_mib_all` keeps them)."""

    def brief(snap: dict[str, Any]) -> dict[str, Any]:
        return {k: snap[k] for k in ("processes", "rss_mib", "pss_mib", "by_kind")}

    delta = {
        kind: round(row["pss_mib"] - before["by_kind"].get(kind, {}).get("pss_mib", 0.0), 1)
        for kind, row in loaded["by_kind"].items()
    }
    meetings_only = sum(v for kind, v in delta.items() if not kind.endswith(SCALED_KINDS))
    return {
        "before": brief(before),
        "loaded": brief(loaded),
        "after_stop": brief(after),
        "loaded_minus_before_pss_mib_by_kind": delta,
        "per_meeting_pss_mib": round(meetings_only / meetings, 2),
        "per_meeting_pss_mib_all": round((loaded["pss_mib"] - before["pss_mib"]) / meetings, 2),
        "per_meeting_rss_mib_all": round((loaded["rss_mib"] - before["rss_mib"]) / meetings, 2),
        "after_stop_minus_before_pss_mib": round(after["pss_mib"] - before["pss_mib"], 1),
    }


# ---------------------------------------------------------------- analysis


def analyse_step(
    runs: list[MeetingRun], step: tuple[int, float], args: argparse.Namespace
) -> dict[str, Any]:
    meetings, rate = step
    records = [r for run in runs for r in run.lines]
    ok = [r for r in records if r.ok]
    http = [r.done_at - r.sent_at for r in ok if r.done_at is not None]
    transcripts: list[float] = []
    explained: list[float] = []
    answered: list[float] = []
    sources: dict[str, int] = {}
    missing = unmatched_terms = distinct_terms = 0
    for run in runs:
        sent = run.sent()
        for listener in run.listeners:
            latencies, _ = transcript_latencies(sent, listener.events)
            transcripts.extend(latencies)
            missing += max(0, len(sent) - len(latencies)) if not listener.connect_error else 0
            terms = term_latencies(sent, listener.events)
            explained.extend(terms["explained"])
            answered.extend(terms["glossary"])
            unmatched_terms += terms["unmatched"]
            for source, n in terms["sources"].items():
                sources[source] = sources.get(source, 0) + n
        if run.listeners:
            first = run.listeners[0].events
            distinct_terms += sum(e.get("type") == "terms" for _, e in first)
    term_stats = stats(explained)
    return {
        "meetings": meetings,
        "rate": rate,
        "listeners": args.listeners,
        "duration_s": args.duration,
        "offered_lines_per_s": round(meetings * rate, 3),
        "lines_sent": len(records),
        "lines_ok": len(ok),
        "duplicates": sum(r.duplicate for r in ok),
        "achieved_rps": round(len(ok) / args.duration, 2),
        "send_lag": stats([r.sent_at - r.due for r in records]),
        "http_latency": stats(http),
        "transcript_latency": stats(transcripts),
        "transcripts_missing": missing,
        "term_latency": term_stats,
        "term_p50": term_stats["p50"],
        "term_p95": term_stats["p95"],
        "glossary_latency": stats(answered),
        "terms": distinct_terms,
        "terms_per_line": round(distinct_terms / len(ok), 3) if ok else None,
        "term_sources": sources,
        "terms_unmatched": unmatched_terms,
        "errors": step_errors(runs),
    }


def step_errors(runs: list[MeetingRun]) -> dict[str, Any]:
    records = [r for run in runs for r in run.lines]
    listeners = [listener for run in runs for listener in run.listeners]
    error_events = [
        e for listener in listeners for _, e in listener.events if e.get("type") == "error"
    ]
    counts = {
        "http_status": _count(str(r.status) for r in records if r.status and not r.ok),
        "http_exceptions": _count(r.error for r in records if r.error),
        "listeners_not_connected": sum(bool(lst.connect_error) for lst in listeners),
        "socket_errors": sum(bool(lst.socket_error) for lst in listeners),
        "closed_by_server": sum(lst.closed_by_server is not None for lst in listeners),
        "error_events": len(error_events),
    }
    total = (
        sum(counts["http_status"].values())
        + sum(counts["http_exceptions"].values())
        + counts["listeners_not_connected"]
        + counts["socket_errors"]
        + counts["closed_by_server"]
        + counts["error_events"]
    )
    examples = [lst.connect_error or lst.socket_error for lst in listeners]
    return {
        **counts,
        "total": total,
        "examples": [e for e in examples if e][:5] + [json.dumps(e) for e in error_events[:5]],
    }


# ---------------------------------------------------------------- scaling watch


def serve_details_in_process() -> dict[str, Any]:
    """Serve's instance details from the controller, through the driver this process is (the
    client serve.status() uses; the same JSON as the dashboard's /api/serve/applications/)."""
    from ray.serve.context import _get_global_client

    client = _get_global_client(raise_if_no_controller_running=False)
    return client.get_serve_details() if client is not None else {}


class ScalingWatch:
    """Samples replica counts every `interval_s`; prints each change with the load then."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[dict[str, Any]]],
        live: Live,
        source: str,
        interval_s: float = 1.0,
        echo: bool = True,
    ) -> None:
        self.fetch, self.live, self.source = fetch, live, source
        self.interval_s, self.echo = interval_s, echo
        self.t0 = time.monotonic()
        self.samples: list[dict[str, Any]] = []
        self.errors = 0
        self._previous: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> ScalingWatch:
        self._task = asyncio.create_task(self._loop())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            began = time.monotonic()
            await self._sample()
            await asyncio.sleep(max(0.0, self.interval_s - (time.monotonic() - began)))

    async def _sample(self) -> None:
        try:
            details = await asyncio.wait_for(self.fetch(), 10)
        except Exception as exc:  # a sample lost is not a run lost
            self.errors += 1
            if self.errors <= 3:
                print(f"scaling watch: {type(exc).__name__}: {exc}", flush=True)
            return
        now = time.monotonic()
        sample = {
            "t": round(now - self.t0, 1),
            "phase": self.live.phase,
            "replicas": replica_counts(details, APP_NAME, WATCHED),
            "load": self._load(now),
        }
        self.samples.append(sample)
        changed = len(self.samples) == 1 or len(scaling_changes(self.samples[-2:])) == 2
        if self.echo and changed:
            print(format_change(sample), flush=True)

    def _load(self, now: float) -> dict[str, Any]:
        live, prev = self.live, self._previous
        dt = (now - prev["at"]) if prev else 1.0
        load = {
            "meetings": live.meetings,
            "in_flight": live.in_flight,
            "lines_per_s": round((live.lines_sent - prev.get("lines", live.lines_sent)) / dt, 1),
            "terms_per_s": round((live.terms - prev.get("terms", live.terms)) / dt, 2),
        }
        self._previous = {"at": now, "lines": live.lines_sent, "terms": live.terms}
        return load

    async def wait_at_rest(self, timeout_s: float) -> float | None:
        """Seconds until every watched deployment is back at its minimum, None on timeout."""
        began = time.monotonic()
        baseline = self.samples[0]["replicas"] if self.samples else {}
        while time.monotonic() - began < timeout_s:
            if self.samples and at_rest(self.samples[-1]["replicas"], baseline):
                return round(time.monotonic() - began, 1)
            await asyncio.sleep(self.interval_s)
        return None

    def report(self, rest_s: float | None, waited: bool) -> dict[str, Any]:
        peaks = {
            name: max((s["replicas"].get(name, {}).get("running") or 0) for s in self.samples)
            for name in WATCHED
        }
        return {
            "source": self.source,
            "interval_s": self.interval_s,
            "peak_running": peaks,
            "back_at_min_after_load_s": rest_s,
            "waited_for_scale_down": waited,
            "sample_errors": self.errors,
            "changes": scaling_changes(self.samples),
            "samples": self.samples,
        }


def format_change(sample: dict[str, Any]) -> str:
    counts = "  ".join(
        f"{name} {c['running']}/{c['target']}"
        + (f" (+{c['starting']} starting)" if c["starting"] else "")
        for name, c in sorted(sample["replicas"].items())
    )
    load = sample["load"]
    return (
        f"  t={sample['t']:7.1f}s  {sample['phase']:<18} {counts}  | {load['meetings']} meetings, "
        f"{load['lines_per_s']:.1f} lines/s, {load['in_flight']} in flight, "
        f"{load['terms_per_s']:.1f} terms/s"
    )


def make_watch(
    args: argparse.Namespace, live: Live, session: aiohttp.ClientSession
) -> ScalingWatch | None:
    if not args.watch_scaling:
        return None
    if not args.url:
        return ScalingWatch(
            lambda: asyncio.to_thread(serve_details_in_process), live, "serve controller"
        )
    dashboard = args.dashboard_url or f"http://{urlsplit(args.url).hostname}:8265"
    url = f"{dashboard.rstrip('/')}/api/serve/applications/"

    async def fetch() -> dict[str, Any]:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
            response.raise_for_status()
            return await response.json()

    return ScalingWatch(fetch, live, url)


# ---------------------------------------------------------------- modes


async def text_mode(
    sessions: tuple[aiohttp.ClientSession, aiohttp.ClientSession],
    stack: Stack,
    live: Live,
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    pool = load_sentences()
    rows = []
    for number, step in enumerate(args.steps):
        await stack_idle(stack, args)
        await quiet_machine(stack, args)
        meetings, rate = step
        print(
            f"\nstep {number + 1}/{len(args.steps)}: {meetings} meetings x {rate:g} lines/s "
            f"x {args.duration:g} s, {args.listeners} listeners each ...",
            flush=True,
        )
        row = await run_step(sessions, stack, step, number, pool, live, args)
        rows.append(row)
        print(table([row]), flush=True)
    return rows


async def audio_mode(stack: Stack, live: Live, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for k in args.meeting_counts:
        argv = ["--streams", str(k), "--settle", str(args.settle), "--max-wait", str(args.max_wait)]
        argv += ["--quiet-machine", str(args.quiet_machine), "--stop-at-end"]
        if args.audio:
            argv += ["--audio", str(args.audio)]
        before = await snapshot(stack)
        live.phase, live.meetings = f"audio K={k}", k
        (row,) = await audio_streams.bench(
            stack.base_url, audio_streams.parse_args(argv), stack.sampler
        )
        live.phase, live.meetings = "idle", 0
        loaded = await snapshot(stack)
        row.update(
            {
                "meetings": k,
                "offered_lines_per_s": k,  # the load unit here: live audio streams
                "term_p95": row["term_latency"]["p95"],
                "memory": memory_rows(before, loaded, loaded, k),
            }
        )
        rows.append(row)
    return rows


async def stack_idle(stack: Stack, args: argparse.Namespace) -> None:
    """Wait until the stack's own CPU stays under --idle-cpu for 5 s: a stopped meeting whose
    drain ran out keeps its lines in the pipeline, and that backlog must not run into the
    next step."""
    if args.idle_wait <= 0:
        return
    began = time.monotonic()
    while time.monotonic() - began < args.idle_wait:
        recent = [s for s in stack.sampler.samples if s.t >= time.monotonic() - 5.0]
        if len(recent) >= 8 and all(s.cpu_percent < args.idle_cpu for s in recent):
            break
        await asyncio.sleep(1.0)
    else:
        print(f"(the stack was still busy after --idle-wait {args.idle_wait:g} s; going on)")
    waited = time.monotonic() - began
    if waited > 10:
        print(f"(waited {waited:.0f} s for the stack to finish earlier work)", flush=True)


async def quiet_machine(stack: Stack, args: argparse.Namespace) -> None:
    if args.quiet_machine > 0:
        waited = await asyncio.to_thread(wait_machine_quiet, stack.sampler, args.quiet_machine)
        if waited > 6:
            print(f"(waited {waited:.0f} s for other work on the machine to calm down)")


async def bench(stack: Stack, args: argparse.Namespace, report: dict[str, Any]) -> None:
    live = Live()
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.connections)) as session,
        # Each listener holds its connection for the whole step: not from the request pool.
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as sockets,
    ):
        report["health"] = await health(session, stack.base_url)
        watch = make_watch(args, live, session)
        if watch is not None:
            watch.start()
            print("scaling (running/target replicas):", flush=True)
        try:
            if args.mode == "audio":
                report["steps"] = await audio_mode(stack, live, args)
            else:
                report["steps"] = await text_mode((session, sockets), stack, live, args)
        finally:
            if watch is not None:
                live.phase = "after load"
                rest = await watch.wait_at_rest(args.scale_down_wait)
                await watch.stop()
                report["scaling"] = watch.report(rest, args.scale_down_wait > 0)


async def health(session: aiohttp.ClientSession, base_url: str) -> dict[str, Any]:
    try:
        async with session.get(f"{base_url}/health") as response:
            return await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return {"status": f"unreachable: {type(exc).__name__}"}


# ---------------------------------------------------------------- output


TABLE: list[Column[dict[str, Any]]] = [
    Column("M", 4, lambda r: str(r["meetings"])),
    Column("rate", 5, lambda r: f"{r['rate']:g}"),
    Column("lines/s", 7, lambda r: f"{r['offered_lines_per_s']:g}"),
    Column("got/s", 6, lambda r: cell(r["achieved_rps"], 1)),
    Column("http p50", 8, lambda r: cell(r["http_latency"]["p50"], 0, 1e3)),
    Column("p95 ms", 6, lambda r: cell(r["http_latency"]["p95"], 0, 1e3)),
    Column("tx p50", 6, lambda r: cell(r["transcript_latency"]["p50"], 0, 1e3)),
    Column("p95 ms", 6, lambda r: cell(r["transcript_latency"]["p95"], 0, 1e3)),
    Column("term p50", 8, lambda r: cell(r["term_p50"], 1)),
    Column("p95 s", 6, lambda r: cell(r["term_p95"], 1)),
    Column("terms", 5, lambda r: str(r["terms"])),
    Column("err", 4, lambda r: str(r["errors"]["total"])),
    Column("PSS/mtg", 7, lambda r: cell(r["memory"]["per_meeting_pss_mib"], 2)),
    Column("CPU%", 5, lambda r: cell(r["resources"]["load"].get("cpu_mean_pct"), 0)),
    Column("upserts", 8, lambda r: f"{r['stop']['status'].get('done', 0):>4}/{r['meetings']:<3}"),
]


def table(rows: list[dict[str, Any]]) -> str:
    return format_table(TABLE, rows)


def knee_text(knee: dict[str, Any]) -> str:
    base = knee["baseline"]
    if base is None:
        return "knee: no step had explained terms"
    head = (
        f"knee (p95 term latency ≥ {knee['factor']:g}x the lightest step's "
        f"{base['term_p95']:.2f} s)"
    )
    if knee["knee"] is None:
        return f"{head}: not reached up to {knee['last_good']['offered_lines_per_s']} lines/s"
    k = knee["knee"]
    value = "no terms" if k["term_p95"] is None else f"{k['term_p95']:.2f} s"
    return (
        f"{head}: at {k['meetings']} meetings x {k['rate']} lines/s = "
        f"{k['offered_lines_per_s']} lines/s ({value})"
    )


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=(__doc__ or "").splitlines()[0]
    )
    a = parser.add_argument
    a("--mode", choices=("text", "audio"), default="text")
    a("--meetings", default="10", help="comma-separated meeting counts (audio: K streams)")
    a("--rate", default="0.5", help="comma-separated final lines/s per meeting")
    a("--sweep", nargs="?", const="", default=None, help="meetings=10,25,... or rate=0.1,...")
    a("--duration", type=float, default=60.0, help="seconds of load per step")
    a("--listeners", type=int, default=2, help="WebSocket listeners per meeting")
    a("--fresh-terms", type=float, default=0.5, help="share of lines naming a coined term")
    a("--seed", type=int, default=0)
    a("--settle", type=float, default=8.0, help="quiet seconds that end the drain")
    a("--max-wait", type=float, default=120.0, help="most seconds to drain after the load")
    a("--stop-timeout", type=float, default=300.0, help="most seconds to wait for upserts")
    a("--http-timeout", type=float, default=30.0)
    a("--max-in-flight", type=int, default=8, help="unanswered lines per meeting")
    a("--connections", type=int, default=64, help="HTTP connection pool size")
    a("--knee-factor", type=float, default=2.0)
    a("--watch-scaling", action="store_true", help="sample replica counts every second")
    a("--scale-down-wait", type=float, default=240.0, help="most seconds to watch scale-down")
    a("--url", default=None, help="a running stack (default: start one)")
    a("--dashboard-url", default=None, help="for --watch-scaling with --url (default :8265)")
    a("--stack-pid", type=int, default=None, help="with --url: the stack's root process")
    a("--pg-data", type=Path, default=None, help="with --stack-pid: its PostgreSQL data dir")
    a("--port", type=int, default=8032, help="port of the stack this script starts")
    a("--dashboard", action="store_true", help="start the local stack with Ray's dashboard")
    a("--config", type=Path, default=None, help="a Serve config whose glossify args to use")
    a("--app-args", default=None, help="more Serve app args as JSON (win over --config)")
    a("--tiny-llm", action="store_true", help="SmolLM2-135M explainer instead of Qwen 1.5B")
    a("--quiet-machine", type=float, default=40.0, help=QUIET_HELP)
    a("--idle-cpu", type=float, default=30.0, help="stack CPU %% that counts as idle")
    a("--idle-wait", type=float, default=600.0, help="most seconds to wait for an idle stack")
    a("--audio", type=Path, default=None, help="audio mode: another recording to stream")
    a("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    args.meeting_counts = [int(v) for v in args.meetings.split(",")]
    args.rates = [float(v) for v in args.rate.split(",")]
    args.steps = parse_steps(args.sweep, args.meeting_counts, args.rates)
    return args


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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    app_args = stack_app_args(args)
    report: dict[str, Any] = {
        "system": "glossify",
        "mode": args.mode,
        "machine": machine_info(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "app_args": None if args.url else app_args,
        "explainer": explainer_label(args, app_args),
        "steps": [],
    }
    stack_args = argparse.Namespace(**{**vars(args), "app_args": json.dumps(app_args)})
    if not args.url:
        # Serve's per-request logs stay in /tmp/ray/session_latest/logs/serve/ instead of
        # flooding this console (the replicas inherit the variable from this driver).
        os.environ.setdefault("RAY_SERVE_LOG_TO_STDERR", "0")
    print(f"explainer: {report['explainer']}", flush=True)
    with open_stack(stack_args) as (base_url, pg_data):
        finder = stack_processes(args, pg_data)
        sampler = ResourceSampler(finder).start()
        try:
            run_interruptible(bench(Stack(base_url, finder, sampler), args, report))
        finally:
            sampler.stop()
            write_report(report, args)
    return 0


def stack_processes(args: argparse.Namespace, pg_data: Path | None) -> Callable[[], Any]:
    """The processes whose CPU and memory count: the stack this script started; with --url,
    the process tree of --stack-pid (e.g. `glossify up`) and the PostgreSQL serving
    --pg-data, else every Ray and postgres process on this machine (other clusters too)."""
    if args.url is None or args.stack_pid is None:
        return stack_finder(pg_data if args.url is None else None)
    root = psutil.Process(args.stack_pid)
    marker = str(args.pg_data) if args.pg_data else None

    def find() -> list[psutil.Process]:
        procs = descendants(root, include_root=True)
        if marker is not None:
            for proc in psutil.process_iter(["cmdline"]):
                if marker in " ".join(proc.info["cmdline"] or []):
                    procs.extend([proc, *descendants(proc)])
        return procs

    return find


def run_interruptible(job: Awaitable[None]) -> None:
    """Ctrl-C cancels the run (and the stack still shuts down): local_stack's own signal
    handlers only set a flag, which nothing here would look at."""

    async def wrapper() -> None:
        task = asyncio.ensure_future(job)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(wrapper())


def write_report(report: dict[str, Any], args: argparse.Namespace) -> None:
    steps = report["steps"]
    if steps:
        report["knee"] = find_knee(steps, args.knee_factor)
        if len(steps) > 1:
            print("\n" + (table if args.mode == "text" else audio_streams.table)(steps))
        print(knee_text(report["knee"]))
    scaling = report.get("scaling")
    if scaling:
        rest = scaling["back_at_min_after_load_s"]
        print(
            f"scaling ({scaling['source']}): peak running {scaling['peak_running']}; "
            + (
                f"back at the minimum {rest} s after the load"
                if rest is not None
                else f"not back at the minimum within --scale-down-wait {args.scale_down_wait:g} s"
            )
        )
    out = args.json_out or results_path("load" if args.mode == "text" else "load-audio")
    out.write_text(json.dumps(report, indent=1, default=str))
    print(f"wrote {out}")


if __name__ == "__main__":
    raise SystemExit(main())
