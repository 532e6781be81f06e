from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from projects_db import GenerationInfo, Store


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "studio_data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    with Store.open(data_dir) as opened:
        yield opened


def new_generation(store: Store, project_id: int, **overrides: Any) -> GenerationInfo:
    """A queued generation with sensible defaults."""
    fields: dict[str, Any] = {
        "task": "voice",
        "backend": "tiny",
        "backend_version": "1.0",
        "request": {"text": "hello", "emotion": {"label": "happy", "intensity": 0.5}},
        "seed": 1234,
        "emotion": "happy",
    }
    fields.update(overrides)
    return store.create_generation(project_id, **fields)
