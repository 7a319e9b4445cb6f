"""The machine: CUDA devices CTranslate2 sees, the GPU as nvidia-smi lists it, and its memory
sampled while the check runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from typing import Any

NVIDIA_SMI_TIMEOUT_S = 10.0


def cuda_devices() -> tuple[int, str]:
    """(CUDA devices CTranslate2 sees, why none when 0)."""
    try:
        import ctranslate2
    except ImportError as error:  # the engine could not run at all: a broken install
        raise SystemExit(f"gpu_check: CTranslate2 is not installed ({error})") from error
    try:
        count = ctranslate2.get_cuda_device_count()
    except RuntimeError as error:  # a driver that cannot be loaded reads as no GPU
        return 0, f"CTranslate2 cannot query CUDA ({error})"
    if count == 0:
        where = "no NVIDIA driver" if shutil.which("nvidia-smi") is None else "driver present"
        return 0, f"CTranslate2 {ctranslate2.__version__} sees no CUDA device ({where})"
    return count, ""


def _smi_index() -> str:
    # nvidia-smi ignores CUDA_VISIBLE_DEVICES; CTranslate2 uses the first visible device.
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    return visible if visible.isdigit() else "0"


def nvidia_smi(query: str) -> list[str] | None:
    """One `nvidia-smi --query-gpu` row for the GPU in use, or None without nvidia-smi."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        answer = subprocess.run(
            [
                "nvidia-smi",
                f"--query-gpu={query}",
                "--format=csv,noheader,nounits",
                f"--id={_smi_index()}",
            ],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    rows = answer.stdout.strip().splitlines()
    return [cell.strip() for cell in rows[0].split(",")] if rows else None


def gpu_info() -> dict[str, Any] | None:
    row = nvidia_smi("name,memory.total,driver_version")
    if row is None or len(row) < 3:
        return None
    name, total, driver = row[:3]
    return {"name": name, "memory_total_mib": _int(total), "driver": driver}


def _int(text: str) -> int | None:
    try:
        return int(float(text))
    except ValueError:
        return None


class MemoryPeak:
    """The GPU's used memory, sampled from nvidia-smi while the check runs.

    CTranslate2 has no memory statistics of its own; the whole card is read, so what other
    processes hold counts too (nothing else runs on the device machine).
    """

    def __init__(self, interval_s: float = 0.5) -> None:
        self.baseline_mib = self._read()
        self.peak_mib = self.baseline_mib
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _read() -> int | None:
        row = nvidia_smi("memory.used")
        return _int(row[0]) if row else None

    def _sample(self) -> None:
        while not self._stop.wait(self._interval_s):
            used = self._read()
            if used is not None:
                self.peak_mib = max(self.peak_mib or 0, used)

    def __enter__(self) -> MemoryPeak:
        if self.baseline_mib is not None:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def report(self) -> dict[str, int | None]:
        added = None
        if self.peak_mib is not None and self.baseline_mib is not None:
            added = self.peak_mib - self.baseline_mib
        return {"baseline_mib": self.baseline_mib, "peak_mib": self.peak_mib, "added_mib": added}


class NoMemory:
    """MemoryPeak's stand-in on the CPU."""

    def __enter__(self) -> NoMemory:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def report(self) -> dict[str, int | None]:
        return {"baseline_mib": None, "peak_mib": None, "added_mib": None}
