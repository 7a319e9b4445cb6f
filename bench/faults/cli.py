"""The command line of `python -m bench.faults` (see bench/faults/__init__.py).

The faults are injected through the Ray cluster this process starts, so the bench runs its own
local stack (no --url). Scenarios run one after the other, each in a fresh meeting, each
waiting until the stack has healed before the next starts. The TermExplainer kill runs first,
while the shared explanation cache is still cold (later meetings would find their terms
there and have no generation in flight); the stop faults run last, because their upserts fill
the organisation glossary the other meetings would read.

The stack reaches its PostgreSQL through a CuttableProxy (bench/faults/database.py) in every
row, the control included, so that the database faults differ from it by the outage only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import faults as package
from bench.common.paths import results_path
from bench.common.processes import machine_info
from bench.common.stack import open_stack
from bench.common.table import Column, cell, format_table
from bench.faults import scenarios
from bench.faults.database import CuttableDatabase
from glossify.cli.demo import sample_meeting

# In run order (see the module's docstring).
SCENARIOS: dict[str, scenarios.Scenario] = {
    "explainer_killed": scenarios.explainer_killed,
    "none": scenarios.no_fault,
    "transcriber_killed": scenarios.transcriber_killed,
    "ingress_killed": scenarios.ingress_killed,
    "host_killed_during_audio": scenarios.host_killed_during_audio,
    "detector_hangs": scenarios.detector_hangs,
    "database_outage": scenarios.database_outage,
    "host_killed_during_stop": scenarios.host_killed_during_stop,
    "database_outage_at_stop": scenarios.database_outage_at_stop,
}
# Faults of issue 11 with no scenario here yet, and why; reported as not run.
NOT_YET = {
    "worker_node_lost": "the worker node of a two-node cluster: tests/serve/test_cluster.py "
    "(a local stack is one node)",
}
# The sample meeting is sent as fast as the stack reads it: 8x real time, as in the tests.
DEFAULT_APP_ARGS = {"audio": {"max_speed": 8.0}}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults", description=(package.__doc__ or "").splitlines()[0]
    )
    add = parser.add_argument
    add(
        "--faults",
        default=",".join(SCENARIOS),
        help="comma-separated, from: " + ", ".join(SCENARIOS),
    )
    add("--port", type=int, default=8041, help="port of the stack this script starts")
    add("--tiny-llm", action="store_true", help="SmolLM2-135M explainer instead of Qwen 1.5B")
    add("--app-args", default=json.dumps(DEFAULT_APP_ARGS), help="Serve app args as JSON")
    add("--audio", type=Path, default=sample_meeting(), help="WAV with a .txt script beside it")
    add("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    args.faults = [name.strip() for name in args.faults.split(",") if name.strip()]
    unknown = set(args.faults) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    args.url = None  # open_stack: always a stack of our own
    return args


def table(rows: list[dict[str, Any]], markdown: bool = False) -> str:
    """Lines lost of the script's; terms lost of those shown before the fault; all terms."""
    columns: list[Column[dict[str, Any]]] = [
        Column("fault", 26, lambda r: r["fault"], align="<"),
        Column("lines lost", 10, lambda r: f"{r['final_lines_lost']}/{r['script_lines']}"),
        Column("terms lost", 10, lambda r: f"{r['terms_lost']}/{r['terms_before_fault']}"),
        Column("terms", 5, lambda r: str(r["terms"])),
        Column("duplicated", 10, lambda r: str(r["events_duplicated"])),
        Column("captions resumed s", 18, lambda r: cell(r["captions_resumed_s"], 1)),
        Column("replaced s", 10, lambda r: cell(r.get("replaced_s"), 1)),
        Column("healed s", 8, lambda r: cell(r.get("healed_s"), 1)),
        Column("journal caught up s", 19, lambda r: cell(r.get("journal_caught_up_s"), 1)),
    ]
    return format_table(columns, rows, markdown=markdown)


async def run_all(target: scenarios.Target, names: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        began = time.monotonic()
        print(f"-- {name}", flush=True)
        outcome = await SCENARIOS[name](target)
        took_s = round(time.monotonic() - began, 1)
        row = outcome.row() | {"script_lines": len(target.script), "took_s": took_s}
        print(table([row]).splitlines()[1], flush=True)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    cuttable: list[CuttableDatabase] = []  # the one open_stack puts the database behind

    @contextmanager
    def through_proxy(direct_url: str) -> Iterator[str]:
        with CuttableDatabase(direct_url) as database:
            cuttable.append(database)
            yield database.url

    with open_stack(args, database_through=through_proxy) as (base_url, _):
        from glossify.cli.local_stack import APP_NAME, cli_credential
        from glossify.config.settings import load_config

        config = load_config(json.loads(args.app_args)).model_copy(update={"app_name": APP_NAME})
        target = scenarios.Target.of(
            base_url, cli_credential(), config, args.audio, database=cuttable[0]
        )
        rows = asyncio.run(run_all(target, args.faults))
    report = {
        "started": started,
        "machine": machine_info(),
        "app_args": json.loads(args.app_args),
        "tiny_llm": args.tiny_llm,
        "audio": str(args.audio),
        "rows": rows,
        "not_run": NOT_YET,
    }
    out = args.json_out or results_path("faults")
    out.write_text(json.dumps(report, indent=1))
    print(table(rows))
    print(f"wrote {out}")
    return 0
