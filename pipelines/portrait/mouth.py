"""The talking mouth: per-frame jaw opening and lip shape from the audio (loudness + spectral
shape) or from phoneme timings (visemes), and the mouth interior (cavity, teeth, tongue)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_OPEN = 0.36
"""The widest jaw opening in face units (a shouted "ah")."""


@dataclass(frozen=True)
class MouthTrack:
    """Per video frame: jaw opening (face units), lip spread and rounding (0-1), loudness 0-1."""

    opening: np.ndarray
    spread: np.ndarray
    rounded: np.ndarray
    energy: np.ndarray
    closed: np.ndarray | None = None
    """0-1 per frame: the lips pressed shut (bilabials p/b/m), whatever the emotion's resting
    jaw; None = never forced."""


def frame_features(samples: np.ndarray, sr: int, fps: int, n_frames: int) -> np.ndarray:
    """(n_frames, 3): RMS in dBFS, spectral centroid (Hz) and low-band share per video frame.
    Computed in chunks of frames, so memory does not grow with the clip's length."""
    hop = sr / fps
    win = round(2 * hop)
    padded = np.concatenate([np.zeros(win // 2, np.float32), samples, np.zeros(win, np.float32)])
    window = np.hanning(win).astype(np.float32)
    freqs = np.fft.rfftfreq(win, 1 / sr)
    low_band = freqs < 1000
    out = np.empty((n_frames, 3), np.float32)
    for c0 in range(0, n_frames, 256):
        starts = (np.arange(c0, min(n_frames, c0 + 256)) * hop).astype(np.int64)
        idx = np.minimum(starts[:, None] + np.arange(win)[None, :], len(padded) - 1)
        frames = padded[idx] * window
        rms = np.sqrt(np.mean(frames**2, axis=1) + 1e-12)
        spec = np.abs(np.fft.rfft(frames, axis=1)) + 1e-9
        total = spec.sum(1)
        out[c0 : c0 + len(starts), 0] = 20 * np.log10(rms)
        out[c0 : c0 + len(starts), 1] = (spec * freqs).sum(1) / total
        out[c0 : c0 + len(starts), 2] = spec[:, low_band].sum(1) / total
    return out


def _smooth(x: np.ndarray, attack: float, release: float) -> np.ndarray:
    """One-pole follower: fast to open (attack), slower to close (release), then 3-tap blur."""
    out = np.empty_like(x)
    y = 0.0
    for i, v in enumerate(x):
        k = attack if v > y else release
        y += k * (v - y)
        out[i] = y
    return np.convolve(np.pad(out, 1, mode="edge"), [0.25, 0.5, 0.25], "valid").astype(np.float32)


def from_audio(samples: np.ndarray, sr: int, fps: int, n_frames: int) -> MouthTrack:
    """Jaw opening follows loudness above the noise floor; hissy sounds (high centroid, little
    low-band energy) open less and spread; dark vowels (energy low in the spectrum) round."""
    feats = frame_features(samples, sr, fps, n_frames)
    db, centroid, low = feats[:, 0], feats[:, 1], feats[:, 2]
    peak = float(np.percentile(db, 98)) if len(db) else -90.0
    if peak < -55.0:  # silence: a closed, breathing mouth
        z = np.zeros(n_frames, np.float32)
        return MouthTrack(z, z, z, z)
    floor = max(peak - 38.0, float(np.percentile(db, 10)) + 3.0)
    level = np.clip((db - floor) / max(peak - floor, 1e-3), 0.0, 1.0)
    voiced = np.clip((low - 0.25) / 0.5, 0.0, 1.0)
    fric = np.clip((centroid - 2500.0) / 3000.0, 0.0, 1.0) * (1.0 - voiced)
    opening = MAX_OPEN * level**0.8 * (1.0 - 0.6 * fric)
    spread = np.clip(fric + np.clip((centroid - 1200.0) / 1500.0, 0, 1) * 0.5 * level, 0, 1)
    rounded = np.clip((1.0 - (centroid - 400.0) / 600.0), 0, 1) * voiced * level
    return MouthTrack(
        _smooth(opening.astype(np.float32), 0.8, 0.45),
        _smooth(spread.astype(np.float32), 0.6, 0.35),
        _smooth(rounded.astype(np.float32), 0.6, 0.35),
        _smooth(level.astype(np.float32), 0.7, 0.3),
    )


# Viseme targets (opening 0-1 of MAX_OPEN, spread, rounded) by phoneme, IPA and ARPAbet.
_VISEMES: dict[str, tuple[float, float, float]] = {}
for _chars, _shape in (
    ("p b m pp bb mm", (0.0, 0.0, 0.1)),
    ("f v", (0.1, 0.3, 0.0)),
    ("θ ð th dh", (0.25, 0.3, 0.0)),
    ("t d n l s z ɾ ɹ r k g ŋ ng h j y", (0.3, 0.4, 0.0)),
    ("ʃ ʒ tʃ dʒ sh zh ch jh", (0.25, 0.0, 0.7)),
    ("w", (0.15, 0.0, 1.0)),
    ("i iː ɪ e eɪ iy ih ey", (0.45, 1.0, 0.0)),
    ("ɛ æ eh ae", (0.7, 0.6, 0.0)),
    ("a aː ɑ ɑː ʌ aɪ aʊ aa ah ay aw ə ɚ ɜ ɜː ax er", (1.0, 0.2, 0.0)),
    ("o oː ɔ ɔː oʊ ɒ ɔɪ ao ow oy", (0.75, 0.0, 0.8)),
    ("u uː ʊ uw uh", (0.35, 0.0, 1.0)),
):
    for _p in _chars.split():
        _VISEMES[_p] = _shape
_REST = (0.0, 0.0, 0.0)


def viseme(label: str) -> tuple[float, float, float]:
    """The (opening, spread, rounded) target of one phoneme label (stress marks ignored)."""
    key = "".join(ch for ch in label.lower() if ch.isalpha() or ch in "ːʃʒθðŋɾɹɑɔəɚɜɛæʊɪʌɒ")
    if key in _VISEMES:
        return _VISEMES[key]
    return _VISEMES.get(key[:1], (0.3, 0.3, 0.0)) if key else _REST


def from_phonemes(
    phonemes: Sequence[tuple[str, float, float]], audio: MouthTrack, fps: int, n_frames: int
) -> MouthTrack:
    """Viseme targets at each phoneme's centre, blended over neighbours (coarticulation),
    scaled by the audio's loudness so stressed syllables open wider."""
    t = (np.arange(n_frames) + 0.5) / fps
    acc = np.zeros((n_frames, 3), np.float32)
    weight = np.full(n_frames, 1e-3, np.float32)
    for label, start, end in phonemes:
        target = np.array(viseme(label), np.float32)
        centre, half = (start + end) / 2, max((end - start) / 2, 0.02)
        w = np.exp(-0.5 * ((t - centre) / (half * 0.9 + 0.02)) ** 2).astype(np.float32)
        acc += w[:, None] * target
        weight += w
    shape = acc / weight[:, None]
    gain = 0.5 + 0.5 * np.clip(audio.energy / max(float(audio.energy.max()), 1e-3), 0, 1)
    opening = MAX_OPEN * shape[:, 0] * gain * (audio.energy > 0.02)
    closed = np.zeros(n_frames, np.float32)
    for label, start, end in phonemes:  # the frames inside a bilabial's closure
        if viseme(label) == _VISEMES["p"]:
            inside = (t >= start - 0.01) & (t <= end - 0.005)
            closed[inside] = 1.0
    opening = _smooth(opening.astype(np.float32), 0.85, 0.6) * (1.0 - closed)
    return MouthTrack(
        opening,
        shape[:, 1].astype(np.float32),
        shape[:, 2].astype(np.float32),
        audio.energy,
        closed,
    )


def draw_interior(
    roi: np.ndarray,
    inner: np.ndarray,
    iod: float,
    teeth_rgb: tuple[int, int, int],
    lip_rgb: tuple[int, int, int] = (170, 90, 90),
) -> None:
    """Paint the open mouth inside the inner-lip polygon ``inner`` (8 points, ROI pixels):
    a dark cavity, upper teeth under the upper lip, lower teeth when wide open, a tongue hint."""
    import cv2

    gap = float(np.mean(inner[[7, 6, 5], 1] - inner[[1, 2, 3], 1]))
    outline = smooth_lips(inner)
    if gap < 1.5:  # closed: a soft dark line where the lips meet hides any squeezed teeth
        _closed_line(roi, outline[: len(outline) // 2], iod, gap, lip_rgb)
        return
    x0, y0 = np.floor(outline.min(0)).astype(int) - 2
    x1, y1 = np.ceil(outline.max(0)).astype(int) + 3
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, roi.shape[1]), min(y1, roi.shape[0])
    if x1 - x0 < 3 or y1 - y0 < 2:
        return
    h, w = y1 - y0, x1 - x0
    curve = (outline - (x0, y0)).astype(np.float32)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round(curve * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    half = len(curve) // 2
    upper_y = np.interp(xs[0], curve[:half, 0], curve[:half, 1])
    lower_y = np.interp(xs[0], curve[half:][::-1, 0], curve[half:][::-1, 1])
    depth = np.clip((ys - upper_y) / np.maximum(lower_y - upper_y, 1.0), 0, 1)
    layer = np.empty((h, w, 3), np.float32)
    layer[:] = np.array(lip_rgb, np.float32) * 0.15 + np.array([52, 14, 18], np.float32)
    layer *= (1.15 - 0.5 * depth)[..., None]
    cx, half_w = float(curve[:, 0].mean()), max(float(np.ptp(curve[:, 0])) / 2, 1.0)
    side = np.clip(1.0 - np.abs(xs - cx) / half_w, 0, 1)
    # teeth: shaded towards the corners and their lower edge, with faint gaps between them
    tooth_w = max(2.0, 0.085 * iod)
    gaps = 1.0 - 0.22 * np.exp(-((((xs - cx) / tooth_w + 0.5) % 1.0 - 0.5) ** 2) / 0.004)
    upper_h = min(0.1 * iod, 0.5 * gap)
    down = np.clip((ys - upper_y) / max(upper_h, 1.0), 0, 1)
    shade = (0.35 + 0.65 * side**0.6) * (1.0 - 0.25 * down**3) * gaps
    teeth = np.array(teeth_rgb, np.float32) * shade[..., None]
    is_upper = (ys - upper_y < upper_h * (0.6 + 0.4 * side)) & (side > 0.18)
    layer = np.where(is_upper[..., None], teeth, layer)
    lower_h = max(0.0, gap - 0.14 * iod) * 0.4
    is_lower = (lower_y - ys < lower_h * side) & (side > 0.3)
    layer = np.where(is_lower[..., None], teeth * 0.7, layer)
    tongue_h = max(0.0, gap * 0.32)
    tongue = ((xs - cx) / (half_w * 0.6)) ** 2 + ((ys - lower_y) / max(tongue_h, 1.0)) ** 2 < 1
    tongue_rgb = np.array(lip_rgb, np.float32) * 0.75
    layer = np.where((tongue & ~is_lower & ~is_upper)[..., None], tongue_rgb, layer)
    alpha = mask.astype(np.float32)[..., None] / 255.0
    patch = roi[y0:y1, x0:x1].astype(np.float32)
    roi[y0:y1, x0:x1] = np.clip(patch * (1 - alpha) + layer * alpha, 0, 255).astype(np.uint8)


def _closed_line(
    roi: np.ndarray, line: np.ndarray, iod: float, gap: float, lip_rgb: tuple[int, int, int]
) -> None:
    """Where closed lips meet: a thin shadow, darkest in the middle, fading towards the corners,
    blended onto the lips (a hard grey bar reads as a slot)."""
    import cv2

    x0, y0 = np.floor(line.min(0)).astype(int) - 3
    x1, y1 = np.ceil(line.max(0)).astype(int) + 4
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, roi.shape[1]), min(y1, roi.shape[0])
    if x1 - x0 < 3 or y1 - y0 < 2:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = np.round((line - (x0, y0)) * 4).astype(np.int32)
    thick = max(1, round(0.014 * iod + 0.5 * gap))
    cv2.polylines(mask, [pts], False, 255, thick, cv2.LINE_AA, shift=2)
    mask = cv2.GaussianBlur(mask, (3, 3), 0)
    xs = np.arange(x1 - x0, dtype=np.float32)
    cx, half = float(line[:, 0].mean()) - x0, max(float(np.ptp(line[:, 0])) / 2, 1.0)
    fade = np.clip(1.15 - np.abs(xs - cx) / half, 0.35, 1.0)[None, :]
    alpha = (mask.astype(np.float32) / 255.0 * 0.8 * fade)[..., None]
    shade = np.array(lip_rgb, np.float32) * 0.42
    patch = roi[y0:y1, x0:x1].astype(np.float32)
    roi[y0:y1, x0:x1] = np.clip(patch * (1 - alpha) + shade * alpha, 0, 255).astype(np.uint8)


def smooth_lips(inner: np.ndarray, samples: int = 12) -> np.ndarray:
    """The inner-lip contour (8 points) as a smooth closed curve: a parabola through the upper
    lip (60-64) left to right, then one through the lower lip (64-67, 60) right to left."""

    def arc(idx: list[int], reverse: bool) -> np.ndarray:
        p = inner[idx]
        x = p[:, 0] - p[0, 0]
        span = float(p[-1, 0] - p[0, 0]) or 1.0
        coef = np.polyfit(x / span, p[:, 1], 2)
        t = np.linspace(0.0, 1.0, samples)
        pts = np.stack([p[0, 0] + t * span, np.polyval(coef, t)], axis=1)
        return pts[::-1] if reverse else pts

    upper = arc([0, 1, 2, 3, 4], False)
    lower = arc([0, 7, 6, 5, 4], True)
    return np.concatenate([upper, lower]).astype(np.float32)
