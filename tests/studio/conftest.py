from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.settings import Services, Settings


@pytest.fixture()
def services(tmp_path: Path) -> Iterator[Services]:
    with Services.open(Settings(data_dir=tmp_path / "data")) as svc:
        yield svc
