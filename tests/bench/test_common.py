"""bench.common (the table formatter, stop_meetings) and the benchmarks as `python -m` modules."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.common.paths import REPO_ROOT
from bench.common.stack import MeetingStop, stop_meetings
from bench.common.table import Column, cell, format_table
from bench.load.records import ListenerRun, MeetingRun

COLUMNS: list[Column[dict[str, Any]]] = [
    Column("name", 6, lambda r: r["name"], align="<"),
    Column("p50", 5, lambda r: cell(r["p50"])),
    Column("a | b", 0, lambda r: f"{r['a']} | {r['b']}", gap="   "),
]
ROWS = [
    {"name": "one", "p50": 1.234, "a": 1, "b": 2},
    {"name": "longer name", "p50": None, "a": 3, "b": 4},
]


def test_plain_table_pads_each_column_and_never_cuts() -> None:
    assert format_table(COLUMNS, ROWS).splitlines() == [
        "name     p50   a | b",
        "one     1.23   1 | 2",
        "longer name     -   3 | 4",
    ]


def test_markdown_table() -> None:
    assert format_table(COLUMNS, ROWS, markdown=True).splitlines() == [
        "| name | p50 | a \\| b |",
        "|:---|---:|---:|",
        "| one | 1.23 | 1 \\| 2 |",
        "| longer name | - | 3 \\| 4 |",
    ]


def test_cell() -> None:
    assert cell(None) == "-"
    assert cell(0.1234, 0, 1e3) == "123"
    assert cell(2.0, 1) == "2.0"


async def test_stop_meetings_posts_waits_and_reads_the_final_status() -> None:
    status_reads: dict[str, int] = {}

    async def stop(request: web.Request) -> web.Response:
        known = request.match_info["id"] != "unknown"
        return web.json_response({}, status=202 if known else 404)

    async def status(request: web.Request) -> web.Response:
        meeting = request.match_info["id"]
        status_reads[meeting] = status_reads.get(meeting, 0) + 1
        running = meeting == "slow" and status_reads[meeting] == 1
        return web.json_response({"status": "running" if running else "done", "upserted": 2})

    app = web.Application()
    app.router.add_post("/meeting/{id}/stop", stop)
    app.router.add_get("/meeting/{id}/stop/status", status)
    # A meeting whose listener already saw upsert_done is not polled before the final read.
    heard = MeetingRun("heard", 0, listeners=[ListenerRun(events=[(1.0, {"type": "upsert_done"})])])
    meetings = [MeetingStop("slow"), MeetingStop("unknown"), heard]
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        base_url = str(server.make_url("")).rstrip("/")
        waited = await stop_meetings(session, base_url, meetings, timeout_s=30)
        assert 1.0 <= waited < 30
        assert [m.stop_http for m in meetings] == [202, 404, 202]
        assert all(m.stop_status == {"status": "done", "upserted": 2} for m in meetings)
        assert status_reads == {"slow": 3, "unknown": 1, "heard": 1}

        status_reads.clear()
        again = [MeetingStop("slow")]
        assert await stop_meetings(session, base_url, again, timeout_s=0) < 1.0
        assert status_reads == {"slow": 1}  # stopped, not waited for: the final read only
        assert again[0].stop_status == {"status": "running", "upserted": 2}


BENCHMARKS = ["load", "audio_streams", "batched_decoding", "term_detection", "peer_whisperlive"]


@pytest.mark.parametrize("name", BENCHMARKS)
def test_each_benchmark_runs_as_a_module(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m bench.{name} ")


# What bench/.peer-venv has beside the standard library (bench/setup_peer.sh); the repository's
# own packages come from the working directory.
PEER_VENV = ("numpy", "psutil", "websockets", "bench", "glossify")
PEER_IMPORTS = f"""
import importlib.abc
import sys

allowed = set(sys.stdlib_module_names) | set({PEER_VENV!r})


class NotInThePeerVenv(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] not in allowed:
            raise ModuleNotFoundError(f"not in bench/.peer-venv: {{name}}")
        return None


sys.meta_path.insert(0, NotInThePeerVenv())
import bench.peer_whisperlive.__main__
import bench.peer_whisperlive.server
"""


def test_the_peer_imports_only_what_its_venv_has() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PEER_IMPORTS],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
