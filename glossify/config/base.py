"""What every settings block shares: strict models, the one error type, and value checks."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the setting."""


class Strict(BaseModel):
    """Unknown keys are errors (a typo must not be ignored) and settings never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_url(value: str | None, *, https_only: bool) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"must be an {' or '.join(s + '://' for s in schemes)} URL, got {value!r}")
    return value.rstrip("/")


def check_ca_file(value: str | None) -> str | None:
    if value is not None and not Path(value).is_file():
        raise ValueError(f"no such file: {value}")
    return value
