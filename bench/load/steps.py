"""A run's steps on the stack: text steps (listeners, lines, drain, stop, analysis) or audio
steps (bench.audio_streams' streams), with memory snapshots and the scaling watch around them."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.audio_streams import cli as audio_streams
from bench.common.processes import ResourceSampler, memory_snapshot, wait_machine_quiet
from bench.common.stack import auth_headers, stop_meetings
from bench.load.analysis import analyse_step, memory_rows, stop_summary
from bench.load.records import Live, MeetingRun
from bench.load.report import table
from bench.load.scaling import make_watch
from bench.load.traffic import close_listeners, health, open_listeners, speak, wait_drained
from bench.load.workload import load_sentences, meeting_lines


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
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=args.connections), headers=auth_headers()
        ) as session,
        # Each listener holds its connection for the whole step: not from the request pool.
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), headers=auth_headers()
        ) as sockets,
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
