"""Action-unit-like deformations of the 68 landmarks, per emotion, blended, from the source's own
expression.

Every displacement is in *face units*: x along the eye line (towards the image's right), y down
the face, 1 = the distance between the eye centres (IOD). Point indices are dlib's 68-point
layout (iBUG 300-W): jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, lips 48-67.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from pipelines.emotion import EMOTIONS, EmotionSpec

N = 68
LEFT = frozenset([*range(0, 8), 17, 18, 19, 20, 21, 31, 32, *range(36, 42), 48, 49, 50, 58, 59])
LEFT |= {60, 61, 67}
"""Points on the image's left half: their "outward" is −x."""


def _au(spec: Mapping[tuple[int, ...], tuple[float, float]]) -> np.ndarray:
    """(68, 2) displacement from {points: (outward, down)}; outward is mirrored per side."""
    d = np.zeros((N, 2), np.float32)
    for points, (out, down) in spec.items():
        for p in points:
            d[p] = (-out if p in LEFT else out, down)
    return d


AU: Mapping[str, np.ndarray] = MappingProxyType({
    "inner_brow_raise": _au({(21, 22): (0, -0.15), (20, 23): (0, -0.10), (19, 24): (0, -0.04)}),
    "outer_brow_raise": _au({(17, 26): (0, -0.14), (18, 25): (0, -0.12), (19, 24): (0, -0.08),
                             (20, 23): (0, -0.04)}),
    "brow_lower": _au({(21, 22): (-0.05, 0.11), (20, 23): (-0.03, 0.10), (19, 24): (0, 0.08),
                       (18, 25): (0, 0.05), (17, 26): (0, 0.03), (37, 38, 43, 44): (0, 0.012)}),
    "upper_lid_raise": _au({(37, 38, 43, 44): (0, -0.05), (36, 39, 42, 45): (0, -0.008)}),
    "lid_tighten": _au({(40, 41, 46, 47): (0, -0.03), (37, 38, 43, 44): (0, 0.015)}),
    "cheek_raise": _au({(40, 41, 46, 47): (0, -0.025), (1, 2, 14, 15): (0, -0.02),
                        (3, 13): (0, -0.03), (31, 35): (0.005, -0.01)}),
    "lip_corner_pull": _au({(48, 54, 60, 64): (0.08, -0.10), (49, 53, 59, 55): (0.035, -0.045),
                            (61, 63, 65, 67): (0.02, -0.03), (50, 52): (0.01, -0.015),
                            (4, 12): (0.01, -0.02)}),
    "lip_corner_depress": _au({(48, 54, 60, 64): (0.01, 0.10), (59, 55): (0, 0.06),
                               (49, 53, 61, 63, 67, 65): (0, 0.04), (58, 56): (0, 0.02)}),
    "lip_stretch": _au({(48, 54, 60, 64): (0.07, 0.05), (49, 53, 59, 55): (0.035, 0.02),
                        (61, 63, 65, 67): (0.02, 0.01)}),
    "upper_lip_raise": _au({(50, 51, 52): (0, -0.055), (49, 53): (0, -0.035),
                            (61, 62, 63): (0, -0.045), (31, 35): (0, -0.02)}),
    "nose_wrinkle": _au({(31, 32, 34, 35): (0, -0.03), (33,): (0, -0.02), (29, 30): (0, -0.01),
                         (21, 22): (-0.02, 0.04), (39, 42): (0, -0.01)}),
    "lip_press": _au({(50, 51, 52): (0, 0.025), (56, 57, 58): (0, -0.03),
                      (48, 54, 60, 64): (-0.02, 0.0)}),
    "chin_raise": _au({(56, 57, 58): (0, -0.03), (65, 66, 67): (0, -0.015), (7, 8, 9): (0, -0.02),
                       (55, 59): (0, -0.015)}),
    "lips_part_round": _au({(48, 54, 60, 64): (-0.07, 0.02), (49, 53, 59, 55): (-0.035, 0.0),
                            (61, 63, 65, 67): (-0.025, 0.0)}),
    "dimple_right": _au({(54, 64): (0.05, -0.07), (53, 55, 63, 65): (0.02, -0.03),
                         (13,): (0.0, -0.015)}),
})  # fmt: skip
"""Displacements at full strength for each action unit (AU1, AU2, AU4, AU5, AU7, AU6, AU12,
AU15, AU20, AU10, AU9, AU23/24, AU17, the relaxed oval of AU25+26 in surprise, unilateral
AU14)."""

