from __future__ import annotations

import errno
from pathlib import Path

import pytest

from projects_db import ArtifactStore, StoreError


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path)


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_generation_dirs_are_unique(artifacts: ArtifactStore, tmp_path: Path) -> None:
    assert artifacts.root == tmp_path.resolve() / "artifacts"
    dirs = {artifacts.generation_dir(p, g) for p in (1, 2, 12) for g in (1, 2, 21)}
    assert len(dirs) == 9
    assert artifacts.generation_dir(1, 21) != artifacts.generation_dir(12, 1)
    with pytest.raises(StoreError):
        artifacts.generation_dir(0, 1)


def test_write_uses_temp_with_suffix_then_renames(artifacts: ArtifactStore) -> None:
    seen: list[Path] = []

    def write_fn(path: Path) -> None:
        seen.append(path)
        assert path.suffix == ".wav"
        assert path.name.startswith(".take_1.tmp-")
        path.write_bytes(b"RIFF")

    rel = artifacts.write(3, 7, "Take 1", ".WAV", write_fn)
    assert rel == "artifacts/p3/g7/take_1.wav"
    assert artifacts.resolve(rel).read_bytes() == b"RIFF"
    assert not seen[0].exists()
    assert _files(artifacts.generation_dir(3, 7)) == ["take_1.wav"]
    rel2 = artifacts.write_bytes(3, 7, "take_1", ".wav", b"second")  # replaces atomically
    assert rel2 == rel
    assert artifacts.resolve(rel).read_bytes() == b"second"
    assert _files(artifacts.generation_dir(3, 7)) == ["take_1.wav"]


def test_failed_write_leaves_nothing(artifacts: ArtifactStore) -> None:
    def broken(path: Path) -> None:
        path.write_bytes(b"half a file")
        raise RuntimeError("encoder crashed")

    with pytest.raises(RuntimeError, match="encoder crashed"):
        artifacts.write(1, 1, "video", ".mp4", broken)
    assert _files(artifacts.generation_dir(1, 1)) == []


def test_failed_write_keeps_previous_version(artifacts: ArtifactStore) -> None:
    artifacts.write_bytes(1, 1, "video", ".mp4", b"good")

    def broken(path: Path) -> None:
        path.write_bytes(b"bad")
        raise ValueError("nope")

    with pytest.raises(ValueError):
        artifacts.write(1, 1, "video", ".mp4", broken)
    assert _files(artifacts.generation_dir(1, 1)) == ["video.mp4"]
    assert artifacts.resolve("artifacts/p1/g1/video.mp4").read_bytes() == b"good"


def test_disk_full_becomes_store_error(artifacts: ArtifactStore) -> None:
    def full(path: Path) -> None:
        path.write_bytes(b"x")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(StoreError, match=r"Disk full while writing .*free space and re-run"):
        artifacts.write(1, 2, "audio", ".wav", full)
    assert _files(artifacts.generation_dir(1, 2)) == []


def test_writer_that_writes_nothing(artifacts: ArtifactStore) -> None:
    with pytest.raises(StoreError, match="produced no file"):
        artifacts.write(1, 3, "audio", ".wav", lambda path: None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Audio", "audio"), ("my take #2", "my_take_2"), ("../../etc/passwd", "etc_passwd")],
)
def test_names_are_sanitised(artifacts: ArtifactStore, name: str, expected: str) -> None:
    rel = artifacts.write_bytes(1, 1, name, ".txt", b"x")
    assert rel == f"artifacts/p1/g1/{expected}.txt"


@pytest.mark.parametrize("name", ["", "...", "///", "💥"])
def test_unusable_names(artifacts: ArtifactStore, name: str) -> None:
    with pytest.raises(StoreError, match="no usable characters"):
        artifacts.write_bytes(1, 1, name, ".txt", b"x")


@pytest.mark.parametrize("suffix", ["/../x", ".w/v", "wav", ". wav"])
def test_bad_suffixes(artifacts: ArtifactStore, suffix: str) -> None:
    with pytest.raises(StoreError, match="suffix"):
        artifacts.write_bytes(1, 1, "a", suffix, b"x")


@pytest.mark.parametrize(
    "relative",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "artifacts/../../outside",
        "artifacts/p1/../../../x",
        "C:\\Windows\\system.ini",
        "",
        ".",
    ],
)
def test_resolve_rejects_escapes(artifacts: ArtifactStore, relative: str) -> None:
    with pytest.raises(StoreError):
        artifacts.resolve(relative)


def test_resolve_rejects_symlink_out(artifacts: ArtifactStore, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    artifacts.root.mkdir(parents=True)
    (artifacts.root / "link").symlink_to(outside)
    with pytest.raises(StoreError):
        artifacts.resolve("artifacts/link/file")


def test_remove(artifacts: ArtifactStore) -> None:
    artifacts.write_bytes(1, 1, "a", ".bin", b"1")
    artifacts.write_bytes(1, 2, "a", ".bin", b"2")
    artifacts.remove_generation(1, 1)
    assert not artifacts.generation_dir(1, 1).exists()
    assert artifacts.generation_dir(1, 2).exists()
    artifacts.remove_generation(1, 1)  # nothing left: fine
    artifacts.remove_project(1)
    assert not artifacts.project_dir(1).exists()
