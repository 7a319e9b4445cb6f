"""Two Ray nodes on one machine, deployed with ``serve deploy`` as an operator would: the worker
node has a custom resource standing for a GPU, and the Transcriber asks for it, as it asks for
``num_gpus: 1`` in serve_config.yaml. The Transcriber runs only there and everything else on the
head; losing the worker node mid-meeting stops the audio path only: text lines and their terms go
on, and once a worker node is back every utterance of the live sender becomes a line, once.

The figures (seconds the audio path was down, lines lost, duplicates, seconds to resume) are
printed as ``TWO-NODE FIGURES`` for docs/reliability.md."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from glossify.cli.demo import sample_meeting
from glossify.cli.local_stack import wait_for_health
from glossify.cli.stream_client import stream_file
from glossify.meetings.state import normalize_line
from tests.cluster.nodes import Cluster, own_cluster
from tests.credentials import TEST_KEY
from tests.paths import SHARED_AUDIO
from tests.serve.apps import own_database
from tests.serve.clients import AUTH, Listener, new_meeting_id, poll_until
from tests.serve.conftest import test_app_args as serve_test_args

GPU = "whisper_gpu"  # the custom resource standing for a GPU
SCRIPT = (SHARED_AUDIO / "dev-meeting.txt").read_text().splitlines()


def serve_config(http_port: int) -> dict[str, Any]:
    """serve_config.local.yaml's application, with the test's small models, a retry window for
    finals longer than the outage, and the Transcriber on the "GPU" node."""
    return {
        "proxy_location": "HeadOnly",
        "http_options": {"host": "127.0.0.1", "port": http_port},
        "logging_config": {"enable_access_log": False},
        "applications": [
            {
                "name": "glossify",
                "route_prefix": "/",
                "import_path": "glossify.app:build_app",
                # The session's test app's settings (small models), with a retry window for
                # finals longer than the outage.
                "args": {
                    **serve_test_args(),
                    "audio": {"final_attempts": 20, "final_retry_s": 300.0},
                },
                "deployments": [
                    {
                        "name": "Transcriber",
                        # In production: {num_gpus: 1} (serve_config.yaml).
                        "ray_actor_options": {"num_cpus": 0, "resources": {GPU: 1}},
                    }
                ],
            }
        ],
    }


@pytest.fixture(scope="module")
def cluster(database_url: str) -> Iterator[tuple[Cluster, str]]:
    from glossify.cli.local_stack import free_port

    env = {"DATABASE_URL": own_database(database_url)}
    # The head's CPUs are scheduling tokens for the ingress and the two backends; the worker
    # has none, so nothing but the Transcriber (which needs no CPU token here) can land on it.
    with own_cluster(("--num-cpus=2",), env) as running:
        running.add_worker("--num-cpus=0", f"--resources={json.dumps({GPU: 1})}")
        port = free_port()
        running.serve_deploy(serve_config(port))
        base = f"http://127.0.0.1:{port}"
        wait_for_health(base + "/health", timeout_s=300)
        yield running, base


def placement(cluster: Cluster) -> dict[str, set[str]]:
    """Which node each kind of actor runs on: the worker's id, or "head"."""
    (worker,) = [n for n in cluster.alive_nodes() if n["resources_total"].get(GPU)]
    where: dict[str, set[str]] = {}
    for actor in cluster.alive_actors():
        node = "worker" if actor["node_id"] == worker["node_id"] else "head"
        where.setdefault(actor["class_name"], set()).add(node)
    return where


def heard(script_line: str, transcript: str) -> bool:
    """A line of the script counts as heard when most of its words are in the transcript."""
    words = [w for w in re.findall(r"[a-z]+", script_line.lower()) if len(w) > 3]
    return sum(w in transcript for w in words) >= 0.6 * len(words)


