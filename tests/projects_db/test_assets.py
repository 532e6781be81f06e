from __future__ import annotations

from pathlib import Path

import pytest

from projects_db import NotFound, Store, StoreError


def _stored_files(store: Store) -> list[Path]:
    return sorted(p for p in (store.data_dir / "assets").rglob("*") if p.is_file())


def test_same_content_is_stored_once(store: Store, tmp_path: Path) -> None:
    first = store.add_asset(b"portrait bytes", "me.png")
    again = store.add_asset(b"portrait bytes", "copy of me.PNG")
    source = tmp_path / "upload.png"
    source.write_bytes(b"portrait bytes")
    from_file = store.add_asset(source, "upload.png")
    assert first == again == from_file
    assert first.original_name == "me.png"
    assert first.size == len(b"portrait bytes")
    assert first.path.read_bytes() == b"portrait bytes"
    # stored under its content hash, with the user's own name (messages name their file)
    assert first.path == store.data_dir / "assets" / first.sha256[:2] / first.sha256 / "me.png"
    assert _stored_files(store) == [first.path]
    other = store.add_asset(b"other", "me.png")
    assert other.id != first.id
    assert len(_stored_files(store)) == 2
    assert store.get_asset(first.id) == first


def test_original_name_is_display_text_only(store: Store) -> None:
    asset = store.add_asset(b"secret?", "../../etc/passwd")
    assert asset.original_name == "passwd"
    assert asset.path.is_relative_to(store.data_dir / "assets")
    assert asset.path.name == "passwd"
    assert asset.path.parent.name == asset.sha256
    weird = store.add_asset(b"x", "..\\..\\evil\x00name.w;av")
    assert "\x00" not in weird.original_name
    assert weird.path.is_relative_to(store.data_dir / "assets")
    assert weird.path.name == "evilname.w;av"
    dots = store.add_asset(b"dots", "..")
    assert dots.path.name == "file" and dots.path.parent.name == dots.sha256
    long = store.add_asset(b"long", "é" * 300 + ".wav")
    assert long.path.suffix == ".wav" and len(long.path.name.encode()) <= 200
    assert long.path.read_bytes() == b"long"


def test_large_file_from_disk(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "speech.wav"
    data = bytes(range(256)) * 20_000  # several read chunks
    source.write_bytes(data)
    asset = store.add_asset(source, "speech.wav")
    assert asset.size == len(data)
    assert asset.path.read_bytes() == data


def test_missing_source_and_unknown_asset(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        store.add_asset(tmp_path / "nope.png", "nope.png")
    with pytest.raises(NotFound):
        store.get_asset(42)
    assert _stored_files(store) == []


def test_deleted_file_is_restored_on_re_add(store: Store) -> None:
    asset = store.add_asset(b"content", "a.txt")
    asset.path.unlink()
    assert store.add_asset(b"content", "a.txt") == asset
    assert asset.path.read_bytes() == b"content"
