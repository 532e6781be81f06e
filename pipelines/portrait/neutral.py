"""A neutral base from an expressive photo: the source's visible teeth and mouth opening are painted
over with lip texture (so lips can close over them) and the smile's folds are softened, before any
emotion is applied. Works on the output-size frame, in place of the photo's pixels."""

from __future__ import annotations

import numpy as np

from pipelines.portrait.expression import NEUTRAL_SMILE, SourceExpression, face_frame

TEETH_SCORE = 150.0
"""Lab score (L − 3·|a| − 1.5·|b|, chroma from grey) above which a mouth pixel counts as tooth."""


def mouth_opening_mask(frame: np.ndarray, points: np.ndarray) -> np.ndarray:
    """uint8 mask (0/255) of the source's visible teeth and dark mouth cavity inside the outer
    lip contour; empty when the lips are closed."""
    import cv2

    h, w = frame.shape[:2]
    outer = np.zeros((h, w), np.uint8)
    cv2.fillPoly(outer, [np.round(points[48:60]).astype(np.int32)], 1)
    inner = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inner, [np.round(points[60:68]).astype(np.int32)], 1)
    x0, y0 = np.floor(points[48:60].min(0)).astype(int)
    x1, y1 = np.ceil(points[48:60].max(0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    mask = np.zeros((h, w), np.uint8)
    if x1 - x0 < 4 or y1 - y0 < 3:
        return mask
    lab = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_RGB2LAB).astype(np.float32)
    lum, a, b = lab[..., 0], lab[..., 1] - 128, lab[..., 2] - 128
    teeth = (lum - 3 * np.abs(a) - 1.5 * np.abs(b)) > TEETH_SCORE
    band = outer[y0:y1, x0:x1] > 0
    lips = band & (inner[y0:y1, x0:x1] == 0) & ~teeth
    if lips.sum() < 8:
        return mask
    lip_l = float(np.median(lum[lips]))
    dark = (lum < 0.55 * lip_l) & (inner[y0:y1, x0:x1] > 0)  # the cavity between the teeth
    found = ((teeth | dark) & band).astype(np.uint8)
    found = cv2.morphologyEx(found, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    if found.sum() < 6:
        return mask
    mask[y0:y1, x0:x1] = found * 255
    return mask


def neutral_base(
    frame: np.ndarray, points: np.ndarray, source: SourceExpression
) -> tuple[np.ndarray, bool]:
    """The frame with the source's mouth opening painted as closed lips and, for a smiling
    source, the smile folds beside the mouth softened; and whether the mouth was painted."""
    import cv2

    _, _, iod = face_frame(points)
    out = frame.copy()
    mask = mouth_opening_mask(frame, points)
    painted = bool(mask.any())
    if painted:
        grow = max(1, round(0.025 * iod))
        mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
        lips = np.zeros_like(mask)  # grown over the teeth's edges, never past the lips
        cv2.fillPoly(lips, [np.round(points[48:60]).astype(np.int32)], 255)
        mask = cv2.bitwise_and(mask, cv2.dilate(lips, np.ones((3, 3), np.uint8)))
        filled = cv2.inpaint(out, mask, max(2.0, 0.03 * iod), cv2.INPAINT_TELEA)
        lip = np.array(lip_colour(frame, points, mask), np.float32)
        soft = cv2.GaussianBlur(mask, (3, 3), 0).astype(np.float32)[..., None] / 255.0
        tinted = filled.astype(np.float32) * 0.35 + lip * 0.65
        out = np.clip(out * (1 - soft) + tinted * soft, 0, 255).astype(np.uint8)
    excess = source.smile - NEUTRAL_SMILE
    if excess > 0.03:
        out = soften_folds(out, points, min(1.0, excess / 0.12))
    return out, painted


def calm_cheeks(
    base: np.ndarray, points: np.ndarray, source: SourceExpression
) -> np.ndarray | None:
    """For the neutral of a smiling photo: ``neutral_base``'s frame with the bulging cheeks'
    highlights around the mouth toned down by half (a smile's cheeks otherwise keep reading as
    a smile); None for a photo that does not smile."""
    excess = source.smile - NEUTRAL_SMILE
    if excess <= 0.03:
        return None
    return soften_folds(base, points, min(1.0, excess / 0.12), shadows=0.0, highlights=0.5)


def lip_colour(
    frame: np.ndarray, points: np.ndarray, exclude: np.ndarray | None = None
) -> tuple[int, int, int]:
    """The median colour of the lips (outer contour, minus the opening and ``exclude``)."""
    import cv2

    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[48:60]).astype(np.int32)], 1)
    cv2.fillPoly(mask, [np.round(points[60:68]).astype(np.int32)], 0)
    if exclude is not None:
        mask[exclude > 0] = 0
    pixels = frame[mask > 0]
    if len(pixels) < 8:
        return (170, 90, 90)
    r, g, b = (int(v) for v in np.median(pixels, axis=0))
    return (r, g, b)


