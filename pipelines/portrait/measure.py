"""Reading the emotion back: landmarks tracked on output frames → lip sync, expression, blinks,
head motion and identity (DESIGN §7). Lengths are in face units (1 = eye-corner midpoints'
distance), so numbers compare across photos and sizes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from pipelines.portrait.face import FaceModels
from pipelines.portrait.mouth import frame_features


def track(models: FaceModels, frames: Iterable[np.ndarray]) -> np.ndarray:
    """(T, 68, 2) landmarks: detected on the first frame, then followed frame to frame."""
    out: list[np.ndarray] = []
    box: np.ndarray | None = None
    for frame in frames:
        if box is None:
            faces = models.detect(frame)
            if not faces:
                out.append(np.full((68, 2), np.nan, np.float32))
                continue
            box = max(faces, key=lambda f: (f[0][2] - f[0][0]) * f[1])[0]
            anchor = None
        pts = models.landmarks(frame, box)
        centre = pts[27:36].mean(0)
        if anchor is None:
            anchor = centre
        else:
            box = box + np.tile(centre - anchor, 2)
            anchor = centre
        out.append(pts)
    return np.array(out, np.float32).reshape(-1, 68, 2)


def _frames_in_face_units(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame landmarks in a face frame from the eye corners (blinks don't move it), and
    the per-frame scale (px per unit)."""
    left = (lm[:, 36] + lm[:, 39]) / 2
    right = (lm[:, 42] + lm[:, 45]) / 2
    vec = right - left
    iod = np.linalg.norm(vec, axis=1)
    ex = vec / np.maximum(iod, 1e-6)[:, None]
    ey = np.stack([-ex[:, 1], ex[:, 0]], axis=1)
    rel = lm - ((left + right) / 2)[:, None, :]
    x = (rel * ex[:, None, :]).sum(-1) / iod[:, None]
    y = (rel * ey[:, None, :]).sum(-1) / iod[:, None]
    return np.stack([x, y], -1), iod


def features(lm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame expression features (face units; larger = more open / higher)."""
    f, iod = _frames_in_face_units(lm)
    y = f[..., 1]
    ang = np.degrees(np.arctan2(lm[:, 45, 1] - lm[:, 36, 1], lm[:, 45, 0] - lm[:, 36, 0]))
    ref = float(np.nanmedian(iod)) if len(iod) else 1.0
    return {
        "mouth_open": np.mean(y[:, [67, 66, 65]] - y[:, [61, 62, 63]], axis=1),
        "corner_lift": -np.mean(y[:, [48, 54]], axis=1),
        "smile": (y[:, 62] + y[:, 66]) / 2 - np.mean(y[:, [48, 54]], axis=1),
        "inner_brow": -np.mean(y[:, [20, 21, 22, 23]], axis=1),
        "outer_brow": -np.mean(y[:, [17, 18, 25, 26]], axis=1),
        "eye_open": np.mean(y[:, [41, 40, 47, 46]] - y[:, [37, 38, 43, 44]], axis=1),
        "head_x": lm[:, 27, 0] / ref,
        "head_y": lm[:, 27, 1] / ref,
        "roll": ang,
    }


def loudness(samples: np.ndarray, sr: int, fps: int, n_frames: int) -> np.ndarray:
    """Per-frame loudness in dB, floored 40 dB under the clip's peak."""
    db = frame_features(samples, sr, fps, n_frames)[:, 0]
    return np.maximum(db, float(db.max()) - 40.0)


def lip_sync(mouth: np.ndarray, loud: np.ndarray, max_lag: int = 4) -> tuple[float, int, float]:
    """(best r, its lag in frames — positive: the mouth follows the sound, r at lag 0);
    zeros when either signal is flat (a silent clip)."""
    n = min(len(mouth), len(loud))
    mouth, loud = mouth[:n].astype(np.float64), loud[:n].astype(np.float64)
    best, best_lag, zero = -2.0, 0, 0.0
    for lag in range(-max_lag, max_lag + 1):
        a = mouth[lag:] if lag >= 0 else mouth[:lag]
        b = loud[: n - lag] if lag >= 0 else loud[-lag:]
        if len(a) < 5 or np.std(a) < 1e-5 or np.std(b) < 1e-5:
            continue
        r = float(np.corrcoef(a, b)[0, 1])
        if lag == 0:
            zero = r
        if r > best:
            best, best_lag = r, lag
    if best == -2.0:  # a still mouth or silent audio: nothing to correlate
        return 0.0, 0, 0.0
    return best, best_lag, zero


def count_blinks(eye_open: np.ndarray) -> int:
    """Dips of the eye opening below 70 % of its median."""
    if len(eye_open) < 3:
        return 0
    closed = eye_open < 0.7 * float(np.median(eye_open))
    starts = np.flatnonzero(closed & ~np.concatenate([[False], closed[:-1]]))
    return len(starts)


def summary(feats: dict[str, np.ndarray]) -> dict[str, float]:
    """Medians of the expression features (blinks and speech wash out)."""
    keys = ("mouth_open", "corner_lift", "smile", "inner_brow", "outer_brow", "eye_open")
    return {k: float(np.nanmedian(feats[k])) for k in keys}


def region_similarity(frame: np.ndarray, source: np.ndarray, points: np.ndarray) -> float:
    """1 − mean absolute difference (0-1) outside the face: what should stay the photo."""
    import cv2

    hull = cv2.convexHull(np.round(points).astype(np.int32))
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    iod = float(np.linalg.norm(points[42:48].mean(0) - points[36:42].mean(0)))
    k = max(3, int(iod * 0.6) | 1)
    grown = cv2.dilate(mask, np.ones((k, k), np.uint8))
    outside = grown == 0
    if not outside.any():
        return 1.0
    diff = np.abs(frame.astype(np.int16) - source.astype(np.int16))[outside]
    return float(1.0 - diff.mean() / 255.0)


def emotion_check(
    out_lm: np.ndarray,
    neutral_lm: np.ndarray | None,
    samples: np.ndarray,
    sr: int,
    fps: int,
    source_points: np.ndarray,
) -> dict[str, Any]:
    """The numbers the tab shows: lip sync, expression vs a neutral render and vs the photo,
    blinks, head-motion range."""
    ok = ~np.isnan(out_lm).any(axis=(1, 2))
    if ok.sum() < 3:
        return {"tracked_frames": int(ok.sum()), "error": "face lost on the output frames"}
    feats = features(out_lm[ok])
    r, lag, r0 = lip_sync(feats["mouth_open"], loudness(samples, sr, fps, len(out_lm))[ok])
    src = summary(features(source_points[None]))
    mine = summary(feats)
    report: dict[str, Any] = {
        "tracked_frames": int(ok.sum()),
        "lip_sync_r": round(r, 3),
        "lip_sync_lag_frames": lag,
        "lip_sync_r_lag0": round(r0, 3),
        "blinks": count_blinks(feats["eye_open"]),
        "head_range": {
            "x": round(float(np.ptp(feats["head_x"])), 3),
            "y": round(float(np.ptp(feats["head_y"])), 3),
            "roll_deg": round(float(np.ptp(feats["roll"])), 2),
        },
        "vs_photo": {k: round(mine[k] - src[k], 4) for k in mine},
        "absolute": {k: round(v, 4) for k, v in mine.items()},
    }
    if neutral_lm is not None:
        okn = ~np.isnan(neutral_lm).any(axis=(1, 2))
        if okn.sum() >= 3:
            neutral = summary(features(neutral_lm[okn]))
            report["vs_neutral"] = {k: round(mine[k] - neutral[k], 4) for k in mine}
    return report
