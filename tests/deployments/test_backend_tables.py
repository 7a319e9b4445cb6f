"""The backend tables: one entry per configurable backend, each class built the same way,
and a local backend that loads no remote SDK."""

from __future__ import annotations

from typing import get_args

import pytest

from glossify.backend_table import import_backend
from glossify.config.backends import DetectorConfig, ExplainerConfig
from glossify.explain.explainer import EXPLAINERS
from glossify.terms.detector import DETECTORS
from tests.imports import packages_loaded_by

REMOTE_SDKS = ("azure", "openai")


@pytest.mark.parametrize(
    ("table", "section", "methods"),
    [
        (DETECTORS, DetectorConfig, ("from_config", "detect", "health", "close")),
        (EXPLAINERS, ExplainerConfig, ("from_config", "start", "explain", "health", "close")),
    ],
    ids=["detectors", "explainers"],
)
def test_every_configurable_backend_has_a_class_with_the_interface(
    table: dict[str, str], section: type, methods: tuple[str, ...]
) -> None:
    assert set(table) == set(get_args(section.model_fields["backend"].annotation))
    for name in table:
        backend_class = import_backend(table, name)
        missing = [method for method in methods if not callable(getattr(backend_class, method))]
        assert not missing, f"{name}: {backend_class.__name__} lacks {missing}"


def test_an_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown backend 'vertex' \(known: azure, local\)"):
        import_backend(DETECTORS, "vertex")


def test_the_local_backends_import_no_remote_sdk() -> None:
    loaded = packages_loaded_by(
        "from glossify.backend_table import import_backend\n"
        "from glossify.explain.explainer import EXPLAINERS\n"
        "from glossify.terms.detector import DETECTORS\n"
        "import_backend(DETECTORS, 'local'), import_backend(EXPLAINERS, 'local')\n"
        "import glossify.deployments.detector, glossify.deployments.explainer\n"
    )
    assert loaded.isdisjoint(REMOTE_SDKS), sorted(loaded & set(REMOTE_SDKS))
