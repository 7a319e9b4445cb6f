"""Backend tables: a backend's name -> ``"module:Class"``, imported only when it is chosen.

A replica loads the libraries of its own backend and no other: the local stack never imports
the Azure SDKs, and an Azure deployment never loads llama.cpp or spaCy.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any


def import_backend(table: Mapping[str, str], name: str) -> Any:
    """The class that ``table`` names for backend ``name``, imported now."""
    try:
        location = table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise ValueError(f"unknown backend {name!r} (known: {known})") from None
    module_name, _, class_name = location.partition(":")
    return getattr(importlib.import_module(module_name), class_name)
