"""What a load run prints and writes: the step table, the knee in words, the scaling summary
and the JSON report."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bench.audio_streams import report as audio_streams
from bench.common.paths import results_path
from bench.common.table import Column, cell, format_table
from bench.load.analysis import find_knee

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
