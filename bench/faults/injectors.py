"""The faults themselves: SIGKILL or SIGSTOP of a process of the stack, found through Ray, and
waiting until the stack has healed (Serve or Ray replaced the process, /health is 200 and a
canary line goes through a meeting).

Only processes of the Ray cluster this process is connected to are touched: their pids come
from Ray's actor table (``ray.util.state`` would need the dashboard, which the test stack and
``glossify up`` leave off), never from process names, which other clusters on the machine share.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from typing import Any

import aiohttp
import ray

from glossify.meetings.host import host_name, shard_of

INGRESS = "GlossifyIngress"
TRANSCRIBER = "Transcriber"
DETECTOR = "TermDetector"
EXPLAINER = "TermExplainer"


def replica_class(app_name: str, deployment: str) -> str:
    """The Ray actor class of a Serve replica of ``deployment`` in application ``app_name``."""
    return f"ServeReplica:{app_name}:{deployment}"


def alive_pids(actor_class: str) -> list[int]:
    """Pids of the live actors of ``actor_class`` in the connected cluster."""
    from ray._private import state  # the actor table, without the dashboard's state API

    return sorted(
        int(info["Pid"])
        for info in state.actors().values()
        if info["ActorClassName"] == actor_class and info["State"] == "ALIVE" and info["Pid"]
    )


def signal_replicas(app_name: str, deployment: str, signum: signal.Signals) -> list[int]:
    """Sends ``signum`` to every live replica of the deployment; returns their pids."""
    pids = alive_pids(replica_class(app_name, deployment))
    if not pids:
        raise RuntimeError(f"no live replica of {deployment} in {app_name}")
    for pid in pids:
        os.kill(pid, signum)
    return pids


def kill_replicas(app_name: str, deployment: str) -> list[int]:
    """kill -9 of every replica of the deployment, as a crash or the OOM killer would."""
    return signal_replicas(app_name, deployment, signal.SIGKILL)


def freeze_replicas(app_name: str, deployment: str) -> list[int]:
    """SIGSTOP of every replica: it keeps its sockets and answers nothing, like a backend
    stuck in a native call; Serve's health check is what notices."""
    return signal_replicas(app_name, deployment, signal.SIGSTOP)


def thaw(pids: list[int]) -> None:
    """SIGCONT for frozen processes that are still there (Serve may have ended them)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


async def wait_replaced(
    app_name: str, deployment: str, gone: list[int], within_s: float
) -> float | None:
    """Seconds until a replica other than ``gone`` is alive and none of ``gone`` is (None:
    not within ``within_s``)."""
    began = time.monotonic()
    actor_class = replica_class(app_name, deployment)
    while time.monotonic() - began < within_s:
        pids = await asyncio.to_thread(alive_pids, actor_class)
        if pids and not set(pids) & set(gone):
            return round(time.monotonic() - began, 2)
        await asyncio.sleep(0.5)
    return None


def host_actor(app_name: str, namespace: str, shards: int, meeting_id: str) -> Any:
    return ray.get_actor(host_name(app_name, shard_of(meeting_id, shards)), namespace=namespace)


async def kill_meeting_host(app_name: str, namespace: str, shards: int, meeting_id: str) -> int:
    """kill -9 of the meeting host actor that carries ``meeting_id``; returns its pid."""
    pid = int((await host_actor(app_name, namespace, shards, meeting_id).ping.remote())["pid"])
    os.kill(pid, signal.SIGKILL)
    return pid


async def wait_healthy(
    session: aiohttp.ClientSession, base_url: str, within_s: float = 600.0
) -> float:
    """Seconds until /health answers 200 and a canary line is in a fresh meeting's transcript,
    so that what runs next finds the stack whole. The canary meeting is not stopped: its
    terms stay out of the organisation glossary. A replica that loads a model takes minutes to
    start on a busy 2-core machine."""
    began = time.monotonic()
    canary = f"canary-{uuid.uuid4().hex[:10]}"
    last = "no answer"
    while time.monotonic() - began < within_s:
        try:
            async with session.get(f"{base_url}/health") as health:
                last = f"/health {health.status}"
                if health.status == 200:
                    line = {"text": f"Canary {canary} went through.", "is_final": True}
                    async with session.post(f"{base_url}/meeting/{canary}/stt", json=line) as sent:
                        last = f"/stt {sent.status}"
                    async with session.get(f"{base_url}/meeting/{canary}/transcript") as read:
                        lines = (await read.json())["lines"] if read.status == 200 else []
                    if any(canary in item["text"] for item in lines):
                        return round(time.monotonic() - began, 2)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            last = type(exc).__name__
        await asyncio.sleep(1.0)
    raise TimeoutError(f"the stack did not heal within {within_s:.0f} s ({last})")
