"""What a mesh warp cannot move: the furrows and folds action units make in the skin, drawn as
soft shading on the source texture (so the warp carries them with the skin).

Glabella lines for AU4 (brow lowerer), forehead lines for AU1+2 (brow raisers), nasolabial folds
for AU6/10/12 (cheek raiser, upper-lip raiser, smile), nose-bridge wrinkles for AU9 and the crease
under the lower lip for AU17 (chin raiser). Each is a few blurred strokes placed from the 68
landmarks, darkening the skin by at most ``MAX_DARK``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

MAX_DARK = 0.2
"""The most a fully weighted fold darkens the skin (fraction of its brightness)."""


def _strokes(points: np.ndarray, rot: np.ndarray, iod: float) -> dict[str, list[np.ndarray]]:
    """Polylines (pixel coordinates) of each fold, keyed by what drives it."""
    ex, ey = rot[:, 0], rot[:, 1]

    def at(base: np.ndarray, x: float, y: float) -> np.ndarray:
        return base + ex * x * iod + ey * y * iod

    brow_mid = (points[21] + points[22]) / 2
    brow_top = min(float(points[i] @ ey) for i in range(17, 27))
    forehead = []
    for k, up in enumerate((0.16, 0.27, 0.38)):
        left = points[19] - ey * (float(points[19] @ ey) - brow_top)
        right = points[24] - ey * (float(points[24] @ ey) - brow_top)
        ts = np.linspace(-0.15, 1.15, 9)
        line = [
            left + (right - left) * t - ey * (up + 0.03 * np.sin(np.pi * t) - 0.01 * k) * iod
            for t in ts
        ]
        forehead.append(np.array(line))
    glabella = [
        np.array([at(brow_mid, side * 0.06, 0.02), at(brow_mid, side * 0.045, -0.16)])
        for side in (-1, 1)
    ]
    nasolabial = []
    for wing, corner, side in ((31, 48, -1), (35, 54, 1)):
        start = at(points[wing], side * 0.07, -0.02)
        end = at(points[corner], side * 0.07, 0.04)
        mid = (start + end) / 2 + ex * side * 0.05 * iod
        ts = np.linspace(0, 1, 8)[:, None]
        nasolabial.append((1 - ts) ** 2 * start + 2 * (1 - ts) * ts * mid + ts**2 * end)
    bridge = [
        np.array(
            [at(points[28], -0.12, dy), at(points[28], 0.0, dy + 0.02), at(points[28], 0.12, dy)]
        )
        for dy in (-0.04, 0.04)
    ]
    chin_mid = at(points[57], 0.0, 0.13)
    chin = [np.array([at(chin_mid, -0.16, -0.03), chin_mid, at(chin_mid, 0.16, -0.03)])]
    return {
        "brow_lower": glabella,
        "brow_raise": forehead,
        "fold": nasolabial,
        "nose_wrinkle": bridge,
        "chin_raise": chin,
    }


def fold_weights(aus: Mapping[str, float]) -> dict[str, float]:
    """How strongly (0-1) each fold shows for summed action-unit weights ``aus``."""
    raise_ = (aus.get("inner_brow_raise", 0.0) + aus.get("outer_brow_raise", 0.0)) / 2
    fold = (
        aus.get("cheek_raise", 0.0)
        + aus.get("upper_lip_raise", 0.0)
        + 0.5 * aus.get("lip_corner_pull", 0.0)
        + 0.5 * aus.get("nose_wrinkle", 0.0)
    )
    out = {
        "brow_lower": aus.get("brow_lower", 0.0),
        "brow_raise": raise_,
        "fold": fold,
        "nose_wrinkle": aus.get("nose_wrinkle", 0.0),
        "chin_raise": aus.get("chin_raise", 0.0) / 2,
    }
    return {k: float(np.clip(v, 0.0, 1.0)) for k, v in out.items() if v > 0.05}


def shade(
    roi: np.ndarray, points: np.ndarray, rot: np.ndarray, iod: float, aus: Mapping[str, float]
) -> np.ndarray:
    """``roi`` (RGB uint8) with the folds of ``aus`` shaded in; ``points`` are the 68 landmarks
    in ``roi`` pixels. Returns ``roi`` itself when nothing is to be drawn."""
    import cv2

    weights = fold_weights(aus)
    if not weights:
        return roi
    dark = np.zeros(roi.shape[:2], np.float32)
    strokes = _strokes(points, rot, iod)
    width = max(2, round(0.05 * iod))
    for name, w in weights.items():
        layer = np.zeros_like(dark)
        for line in strokes[name]:
            pts = np.round(line * 4).astype(np.int32)
            cv2.polylines(layer, [pts], False, 1.0, width, cv2.LINE_AA, shift=2)
        dark = np.maximum(dark, layer * w)
    soft = cv2.GaussianBlur(dark, (0, 0), max(1.0, 0.03 * iod))
    out = roi.astype(np.float32) * (1.0 - MAX_DARK * soft)[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)
