"""Reading emotion and boundaries back from a reply (DESIGN §7): used by the turn pipeline,
the tests, the benchmarks and the tab."""

from __future__ import annotations

from typing import Any

from pipelines.dialogue.safety import classify
from pipelines.dialogue.understand import EmotionReader, words_of


def measure_reply(reader: EmotionReader, reply: str) -> dict[str, Any]:
    """The reply's detected emotion, valence, length and Beyond-No patterns."""
    u = reader.read(reply) if reply.strip() else None
    return {
        "emotion": u.label if u else "neutral",
        "ed_label": u.ed_label if u else "content",
        "sentiment": u.sentiment if u else 0.0,
        "words": len(words_of(reply)),
        "patterns": [p for p, on in classify(reply).items() if on],
    }


def speaking_seconds(text: str, words_per_second: float = 2.5) -> float:
    """How long the reply takes to say at a calm 150 words a minute (at least 0.5 s)."""
    return max(0.5, round(len(text.split()) / words_per_second, 2))
