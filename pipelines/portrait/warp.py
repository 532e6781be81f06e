"""Triangle-mesh piecewise-affine warping with OpenCV: a mesh over the 68 landmarks, forehead
points, a head outline and fixed anchors on the border of the face region; each frame is one
``cv2.remap`` with a backward map built per triangle (vectorised, a few ms at 512 px)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipelines.portrait.expression import face_frame, jaw

FOREHEAD_FROM = (17, 19, 21, 22, 24, 26)
OUTLINE = 18
BORDER_PER_SIDE = 4
MIN_AREA_RATIO = 0.02
"""A checked triangle that flips or shrinks below this share of its area counts as folded."""
UPPER_INNER, LOWER_INNER = {61, 62, 63}, {65, 66, 67}
LIPS = set(range(48, 68))


@dataclass(frozen=True)
class Mesh:
    """The source mesh of one photo, in the coordinates of its face region (ROI)."""

    roi: tuple[int, int, int, int]
    """x0, y0, x1, y1 of the face region in frame pixels."""
    src: np.ndarray
    """(N, 2) float32 source points in ROI pixels: 68 landmarks, forehead, outline, border."""
    tris: np.ndarray
    """(T, 3) int32 triangles."""
    checked: np.ndarray
    """(T,) bool: triangles that must never fold (all but those in the eye and mouth openings,
    which close)."""
    head_weight: np.ndarray
    """(N,) how much each point follows the head (1 on the face, 0 on the border)."""
    forehead: np.ndarray
    """Indices of the forehead points (they follow the brows a little)."""
    cheeks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Indices of the cheek points beside the mouth corners (they follow the corners a little;
    they keep the long thin triangles from the corners to the jaw from flipping)."""
    cheek_corner: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """For each cheek point, the mouth corner (48 or 54) it follows."""


