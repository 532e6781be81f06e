"""One photo's animation: per-clip plan (expression, mouth, blinks, head) → per-frame landmarks →
warped frame with a painted mouth interior. Shared by the default and the tiny backend."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.emotion import EmotionSpec
from pipelines.portrait import expression as ex
from pipelines.portrait.motion import HeadTrack
from pipelines.portrait.mouth import MouthTrack, draw_interior
from pipelines.portrait.neutral import (
    calm_cheeks,
    lip_colour,
    mouth_opening_mask,
    neutral_base,
    refine_inner_lips,
)
from pipelines.portrait.shading import shade
from pipelines.portrait.warp import CHEEK_OFFSETS, Mesh, build_mesh, render, unfold

DEFAULT_TEETH = (226, 220, 206)


@dataclass(frozen=True)
class Prepared:
    """A photo ready to animate: the output-size frame, its landmarks and mesh."""

    frame: np.ndarray
    """RGB uint8 base frame at output size."""
    points: np.ndarray
    """(68, 2) landmarks in frame pixels."""
    mesh: Mesh
    roi_src: np.ndarray
    face: np.ndarray
    """(68, 2) landmarks in face units."""
    origin: np.ndarray
    rot: np.ndarray
    iod: float
    source: ex.SourceExpression
    teeth: tuple[int, int, int]
    lips: tuple[int, int, int]
    roi_calm: np.ndarray | None = None
    """``roi_src`` with a smile's cheek highlights toned down, for the neutral share (None when
    the photo does not smile)."""


def prepare(frame: np.ndarray, points: np.ndarray) -> Prepared:
    """Landmarks refined to the visible mouth opening, the neutral base (teeth painted over,
    smile folds softened) and its mesh."""
    h, w = frame.shape[:2]
    opening = mouth_opening_mask(frame, points)
    if opening.any():
        points = refine_inner_lips(points, opening)
    mesh = build_mesh(points, w, h)
    x0, y0, x1, y1 = mesh.roi
    origin, rot, iod = ex.face_frame(points)
    source = ex.measure_source(points)
    base, _ = neutral_base(frame, points, source)
    calm = calm_cheeks(base, points, source)
    return Prepared(
        frame=frame,
        points=points.astype(np.float32),
        mesh=mesh,
        roi_src=np.ascontiguousarray(base[y0:y1, x0:x1]),
        face=ex.to_face(points),
        origin=origin.astype(np.float32),
        rot=rot,
        iod=iod,
        source=source,
        teeth=_teeth_colour(frame, points, source),
        lips=lip_colour(frame, points, opening),
        roi_calm=None if calm is None else np.ascontiguousarray(calm[y0:y1, x0:x1]),
    )


def _teeth_colour(
    frame: np.ndarray, points: np.ndarray, src: ex.SourceExpression
) -> tuple[int, int, int]:
    """The source's own teeth colour when its mouth is open, else a natural default."""
    import cv2

    if src.mouth_open < 0.05:
        return DEFAULT_TEETH
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[60:68]).astype(np.int32)], 1)
    pixels = frame[mask > 0].astype(np.float32)
    if len(pixels) < 8:
        return DEFAULT_TEETH
    bright = pixels[pixels.sum(1) >= np.percentile(pixels.sum(1), 75)]
    r, g, b = (int(v) for v in np.median(bright, axis=0))
    return (r, g, b) if r + g + b > 360 else DEFAULT_TEETH


@dataclass(frozen=True)
class Plan:
    """Everything that moves, per clip."""

    static: np.ndarray
    """(68, 2) face-unit deformation: the emotion plus the source's compensation."""
    jaw_rest: float
    mouth: MouthTrack
    blink: np.ndarray
    head: HeadTrack
    texture: np.ndarray
    """The face region's source texture with the emotion's folds shaded in."""
    talk: float = 1.0
    """The emotion's gain on the talking mouth's opening (pressed for anger, wide for fear)."""


def make_plan(
    prep: Prepared, spec: EmotionSpec, mouth: MouthTrack, blink: np.ndarray, head: HeadTrack
) -> Plan:
    offsets, jaw_rest = ex.emotion_offsets(spec)
    comp, comp_jaw = ex.compensation(prep.face, prep.source)
    calm = sum(w for label, w in spec.label_weights() if label == "neutral")
    comp = comp + ex.smile_residue(prep.source) * calm
    roi = prep.roi_src
    if prep.roi_calm is not None and calm > 0:
        roi = (roi * (1.0 - calm) + prep.roi_calm * calm).round().astype(np.uint8)
    texture = shade(roi, prep.mesh.src[:68], prep.rot, prep.iod, ex.au_weights(spec))
    return Plan(
        offsets + comp, jaw_rest + comp_jaw, mouth, blink, head, texture, ex.talk_gain(spec)
    )


