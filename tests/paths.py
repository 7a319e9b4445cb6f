"""Where the tests find the repository and the shared test data (``../shared`` beside the clone)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
SHARED_AUDIO = SHARED / "audio"
SHARED_DATA = SHARED / "data"
