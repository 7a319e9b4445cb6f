"""What a piece of code drags in: top-level packages loaded in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys


def packages_loaded_by(code: str) -> set[str]:
    """Top-level package names in ``sys.modules`` after running ``code`` in a new interpreter."""
    report = "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    probe = f"import json, sys\n{code}\n{report}\n"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))
