"""The term-detector interface, and which class serves each detector backend."""

from __future__ import annotations

from typing import Any, Protocol, Self

from glossify.backend_table import import_backend
from glossify.config.backends import DetectorConfig
from glossify.terms.candidates import Candidate


class DetectorBackend(Protocol):
    """What a TermDetector replica runs: candidate terms in one line of a meeting."""

    @classmethod
    def from_config(cls, config: DetectorConfig) -> Self: ...

    async def detect(self, text: str, language: str | None) -> list[Candidate]: ...

    def health(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


# Every value of DetectorConfig.backend, and the class that serves it.
DETECTORS: dict[str, str] = {
    "local": "glossify.terms.local.backend:LocalDetector",
    "azure": "glossify.terms.azure:AzureTermDetector",
}


def make_detector(config: DetectorConfig) -> DetectorBackend:
    detector_class: type[DetectorBackend] = import_backend(DETECTORS, config.backend)
    return detector_class.from_config(config)
