"""The ingress process stays light: Whisper, the LLM, spaCy and the Azure SDKs live elsewhere."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("faster_whisper", "ctranslate2", "xllamacpp", "spacy", "azure", "openai")


def test_ingress_imports_none_of_the_backends_in_a_fresh_interpreter() -> None:
    probe = (
        "import sys\n"
        "import glossify.deployments.ingress, glossify.audio.stream, glossify.audio.utterances\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
