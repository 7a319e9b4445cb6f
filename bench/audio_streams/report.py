"""What audio_streams prints: the per-K table, and the side-by-side comparison with the
WhisperLive peer, which `--with-peer` runs in bench/.peer-venv."""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.audio_metrics import LAST_FINAL_COLUMN, LATENCY_COLUMNS, QUALITY_COLUMNS, KRow
from bench.common.paths import REPO_ROOT
from bench.common.table import Column, cell, format_table

PEER_PYTHON = REPO_ROOT / "bench" / ".peer-venv" / "bin" / "python"
PEER_MODULE = "bench.peer_whisperlive"


TABLE: list[Column[KRow]] = [
    *LATENCY_COLUMNS,
    LAST_FINAL_COLUMN,
    Column("term p50", 8, lambda r: cell(r["term_latency"]["p50"], 1)),
    Column("p95", 6, lambda r: cell(r["term_latency"]["p95"], 1)),
    Column("terms", 5, lambda r: str(sum(r["terms_per_stream"]))),
    *QUALITY_COLUMNS,
]


def table(rows: list[dict[str, Any]]) -> str:
    return format_table(TABLE, rows)


def run_peer(args: argparse.Namespace) -> dict[str, Any] | None:
    if not PEER_PYTHON.exists():
        print(f"--with-peer: {PEER_PYTHON} is missing; run bench/setup_peer.sh", flush=True)
        return None
    out = Path(tempfile.mkstemp(prefix="peer-", suffix=".json")[1])
    command = [
        str(PEER_PYTHON),
        "-m",
        PEER_MODULE,
        "--streams",
        ",".join(str(k) for k in args.peer_streams or args.streams),
        "--stagger",
        str(args.stagger),
        "--quiet-machine",
        str(args.quiet_machine),
        "--json-out",
        str(out),
    ]
    print("\n$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO_ROOT)
    return json.loads(out.read_text())


Pair = tuple[dict[str, Any], dict[str, Any]]  # Glossify's row and the peer's, for one K


def _versus(key: str, stat: str, title: str, width: int) -> tuple[Column[Pair], Column[Pair]]:
    """`G/P` of one latency statistic, and the ratio P/G."""

    def both(pair: Pair) -> str:
        return f"{cell(pair[0][key][stat])}/{cell(pair[1][key][stat])}"

    def ratio(pair: Pair) -> str:
        g, p = pair[0][key][stat], pair[1][key][stat]
        return cell(p / g if g and p is not None else None, 1)

    return Column(title, width, both), Column("x", 5, ratio)


COMPARISON: list[Column[Pair]] = [
    Column("K", 2, lambda pair: str(pair[0]["k"])),
    *_versus("final_latency", "p50", "final p50 G/P", 14),
    *_versus("final_latency", "p95", "p95 G/P", 13),
    *_versus("sentence_latency", "p50", "sentence p50 G/P", 17),
    Column("WER G/P", 13, lambda pair: f"{pair[0]['wer_mean']:.3f}/{pair[1]['wer_mean']:.3f}"),
    Column(
        "CPU% G/P",
        11,
        lambda pair: "/".join(
            cell(row["resources"]["streaming"]["cpu_mean_pct"], 0) for row in pair
        ),
    ),
]


def comparison(ours: list[dict[str, Any]], peer: list[dict[str, Any]]) -> str:
    """Glossify (G) and the peer (P) side by side for each K both ran."""
    by_k = {row["k"]: row for row in peer}
    return format_table(COMPARISON, [(row, by_k[row["k"]]) for row in ours if row["k"] in by_k])
