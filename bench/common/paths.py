"""Where the repository, the shared recordings and data, and the benchmark results are."""

from __future__ import annotations

from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_AUDIO = REPO_ROOT.parent / "shared" / "audio"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
RESULTS_DIR = REPO_ROOT / "bench" / "results"


def results_path(name: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    return RESULTS_DIR / f"{name}-{date.today().isoformat()}.json"
