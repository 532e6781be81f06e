"""A tiny Portrait backend built in code, for tests: a drawn cartoon face with known landmarks
(no face model), animated by the same mouth/expression/motion/warp code and encoded as MP4."""

from __future__ import annotations

import time
from typing import ClassVar, Self

import numpy as np

from pipelines.base import (
    CancelToken,
    LoadSettings,
    ProgressFn,
    Request,
    check,
    expect_request,
)
from pipelines.media import FileArtifact
from pipelines.portrait import animate
from pipelines.portrait.landmark_warp import choose_emotion, plan_clip, prepare_audio, render_video
from pipelines.portrait.request import PortraitRequest, PortraitResult

SIZE = 128


def template() -> np.ndarray:
    """A plausible neutral 68-point face in face units (eye centres at (±0.5, 0))."""
    phi = np.linspace(0, np.pi, 17)
    jaw = np.stack([-0.95 * np.cos(phi), 0.1 + 1.15 * np.sin(phi)], 1)
    bx = np.linspace(-0.78, -0.14, 5)
    brow_l = np.stack([bx, -0.3 - 0.07 * np.sin(np.pi * (bx + 0.78) / 0.64)], 1)
    brow_r = brow_l[::-1] * [-1, 1]
    nose: list[tuple[float, float]] = [(0.0, 0.08), (0, 0.2), (0, 0.32), (0, 0.44)]
    nose += [(-0.16, 0.5), (-0.08, 0.53), (0, 0.55), (0.08, 0.53), (0.16, 0.5)]
    eye_l = [(-0.7, 0), (-0.57, -0.07), (-0.43, -0.07), (-0.3, 0), (-0.43, 0.06), (-0.57, 0.06)]
    eye_r = [(0.3, 0), (0.43, -0.07), (0.57, -0.07), (0.7, 0), (0.57, 0.06), (0.43, 0.06)]
    lips = [(-0.32, 0.82), (-0.2, 0.76), (-0.08, 0.73), (0, 0.745), (0.08, 0.73), (0.2, 0.76)]
    lips += [(0.32, 0.82), (0.2, 0.9), (0.1, 0.93), (0, 0.94), (-0.1, 0.93), (-0.2, 0.9)]
    inner = [(-0.27, 0.82), (-0.1, 0.81), (0, 0.815), (0.1, 0.81), (0.27, 0.82)]
    inner += [(0.1, 0.822), (0, 0.825), (-0.1, 0.822)]
    parts = [jaw, brow_l, brow_r, nose, eye_l, eye_r, lips, inner]
    return np.concatenate([np.asarray(p, np.float32) for p in parts]).astype(np.float32)


def cartoon(size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """A drawn face (RGB) and its 68 landmarks in pixels."""
    import cv2

    iod = size * 0.22
    pts = template() * iod + np.array([size / 2, size * 0.4], np.float32)
    img = np.full((size, size, 3), (200, 215, 235), np.uint8)
    ip = np.round(pts).astype(np.int32)
    centre = (size // 2, int(size * 0.52))
    axes = (int(iod * 1.15), int(iod * 1.45))
    cv2.ellipse(img, centre, axes, 0, 0, 360, (232, 190, 160), -1, cv2.LINE_AA)
    cv2.ellipse(img, (size // 2, int(size * 0.3)), (int(iod * 1.2), int(iod * 0.7)), 0, 180, 360,
                (90, 60, 40), -1, cv2.LINE_AA)  # fmt: skip
    for a, b in ((36, 42), (42, 48)):
        cv2.fillPoly(img, [ip[a:b]], (250, 250, 250), cv2.LINE_AA)
        c = pts[a:b].mean(0)
        cv2.circle(img, (int(c[0]), int(c[1])), max(1, int(iod * 0.06)), (60, 40, 30), -1)
    for a, b in ((17, 22), (22, 27)):
        cv2.polylines(img, [ip[a:b]], False, (80, 50, 40), max(1, int(iod * 0.06)), cv2.LINE_AA)
    cv2.polylines(img, [ip[27:31]], False, (200, 150, 125), 1, cv2.LINE_AA)
    cv2.fillPoly(img, [ip[48:60]], (190, 80, 90), cv2.LINE_AA)
    return img, pts


class TinyPortraitBackend:
    """The whole portrait path minus the face model: for fast tests of the contract and UI."""

    name: ClassVar[str] = "tiny"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = PortraitRequest

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        return cls()

    def run(
        self,
        request: PortraitRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> PortraitResult:
        expect_request(request, PortraitRequest, "tiny portrait")
        t0 = time.perf_counter()
        notes: list[str] = ["The tiny backend draws a cartoon face and ignores the photo."]
        check(cancel, progress, 0.0, "drawing the face")
        frame, pts = cartoon(min(request.size, SIZE))
        samples, sr, silent = prepare_audio(request, notes)
        spec, source, _ = choose_emotion(request, samples, sr, silent)
        prep = animate.prepare(frame, pts)
        plan, n, blinks = plan_clip(request, prep, samples, sr, spec)
        clip, grid = render_video(
            prep, plan, n, samples, sr, request.fps, progress=progress, cancel=cancel
        )
        check(cancel, progress, 1.0, "done")
        return PortraitResult(
            artifacts={"video": clip, "stills": FileArtifact(grid, ".png")},
            metadata={
                "emotion": str(spec),
                "emotion_source": source,
                "notes": notes,
                "frames": n,
                "planned_blinks": blinks,
            },
            media_seconds=clip.duration,
            timings={"total": round(time.perf_counter() - t0, 4)},
        )