async def test_the_transcriber_on_the_gpu_node_and_a_lost_node_costs_no_line(cluster) -> None:
    running, base = cluster
    mid = new_meeting_id("nodes")
    arrivals: list[tuple[float, dict[str, Any]]] = []
    first_final = asyncio.Event()

    def record(event: dict[str, Any]) -> None:
        arrivals.append((time.monotonic(), event))
        if event.get("type") == "transcript" and event["is_final"]:
            first_final.set()

    async with (
        httpx.AsyncClient(base_url=base, headers=AUTH, timeout=60) as http,
        Listener(f"{base.replace('http', 'ws')}/meeting/{mid}/ws") as listener,
    ):
        # A live sender: a microphone's pace, resuming on its own if its socket dropped.
        sender = asyncio.create_task(
            stream_file(
                base, mid, sample_meeting(), language="en", on_event=record, credential=TEST_KEY
            )
        )
        await asyncio.wait_for(first_final.wait(), 180)

        where = await asyncio.to_thread(placement, running)
        transcribers = {name: nodes for name, nodes in where.items() if "Transcriber" in name}
        assert transcribers and all(nodes == {"worker"} for nodes in transcribers.values())
        others = {name: nodes for name, nodes in where.items() if "Transcriber" not in name}
        assert any("MeetingHost" in name for name in others), where
        assert all(nodes == {"head"} for nodes in others.values()), where

        (worker,) = [n for n in running.nodes if n.name == "worker" and not n.killed]
        worker.kill()
        killed = time.monotonic()

        # The text path goes on meanwhile: lines in, terms out, from the head alone. A term of
        # its own, which no line of the recording brings.
        acronym = "".join(random.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(5))
        line = f"Our {acronym} cluster autoscaler keeps evicting pods."
        posted = await http.post(f"/meeting/{mid}/stt", json={"text": line, "is_final": True})
        assert posted.status_code == 200, posted.text
        await listener.wait_for(
            lambda events: any(
                e["type"] == "terms" and acronym.lower() in e["entity"].lower() for e in events
            ),
            within=120,
        )
        text_path_s = time.monotonic() - killed
        await asyncio.to_thread(running.wait_for_nodes, 1)

        await asyncio.to_thread(
            running.add_worker, "--num-cpus=0", f"--resources={json.dumps({GPU: 1})}"
        )
        restarted = time.monotonic()
        report = await asyncio.wait_for(sender, 420)

        lines = (await http.get(f"/meeting/{mid}/transcript")).json()["lines"]
    audio_lines = [entry for entry in lines if entry["text"] != line]
    transcript = " ".join(entry["text"] for entry in audio_lines).lower()
    lost = [script_line for script_line in SCRIPT if not heard(script_line, transcript)]
    counts = Counter(normalize_line(entry["text"]) for entry in audio_lines)
    duplicates = sum(count - 1 for count in counts.values())
    not_transcribed = [e for e in report.events if e.get("code") == "not_transcribed"]
    resumed = next(
        at
        for at, event in arrivals
        if at > restarted and event.get("type") == "transcript" and event["is_final"]
    )
    figures = {
        "audio_path_down_s": round(resumed - killed, 1),
        "seconds_to_resume_after_node_back": round(resumed - restarted, 1),
        "text_path_terms_while_down_s": round(text_path_s, 1),
        "lines_lost": len(lost) + len(not_transcribed),
        "duplicates": duplicates,
        "final_lines": len(audio_lines),
        "reconnects": report.reconnects,
    }
    print("TWO-NODE FIGURES", json.dumps(figures))
    assert not not_transcribed, not_transcribed
    assert lost == [], (lost, transcript)
    assert duplicates == 0, lines
    # The sender saw every line the meeting kept, in order.
    seen = [e["text"] for e in report.finals() if e["text"] != line]
    assert seen == [entry["text"] for entry in audio_lines]
    # And the Transcriber came back on the new worker node, nowhere else.
    where = await poll_until(
        lambda: asyncio.to_thread(placement, running),
        lambda found: any("Transcriber" in name for name in found),
        within=60,
    )
    assert all(nodes == {"worker"} for name, nodes in where.items() if "Transcriber" in name)