def refine_inner_lips(points: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The inner-lip landmarks moved to the edges of the visible opening (dlib often puts the
    upper inner lip on the teeth): per column of 61-63/67-65, the top and bottom of ``mask``."""
    out = points.copy()
    for up, low, outer_up, outer_low in ((61, 67, 50, 58), (62, 66, 51, 57), (63, 65, 52, 56)):
        x = round(float((points[up, 0] + points[low, 0]) / 2))
        if not 0 <= x < mask.shape[1]:
            continue
        rows = np.nonzero(mask[:, x])[0]
        if len(rows) < 2:
            continue
        # never closer to the outer contour than half the lip's thickness
        top = float(points[up, 1] + 0.5 * (points[outer_up, 1] - points[up, 1]))
        bottom = float(points[low, 1] + 0.4 * (points[outer_low, 1] - points[low, 1]))
        out[up, 1] = min(float(points[up, 1]), max(float(rows.min()), top))
        out[low, 1] = max(float(points[low, 1]), min(float(rows.max()) + 1, bottom))
    return out


def fold_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """float32 0-1: the skin around the mouth where smile folds lie (from beside the nose wings
    down past the mouth corners to the chin), the lips themselves left out; soft-edged."""
    import cv2

    _, rot, iod = face_frame(points)
    ex, ey = rot[:, 0], rot[:, 1]
    mouth_c = points[[48, 54]].mean(0)
    half_w = float(np.linalg.norm(points[54] - points[48])) / 2
    top = points[33] - 0.05 * iod * ey
    ring = []
    for ang in np.linspace(0, 2 * np.pi, 24, endpoint=False):
        c, s = np.cos(ang), np.sin(ang)
        ry = (float((mouth_c - top) @ ey) + 0.02 * iod) if s < 0 else 0.32 * iod
        ring.append(mouth_c + ex * c * (half_w + 0.3 * iod) + ey * s * ry)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(np.array(ring)).astype(np.int32)], 255)
    lips = np.zeros(shape, np.uint8)
    cv2.fillPoly(lips, [np.round(points[48:60]).astype(np.int32)], 255)
    mask[cv2.dilate(lips, np.ones((3, 3), np.uint8)) > 0] = 0
    k = max(3, int(0.08 * iod) | 1)
    return cv2.GaussianBlur(mask, (k, k), 0).astype(np.float32) / 255.0


def soften_folds(
    frame: np.ndarray,
    points: np.ndarray,
    amount: float,
    shadows: float = 1.0,
    highlights: float = 0.0,
) -> np.ndarray:
    """Lift the shadows of the folds a smile makes around the mouth (nasolabial folds, the
    creases at the mouth corners) towards the skin's smooth shading (by ``shadows``, 0-1);
    ``highlights`` (0-1) tones the brighter-than-smooth bulges down the same way."""
    import cv2

    _, _, iod = face_frame(points)
    mask = fold_mask(points, frame.shape[:2]) * amount
    sigma = max(1.0, 0.1 * iod)
    f = frame.astype(np.float32)
    smooth = cv2.GaussianBlur(f, (0, 0), sigma)
    lum = f.mean(2, keepdims=True)
    lum_s = smooth.mean(2, keepdims=True)
    diff = lum_s - lum
    target = f + shadows * np.clip(diff, 0, None) + highlights * np.clip(diff, None, 0)
    out = f + (target - f) * mask[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)
