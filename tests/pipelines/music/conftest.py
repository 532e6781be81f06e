"""Fixtures for the music tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from music_midi import NoteSpec, make_midi, midi_bytes


@pytest.fixture()
def write_midi(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, parts: Iterable[Iterable[NoteSpec]], **kw: object) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(midi_bytes(make_midi(parts, **kw)))  # type: ignore[arg-type]
        return path

    return write
