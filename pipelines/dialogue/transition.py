"""Personality-affected emotion transition (after PELD): the reply's emotion in VAD space.

    reply = previous agent emotion + Δ, with Δ from the user's emotion and the Big-Five traits.

With p the agent's previous VAD (neutral when unknown), u the user's detected VAD
(intensity-scaled) and the traits O, C, E, A, N in [0, 1] (0.5 = average):

    k_v = K_V0 + K_VA·A                       how far valence follows the user's (empathy)
    v   = p_v + k_v·(u_v − p_v) + K_VE·(E − ½) − K_VN·(N − ½)·[u_v < 0]
    k_a = K_A0 + K_AA·A + K_AO·O              how far arousal follows the user's
    a   = (p_a + k_a·(u_a − p_a))·(1 + K_AN·(N − ½)) + K_AE·(E − ½)
    d   = p_d + K_D·(D* − p_d),  D* = D0 + K_DC·(C − ½) − K_DN·(N − ½)

then every step is damped by conscientiousness — Δ ·= 1 − K_C·(C − ½) — and clamped to
[-1, 1]. So an agreeable persona moves toward the user's valence, a neurotic one amplifies
arousal (and darkens its valence when the user is negative), an extravert is brighter and
livelier, a conscientious one steadier. The reply's core label is the nearest anchor; its
EmpatheticDialogues label the nearest of the 32 (:data:`pipelines.emotion.ED_VAD`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipelines.emotion import (
    ED_VAD,
    EMPATHETIC_DIALOGUES_LABELS,
    VAD,
    EmotionSpec,
    Vad,
    nearest_label,
)

K_V0, K_VA, K_VE, K_VN = 0.15, 0.6, 0.3, 0.3
K_A0, K_AA, K_AO, K_AN, K_AE = 0.1, 0.3, 0.2, 1.2, 0.2
K_D, D0, K_DC, K_DN = 0.5, 0.2, 0.3, 0.4
K_C = 0.6


@dataclass(frozen=True)
class ReplyPlan:
    """The reply emotion the transition chose, and how it got there."""

    previous: Vad
    user: Vad
    vad: Vad
    label: str
    """Core label nearest to ``vad``."""
    ed_label: str
    """EmpatheticDialogues label nearest to ``vad`` (what the prompt asks for)."""
    intensity: float

    @property
    def spec(self) -> EmotionSpec:
        return EmotionSpec.of(self.label, self.intensity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous_vad": [round(x, 3) for x in self.previous],
            "user_vad": [round(x, 3) for x in self.user],
            "vad": [round(x, 3) for x in self.vad],
            "label": self.label,
            "ed_label": self.ed_label,
            "intensity": self.intensity,
            "spec": str(self.spec),
        }


def _clamp(x: float) -> float:
    return max(-1.0, min(1.0, x))


def plan_reply(previous: Vad | None, user: Vad, traits: Mapping[str, float]) -> ReplyPlan:
    """The reply's emotion from the agent's previous emotion, the user's and the traits."""
    p = previous or (0.0, 0.0, 0.0)
    o, c, e, a, n = (
        float(traits.get(k, 0.5))
        for k in ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
    )
    k_v = K_V0 + K_VA * a
    v = p[0] + k_v * (user[0] - p[0]) + K_VE * (e - 0.5) - K_VN * (n - 0.5) * (user[0] < 0)
    k_a = K_A0 + K_AA * a + K_AO * o
    ar = (p[1] + k_a * (user[1] - p[1])) * (1 + K_AN * (n - 0.5)) + K_AE * (e - 0.5)
    target_d = D0 + K_DC * (c - 0.5) - K_DN * (n - 0.5)
    d = p[2] + K_D * (target_d - p[2])
    damp = 1 - K_C * (c - 0.5)
    vad = (
        _clamp(p[0] + damp * (v - p[0])),
        _clamp(p[1] + damp * (ar - p[1])),
        _clamp(p[2] + damp * (d - p[2])),
    )
    label = nearest_label(vad)
    anchor = VAD[label]
    norm = math.sqrt(sum(x * x for x in anchor))
    intensity = 1.0 if norm == 0 else sum(x * y for x, y in zip(vad, anchor, strict=True)) / norm**2
    ed = min(
        EMPATHETIC_DIALOGUES_LABELS,
        key=lambda k: sum((x - y) ** 2 for x, y in zip(vad, ED_VAD[k], strict=True)),
    )
    return ReplyPlan(
        previous=p,
        user=user,
        vad=(round(vad[0], 4), round(vad[1], 4), round(vad[2], 4)),
        label=label,
        ed_label=ed,
        intensity=round(min(1.0, max(0.1, intensity)), 2),
    )
