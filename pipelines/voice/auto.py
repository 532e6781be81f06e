"""Emotion "auto": read the emotion and its intensity from the text itself.

The dialogue tab's understanding model (:mod:`pipelines.dialogue.understand`: nade's Plutchik
scores, VADER and our cue words) reads the whole text once; its label and intensity become the
voice's emotion, and what it read is reported with the result.
"""

from __future__ import annotations

import functools
from typing import Any

from pipelines.emotion import EmotionSpec

AUTO = "auto"
"""The word that asks for it on the command line and in the tabs."""


@functools.lru_cache(maxsize=1)
def _reader() -> Any:
    """The understanding model, loaded once per process (about 2 s); ``read`` is reentrant."""
    from pipelines.dialogue.understand import EmotionReader

    return EmotionReader.load()


def read_emotion(text: str) -> tuple[EmotionSpec, dict[str, Any]]:
    """The emotion to speak ``text`` in, and what the model read (label, intensity, confidence,
    the cue and cause words) for the result's metadata."""
    u = _reader().read(text)
    spec = u.spec
    reading = {
        "label": u.label,
        "intensity": round(float(u.intensity), 3),
        "confidence": round(float(u.confidence), 3),
        "emotion": str(spec),
        "cause_words": [w for w, _ in u.cause_words],
        "cues": list(u.cues),
        "english": bool(u.english),
    }
    return spec, reading


def describe(reading: dict[str, Any]) -> str:
    """One line for the user: what was read and how sure the model was."""
    words = ", ".join(reading.get("cause_words", [])[:3])
    why = f" (from: {words})" if words else ""
    return (
        f"Emotion read from the text: {reading['emotion']} "
        f"(confidence {reading['confidence']:.0%}){why}."
    )