def _depth() -> np.ndarray:
    """Rough height of each of the 68 landmarks above the face's outline plane, in face units
    (nose tip highest, the jaw's sides on the plane): how far a point moves when the head turns."""
    z = np.zeros(68, np.float32)
    z[0:17] = 0.35 * (1.0 - np.abs(np.arange(17) - 8) / 8.0) ** 1.5
    z[17:27] = [0.25, 0.3, 0.35, 0.38, 0.4, 0.4, 0.38, 0.35, 0.3, 0.25]
    z[27:31] = [0.45, 0.55, 0.65, 0.75]
    z[31:36] = [0.5, 0.55, 0.6, 0.55, 0.5]
    z[36:48] = 0.25
    z[48:60] = 0.5
    z[[48, 54]] = 0.35
    z[60:68] = 0.45
    return z


DEPTH = _depth()


def face_points(prep: Prepared, plan: Plan, i: int) -> np.ndarray:
    """The 68 landmarks of frame ``i`` in face units (before head motion)."""
    m = plan.mouth
    shut = float(m.closed[i]) if m.closed is not None else 0.0
    f = prep.face + plan.static
    f = f + ex.jaw(plan.jaw_rest * (1.0 - shut) + plan.talk * float(m.opening[i]))
    f = f + ex.lip_shape(float(m.spread[i]), float(m.rounded[i]))
    f = f + ex.blink(f, float(plan.blink[i]))
    for up, low in ((61, 67), (62, 66), (63, 65)):  # lips may touch, never cross
        f[low, 1] = max(f[low, 1], f[up, 1])
        f[low, 1] -= shut * (f[low, 1] - f[up, 1])  # bilabials: pressed shut
    for up, low in ((37, 41), (38, 40), (43, 47), (44, 46)):
        f[up, 1] = min(f[up, 1], f[low, 1] - 0.004)
    return f


def frame_points(prep: Prepared, plan: Plan, i: int, *, safe: bool = True) -> np.ndarray:
    """All mesh points of frame ``i`` in ROI pixels, head motion included; ``safe`` shrinks the
    deformation if a triangle would fold (the deformations are built never to need it)."""
    mesh = prep.mesh
    off = np.array(mesh.roi[:2], np.float32)
    f = face_points(prep, plan, i)
    dst = mesh.src.copy()
    dst[:68] = f @ prep.rot.T * prep.iod + prep.origin - off
    brows = (dst[17:27] - mesh.src[17:27]).mean(0)
    dst[mesh.forehead] += 0.45 * brows
    if len(mesh.cheeks):
        follow = np.tile(np.array([c[2] for c in CHEEK_OFFSETS], np.float32), 2)[:, None]
        dst[mesh.cheeks] += follow * (dst[mesh.cheek_corner] - mesh.src[mesh.cheek_corner])
    h = plan.head
    if h.yaw is not None and h.pitch is not None:  # turn/nod: nearer points move further
        turn = np.array([np.sin(np.deg2rad(h.yaw[i])), np.sin(np.deg2rad(h.pitch[i]))])
        depth = np.zeros(len(dst), np.float32)
        depth[:68] = DEPTH
        depth[mesh.forehead] = 0.35
        depth[mesh.cheeks] = 0.3
        dst += (depth[:, None] * turn[None, :].astype(np.float32)) @ prep.rot.T * prep.iod
    theta = np.deg2rad(float(h.roll[i]))
    c, s = np.cos(theta), np.sin(theta)
    rot = np.array([[c, -s], [s, c]], np.float32)
    pivot = prep.points[8] + prep.rot[:, 1] * 0.6 * prep.iod - off
    shift = (prep.rot @ np.array([h.dx[i], h.dy[i]], np.float32)) * prep.iod
    moved = (dst - pivot) @ rot.T + pivot + shift
    w = mesh.head_weight[:, None]
    dst = dst + w * (moved - dst)
    dst = dst.astype(np.float32)
    return unfold(mesh, dst)[0] if safe else dst


def render_frame(prep: Prepared, plan: Plan, i: int) -> np.ndarray:
    """The RGB frame ``i``."""
    dst = frame_points(prep, plan, i)
    roi = render(plan.texture, prep.mesh, dst)
    draw_interior(roi, dst[60:68], prep.iod, prep.teeth, prep.lips)
    out = prep.frame.copy()
    x0, y0, x1, y1 = prep.mesh.roi
    out[y0:y1, x0:x1] = roi
    return out