def _outline(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Head outline points around the face (and their head weights)."""
    origin, rot, iod = face_frame(points)
    ang = np.linspace(0, 2 * np.pi, OUTLINE, endpoint=False)
    # ellipse in face units around a centre below the eyes: wide over the hair, deep under the chin
    cx, cy = 0.0, 0.55
    rx = 1.55
    ry = np.where(np.sin(ang) > 0, 1.55, 1.75)
    local = np.stack([cx + rx * np.cos(ang), cy + ry * np.sin(ang)], axis=1)
    pts = local * iod @ rot.T + origin
    weight = np.where(np.sin(ang) > 0.5, 0.55, 0.9)
    return pts.astype(np.float32), weight.astype(np.float32)


def _forehead(points: np.ndarray) -> np.ndarray:
    _origin, rot, iod = face_frame(points)
    up = rot[:, 1] * -1.0
    return np.array([points[i] + up * 0.5 * iod for i in FOREHEAD_FROM], np.float32)


CHEEK_OFFSETS = ((0.16, -0.08, 0.5), (0.22, 0.06, 0.5), (0.14, 0.3, 0.35))
"""Cheek points beside each mouth corner: (outward, down) in face units, and how much of the
corner's movement they follow."""


def _cheeks(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _origin, rot, iod = face_frame(points)
    pts, corner = [], []
    for c, side in ((48, -1.0), (54, 1.0)):
        for out, down, _ in CHEEK_OFFSETS:
            pts.append(points[c] + rot[:, 0] * side * out * iod + rot[:, 1] * down * iod)
            corner.append(c)
    return np.array(pts, np.float32), np.array(corner, np.int64)


def face_region(points: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """The face region: the head outline plus a margin, clipped to the frame."""
    outline, _ = _outline(points)
    _, _, iod = face_frame(points)
    lo = outline.min(0) - 0.45 * iod
    hi = outline.max(0) + 0.45 * iod
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(width, int(np.ceil(hi[0]))), min(height, int(np.ceil(hi[1])))
    return x0, y0, x1, y1


def _border(w: int, h: int) -> np.ndarray:
    k = BORDER_PER_SIDE
    t = np.linspace(0, 1, k + 1, endpoint=False)
    xs, ys = (w - 1) * t, (h - 1) * t
    top = np.stack([xs, np.zeros_like(xs)], 1)
    right = np.stack([np.full_like(ys, w - 1), ys], 1)
    bottom = np.stack([(w - 1) - xs, np.full_like(xs, h - 1)], 1)
    left = np.stack([np.zeros_like(ys), (h - 1) - ys], 1)
    return np.concatenate([top, right, bottom, left]).astype(np.float32)


def _delaunay(points: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    subdiv = cv2.Subdiv2D((-2, -2, w + 4, h + 4))
    jitter = np.random.default_rng(0).uniform(-1e-3, 1e-3, points.shape)
    pts = np.clip(points + jitter, -1, [w + 1, h + 1]).astype(np.float32)
    lookup = {}
    for i, (x, y) in enumerate(pts):
        subdiv.insert((float(x), float(y)))
        lookup[(round(float(x), 2), round(float(y), 2))] = i
    tris = []
    for t in subdiv.getTriangleList():
        keys = [(round(float(t[j]), 2), round(float(t[j + 1]), 2)) for j in (0, 2, 4)]
        if all(k in lookup for k in keys):
            tris.append([lookup[k] for k in keys])
    return np.array(tris, np.int32)


def build_mesh(points: np.ndarray, width: int, height: int) -> Mesh:
    """The mesh of a face with 68 ``points`` (frame pixels) in a ``width``×``height`` frame."""
    x0, y0, x1, y1 = face_region(points, width, height)
    w, h = x1 - x0, y1 - y0
    off = np.array([x0, y0], np.float32)
    outline, outline_w = _outline(points)
    forehead = _forehead(points)
    cheeks, cheek_corner = _cheeks(points)
    border = _border(w, h)
    inside = lambda p: np.clip(p - off, 1.0, [w - 2.0, h - 2.0])  # noqa: E731
    src = np.concatenate(
        [points - off, inside(forehead), inside(outline), border, inside(cheeks)]
    ).astype(np.float32)
    weight = np.concatenate(
        [np.ones(68 + len(forehead), np.float32), outline_w, np.zeros(len(border), np.float32),
         np.ones(len(cheeks), np.float32)]
    )  # fmt: skip
    # triangulate a version with the mouth and eyes held open, so their rims become mesh edges
    _, rot, iod = face_frame(points)
    opened = src.copy()
    opened[:68] += jaw(0.3) @ rot.T * iod
    for up, low in ((37, 41), (38, 40), (43, 47), (44, 46)):
        opened[up] -= rot[:, 1] * 0.04 * iod
        opened[low] += rot[:, 1] * 0.04 * iod
    tris = _delaunay(opened, w, h)
    holes = [set(range(60, 68)), set(range(36, 42)), set(range(42, 48))]
    checked = np.array(
        [
            not any(set(t) <= hole for hole in holes)
            and not (set(t) & UPPER_INNER and set(t) & LOWER_INNER)  # spans the lip gap
            and not ({48, 60} <= set(t) or {54, 64} <= set(t))  # corner slivers: lips close
            and not set(t) <= LIPS  # inside the lips a fold is a local glitch, not a tear
            for t in tris.tolist()
        ]
    )
    first = 68
    return Mesh(
        (x0, y0, x1, y1),
        src,
        tris,
        checked,
        weight,
        np.arange(first, first + len(forehead)),
        np.arange(len(src) - len(cheeks), len(src)),
        cheek_corner,
    )


def signed_areas(points: np.ndarray, tris: np.ndarray) -> np.ndarray:
    a, b, c = points[tris[:, 0]], points[tris[:, 1]], points[tris[:, 2]]
    return 0.5 * (
        (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    )


def folded(mesh: Mesh, dst: np.ndarray) -> int:
    """How many checked triangles flip or collapse in ``dst``."""
    src = signed_areas(mesh.src, mesh.tris)
    safe = np.abs(src) > 1e-9  # triangles already flat in the photo cannot fold
    ratio = np.divide(signed_areas(dst, mesh.tris), src, out=np.ones_like(src), where=safe)
    return int(np.count_nonzero((ratio < MIN_AREA_RATIO) & mesh.checked))


def unfold(mesh: Mesh, dst: np.ndarray, tries: int = 12) -> tuple[np.ndarray, int]:
    """``dst`` with its displacement shrunk until no checked triangle folds (and the shrink
    steps needed; 0 when it was fine)."""
    for step in range(tries):
        if folded(mesh, dst) == 0:
            return dst, step
        dst = mesh.src + (dst - mesh.src) * 0.8
    return mesh.src.copy(), tries


def backward_maps(mesh: Mesh, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.remap`` maps: for each ROI pixel of the output, where to sample the source."""
    import cv2

    x0, y0, x1, y1 = mesh.roi
    w, h = x1 - x0, y1 - y0
    index = np.zeros((h, w), np.int32)
    fixed = np.round(dst * 16).astype(np.int32)
    d = np.concatenate([dst[mesh.tris], np.ones((len(mesh.tris), 3, 1), np.float32)], axis=2)
    s = mesh.src[mesh.tris]
    det = np.linalg.det(d)
    # slivers first: the pixels they share with their neighbours go to the neighbours, whose
    # maps are sane (a squeezed triangle's map samples far across the photo: bright seams)
    for i in np.argsort(np.abs(det), kind="stable"):
        cv2.fillConvexPoly(index, fixed[mesh.tris[i]], int(i) + 1, cv2.LINE_8, shift=4)
    ok = np.abs(det) > 1e-6
    coef = np.zeros((len(mesh.tris) + 1, 3, 2), np.float32)
    coef[0] = [[1, 0], [0, 1], [0, 0]]  # index 0 = no triangle: identity
    coef[1:][~ok] = coef[0]
    coef[1:][ok] = np.linalg.solve(d[ok], s[ok])
    c = coef[index]
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    map_x = xs * c[..., 0, 0] + ys * c[..., 1, 0] + c[..., 2, 0]
    map_y = xs * c[..., 0, 1] + ys * c[..., 1, 1] + c[..., 2, 1]
    return map_x.astype(np.float32), map_y.astype(np.float32)


SMOOTH_BELOW = 0.12
"""Below the jaw the displacement is blurred with σ = this × the eye distance: the mesh's big
triangles there (jaw to head outline) move linearly each, which bends straight edges that cross
them (a collar under a moving chin) into kinks at their seams."""


def smooth_below(
    map_x: np.ndarray, map_y: np.ndarray, dst: np.ndarray, scale: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """The maps with their displacement blurred below the jaw line, fading in across it; the
    face inside the jaw line and everything above the jaw's ends (eyes, brows, hair) keep their
    exact warp. The blur runs at 1/``scale`` resolution (the field is smooth there anyway)."""
    import cv2

    _, rot, iod = face_frame(dst[:68])
    sigma = max(1.0, SMOOTH_BELOW * float(iod) / scale)
    h, w = map_x.shape
    small = (max(1, w // scale), max(1, h // scale))
    at = dst[:68] * np.array([small[0] / w, small[1] / h], np.float32)
    keep = np.zeros(small[::-1], np.float32)
    cv2.fillConvexPoly(keep, cv2.convexHull(np.round(at).astype(np.int32)), 1.0)
    up = -rot[:, 1] * 4 * (small[0] + small[1])
    above = np.array([at[0], at[0] + up, at[16] + up, at[16]])
    cv2.fillConvexPoly(keep, np.round(above).astype(np.int32), 1.0)
    fade = 1.0 - cv2.GaussianBlur(keep, (0, 0), sigma / 3)
    below = cv2.resize(fade, (w, h), interpolation=cv2.INTER_LINEAR)
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    out = []
    for m, grid in ((map_x, xs), (map_y, ys)):
        d = m - grid
        soft = cv2.GaussianBlur(
            cv2.resize(d, small, interpolation=cv2.INTER_AREA), (0, 0), sigma,
            borderType=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        soft = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)
        out.append(m + below * (soft - d))
    return out[0], out[1]


def render(roi_src: np.ndarray, mesh: Mesh, dst: np.ndarray) -> np.ndarray:
    """The warped face region."""
    import cv2

    map_x, map_y = smooth_below(*backward_maps(mesh, dst), dst)
    return cv2.remap(roi_src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
