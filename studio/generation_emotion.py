"""The emotion label a generation row is filed under (the Library's emotion filter).

A request's emotion is not always the one the run used: voice ``--emotion auto`` reads it from
the text (the result's metadata says e.g. ``angry@0.584``), and a description can set it.  The
row records the emotion the run reports in its metadata, else the request's.  Mood words such as
``tender`` or ``calm`` are VAD points; the nearest anchor of such a point is often the origin
("neutral") although the point is clearly not neutral (no core label is calm or tender), so such
a point is filed under the core label it leans towards (largest cosine in VAD space: tender and
calm under happy, bittersweet under sad), and only a point near the origin under neutral.
The request JSON keeps the spec exactly as asked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pipelines.base import Request
from pipelines.emotion import EMOTIONS, VAD, EmotionError, EmotionSpec

NEUTRAL_RADIUS = 0.2
"""A VAD point (after intensity) closer than this to the origin is filed as neutral."""


def label_of(spec: EmotionSpec) -> str:
    """The core label a spec is filed under: its dominant (or nearest) label; a VAD point whose
    nearest anchor is neutral but that lies outside :data:`NEUTRAL_RADIUS`, the label whose
    anchor points the same way."""
    if spec.vad_point is None or spec.label != "neutral":
        return spec.label
    point = spec.vad()
    norm = math.sqrt(sum(x * x for x in point))
    if norm < NEUTRAL_RADIUS:
        return "neutral"

    def cosine(label: str) -> float:
        anchor = VAD[label]
        return sum(p * a for p, a in zip(point, anchor, strict=True)) / (
            norm * math.sqrt(sum(a * a for a in anchor))
        )

    return max((e for e in EMOTIONS if e != "neutral"), key=cosine)


def requested_label(req: Request) -> str | None:
    """The label of the request's own emotion (what a queued or running row shows)."""
    spec = getattr(req, "emotion", None)
    if isinstance(spec, EmotionSpec) and req.emotion_label is not None:
        return label_of(spec)
    return req.emotion_label


def used_label(req: Request, metadata: Mapping[str, Any]) -> str | None:
    """The label of the emotion the run used: the result's ``metadata["emotion"]`` when it
    reports one (voice, portrait), else the request's."""
    reported = metadata.get("emotion")
    if isinstance(reported, str):
        try:
            return label_of(EmotionSpec.parse(reported))
        except EmotionError:
            pass
    return requested_label(req)
