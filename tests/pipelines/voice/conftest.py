from __future__ import annotations

import pytest

from pipelines.base import LoadSettings
from pipelines.voice.measure import EVERYDAY_SENTENCES
from pipelines.voice.piper import PiperBackend

SENTENCES = EVERYDAY_SENTENCES


@pytest.fixture(scope="session")
def piper() -> PiperBackend:
    return PiperBackend.load(LoadSettings())