EMOTION_AUS: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "neutral": {},
    "happy": {"lip_corner_pull": 1.0, "cheek_raise": 0.8, "lid_tighten": 0.2},
    "sad": {"inner_brow_raise": 1.2, "brow_lower": 0.3, "lip_corner_depress": 1.2,
            "upper_lid_raise": -1.8, "chin_raise": 2.0},
    "angry": {"brow_lower": 1.5, "lid_tighten": 0.8, "upper_lid_raise": 0.4, "lip_press": 1.6,
              "lip_corner_depress": 0.5},
    "fearful": {"inner_brow_raise": 1.2, "outer_brow_raise": 0.3, "brow_lower": 0.8,
                "upper_lid_raise": 1.3, "lip_stretch": 1.8},
    "surprised": {"inner_brow_raise": 0.9, "outer_brow_raise": 1.0, "upper_lid_raise": 0.8,
                  "lips_part_round": 1.0},
    "disgusted": {"nose_wrinkle": 1.2, "upper_lip_raise": 1.6, "brow_lower": 0.3,
                  "cheek_raise": 2.0, "lid_tighten": 1.8, "lip_corner_depress": 0.3,
                  "chin_raise": 0.3},
    "contemptuous": {"dimple_right": 1.0, "lid_tighten": 0.2, "upper_lid_raise": -0.2},
})  # fmt: skip
"""Each emotion as AU weights (after EMFACS prototypes)."""

EMOTION_JAW: Mapping[str, float] = MappingProxyType({"surprised": 0.16, "happy": 0.02})
"""A resting jaw drop (face units) some emotions carry even when silent."""

EMOTION_TALK: Mapping[str, float] = MappingProxyType(
    {"angry": 0.85, "disgusted": 0.9, "contemptuous": 0.9, "surprised": 1.2, "fearful": 1.1}
)
"""How wide the mouth opens while talking, relative to neutral speech (at full intensity):
anger presses the lips, surprise and fear open wider. Sadness keeps neutral speech's opening
(its raised lower lip comes from AU17, ``chin_raise``; a smaller opening cost lip sync)."""


def talk_gain(spec: EmotionSpec) -> float:
    """The talking-opening gain of a (blended) emotion at its intensity."""
    gain = sum(EMOTION_TALK.get(label, 1.0) * w for label, w in spec.label_weights())
    total = sum(w for _, w in spec.label_weights()) or 1.0
    return float(1.0 + (gain / total - 1.0) * spec.intensity)


assert set(EMOTION_AUS) == set(EMOTIONS)


def jaw(amount: float) -> np.ndarray:
    """Open the mouth by ``amount`` face units (negative closes an open mouth)."""
    a = float(amount)
    return _au({
        (66,): (0, a), (65, 67): (0, 0.95 * a), (60, 64): (0, 0.45 * a),
        (57,): (0, 0.95 * a), (56, 58): (0, 0.9 * a), (55, 59): (0, 0.6 * a),
        (48, 54): (0, 0.3 * a), (8,): (0, 0.8 * a), (7, 9): (0, 0.72 * a), (6, 10): (0, 0.55 * a),
        (5, 11): (0, 0.35 * a), (4, 12): (0, 0.15 * a), (61, 62, 63): (0, -0.08 * a),
    })  # fmt: skip


def lip_shape(spread: float, rounded: float) -> np.ndarray:
    """Viseme lip shape: ``spread`` pulls the corners out (ee), ``rounded`` in (oo)."""
    width = 0.05 * spread - 0.09 * rounded
    return _au({
        (48, 54, 60, 64): (width, 0.0), (49, 53, 59, 55): (0.5 * width, 0.0),
        (61, 63, 65, 67): (0.4 * width, 0.0), (50, 52): (0.2 * width, -0.01 * rounded),
        (56, 58): (0.2 * width, 0.01 * rounded),
    })  # fmt: skip


def emotion_offsets(spec: EmotionSpec) -> tuple[np.ndarray, float]:
    """The (68, 2) deformation and resting jaw drop of a (blended) emotion at its intensity."""
    d = np.zeros((N, 2), np.float32)
    jaw_rest = 0.0
    for label, weight in spec.label_weights():
        for name, w in EMOTION_AUS[label].items():
            d += AU[name] * (w * weight)
        jaw_rest += EMOTION_JAW.get(label, 0.0) * weight
    return d * spec.intensity, jaw_rest * spec.intensity


def au_weights(spec: EmotionSpec) -> dict[str, float]:
    """Each action unit's summed weight in a (blended) emotion at its intensity."""
    out: dict[str, float] = {}
    for label, weight in spec.label_weights():
        for name, w in EMOTION_AUS[label].items():
            out[name] = out.get(name, 0.0) + w * weight * spec.intensity
    return out


@dataclass(frozen=True)
class SourceExpression:
    """What the photo's face already does, in face units."""

    smile: float
    """Lip-corner height above the lip line (> 0 smiling, < 0 frowning)."""
    mouth_open: float
    """Gap between the inner lips."""
    eye_open: float
    """Mean upper-to-lower lid distance."""


