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
livelier, a conscientious one steadier. The reply's core label and intensity come from
:func:`label_by_direction` (the user's own emotion when the reply points their way), and its
EmpatheticDialogues label is :func:`pipelines.emotion.to_ed_label` of that (a milder label at
lower intensity: happy@0.4 → content rather than joyful).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipelines.emotion import VAD, EmotionSpec, Vad, nearest_label, to_ed_label

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


NEUTRAL_RADIUS = 0.12
"""Below this distance from the origin the reply is neutral; beyond it, an emotion."""


MIRROR_COS = 0.8
"""If the reply points this nearly (cosine, valence-arousal plane) the user's way, it is the
user's emotion, at the reply's own intensity: the empathic case, and PELD's most common one."""

PELD_LABELS = ("neutral", "happy", "sad", "angry", "fearful", "surprised", "disgusted")
"""PELD's seven emotions (no contempt): the labels a reply may take."""


def label_by_direction(
    vad: Vad, user: Vad | None = None, user_label: str | None = None
) -> tuple[str, float]:
    """The reply's core label and intensity from its VAD point.

    Nearest-anchor labelling calls every mild point "neutral" (the origin is an anchor), so a
    reply planned a third of the way toward joy would read as neutral. Instead: neutral within
    :data:`NEUTRAL_RADIUS` of the origin; the user's own label when the reply points their way
    (:data:`MIRROR_COS`); otherwise the PELD emotion whose ray (anchor × intensity) passes
    nearest. Direction is read in the valence-arousal plane: the agent's dominance is mostly its
    persona's baseline and would otherwise steer sympathy toward contempt.
    """
    va = vad[:2]
    mag = math.hypot(*va)
    if mag < NEUTRAL_RADIUS:
        return "neutral", 1.0

    def along(anchor: Vad) -> tuple[float, float]:
        """(intensity t on the anchor's ray, distance from the point to t·anchor)."""
        a2 = anchor[0] ** 2 + anchor[1] ** 2
        t = min(1.0, max(0.0, (va[0] * anchor[0] + va[1] * anchor[1]) / a2))
        return t, math.hypot(va[0] - t * anchor[0], va[1] - t * anchor[1])

    if user is not None and math.hypot(*user[:2]) >= NEUTRAL_RADIUS:
        # The detected label when known: a blend's mean point can sit nearest another anchor.
        known = user_label not in (None, "neutral")
        mirror = user_label if known and user_label else nearest_label(user, exclude_neutral=True)
        anchor = VAD[mirror]
        cos = (va[0] * anchor[0] + va[1] * anchor[1]) / (mag * math.hypot(*anchor[:2]))
        if cos >= MIRROR_COS and mirror in PELD_LABELS:
            return mirror, round(max(0.1, along(anchor)[0]), 2)
    best = min((n for n in PELD_LABELS if n != "neutral"), key=lambda n: along(VAD[n])[1])
    return best, round(max(0.1, along(VAD[best])[0]), 2)


def plan_reply(
    previous: Vad | None,
    user: Vad,
    traits: Mapping[str, float],
    user_label: str | None = None,
) -> ReplyPlan:
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
    label, intensity = label_by_direction(vad, user, user_label)
    ed = to_ed_label(EmotionSpec.of(label, intensity))
    return ReplyPlan(
        previous=p,
        user=user,
        vad=(round(vad[0], 4), round(vad[1], 4), round(vad[2], 4)),
        label=label,
        ed_label=ed,
        intensity=intensity,
    )
