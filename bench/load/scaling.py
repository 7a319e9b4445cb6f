"""Serve's replica counts while the load runs: sampled every second (from the Serve controller
in this process, or the dashboard's /api/serve/applications/), each change printed with the
load at that moment, and the timeline until the deployments are back at their minimum."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bench.load.records import Live

APP_NAME = "glossify"


WATCHED = ("TermDetector", "TermExplainer")


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
