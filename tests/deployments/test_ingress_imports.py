"""The ingress process stays light: Whisper, the LLM, spaCy and the Azure SDKs live elsewhere."""

from __future__ import annotations

from tests.imports import packages_loaded_by

HEAVY = {"faster_whisper", "ctranslate2", "xllamacpp", "spacy", "azure", "openai"}


def test_ingress_imports_none_of_the_backends_in_a_fresh_interpreter() -> None:
    loaded = packages_loaded_by(
        "import glossify.deployments.ingress, glossify.audio.stream, glossify.audio.utterances"
    )
    assert loaded.isdisjoint(HEAVY), sorted(loaded & HEAVY)
