from __future__ import annotations

import pytest

from pipelines.base import LoadSettings
from pipelines.dialogue.smollm import SmolLMBackend
from pipelines.dialogue.tiny import TinyDialogueBackend
from pipelines.dialogue.understand import EmotionReader


@pytest.fixture(scope="session")
def smollm() -> SmolLMBackend:
    """The default backend on the real bundled model, loaded once for the whole run."""
    return SmolLMBackend.load(LoadSettings())


@pytest.fixture(scope="session")
def reader(smollm: SmolLMBackend) -> EmotionReader:
    return smollm.reader


@pytest.fixture(scope="session")
def tiny() -> TinyDialogueBackend:
    return TinyDialogueBackend.load(LoadSettings())