NEUTRAL_SMILE = -0.02
"""A relaxed mouth's corners sit about this far (face units) above the lip line."""


SMILE_OVERCORRECT = 0.06
"""How far below the neutral line a broadly smiling source's corners are set (face units)."""


def face_frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(origin, rotation columns ex|ey, IOD) of the face frame for 68 points in pixels."""
    left, right = points[36:42].mean(0), points[42:48].mean(0)
    iod = float(np.linalg.norm(right - left))
    ex = (right - left) / max(iod, 1e-6)
    rot = np.array([[ex[0], -ex[1]], [ex[1], ex[0]]], np.float32)
    return (left + right) / 2, rot, max(iod, 1e-6)


def to_face(points: np.ndarray) -> np.ndarray:
    """Points in face units (origin between the eyes)."""
    origin, rot, iod = face_frame(points)
    return ((points - origin) @ rot / iod).astype(np.float32)


def measure_source(points: np.ndarray) -> SourceExpression:
    f = to_face(points)
    lip_line = (f[62, 1] + f[66, 1]) / 2
    smile = float(lip_line - (f[48, 1] + f[54, 1]) / 2)
    gap = float(np.mean(f[[65, 66, 67], 1] - f[[63, 62, 61], 1]))
    eye = float(np.mean(f[[41, 40, 47, 46], 1] - f[[37, 38, 43, 44], 1]))
    return SourceExpression(smile=smile, mouth_open=max(0.0, gap), eye_open=eye)


def compensation(
    face: np.ndarray, src: SourceExpression, strength: float = 1.0
) -> tuple[np.ndarray, float]:
    """Deformation (and jaw change) that takes the source's smile/frown and open mouth back to a
    relaxed face, so that any emotion starts from neutral: the lips close, the corners go to the
    line where the lips meet (a little below it) and in by the width a smile added, the lip
    contours follow the corners smoothly (a smile's U flattens), the cheeks and lower lids drop.
    ``face`` is the source's 68 points in face units."""
    closing = -src.mouth_open
    g = face + jaw(closing)
    meet = float(np.mean(g[[61, 62, 63], 1]))
    centre_x = float((g[48, 0] + g[54, 0]) / 2)
    half = max(float(g[54, 0] - g[48, 0]) / 2, 1e-3)
    excess = src.smile - NEUTRAL_SMILE
    narrow = float(np.clip(excess, 0.0, 0.25)) * 1.0  # a smile widens the mouth
    # a smile's cheeks and folds stay in the texture: its corners go a little lower to balance
    over = SMILE_OVERCORRECT * float(np.clip(excess / 0.15, 0.0, 1.0))
    d = np.zeros((N, 2), np.float32)
    for corner, sign in ((48, -1.0), (54, 1.0)):
        dy = (meet - NEUTRAL_SMILE + over) - float(g[corner, 1])
        for i in range(48, 68):
            rel = (float(g[i, 0]) - centre_x) / half
            if rel * sign <= 0:
                continue
            w = 1.0 if i in (60, 64) else min(abs(rel), 1.0) ** 1.6
            d[i] += (-sign * narrow * half * w, dy * w)
    for up, low in ((61, 67), (62, 66), (63, 65)):  # close every column, not just on average
        d[low, 1] -= float(g[low, 1] - g[up, 1]) + float(d[low, 1] - d[up, 1])
    if excess > 0:  # a smile also lifts the cheeks and the lower lids (AU6): let them down
        d -= AU["cheek_raise"] * float(min(excess / 0.1, 1.2))
    return d * strength, closing


def smile_residue(src: SourceExpression) -> np.ndarray:
    """For a smiling photo's neutral: the smile's cheeks and folds stay in the texture and keep
    reading as a smile, so the brows settle and the lower lip firms a little (AU4 at 0.15, AU17
    at 0.5) — nothing for a photo that does not smile."""
    share = float(np.clip((src.smile - NEUTRAL_SMILE) / 0.15, 0.0, 1.0))
    return (0.15 * AU["brow_lower"] + 0.5 * AU["chin_raise"]) * share


def blink(points_face: np.ndarray, closed: float) -> np.ndarray:
    """Upper lids move down onto the lower lids (``closed`` 0-1), lower lids rise a little."""
    d = np.zeros((N, 2), np.float32)
    for up, low in ((37, 41), (38, 40), (43, 47), (44, 46)):
        gap = max(0.0, float(points_face[low, 1] - points_face[up, 1]))
        d[up, 1] = 0.93 * gap * closed
        d[low, 1] = -0.05 * gap * closed
    return d
