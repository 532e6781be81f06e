"""The default Portrait backend: landmark-driven 2-D warp animation, offline, real time on a CPU.

Photo → dlib face + 68 landmarks → a triangle mesh over the face region; audio (or phoneme
timings) → jaw and lip shape per frame; the emotion → action-unit deformations measured from the
photo's own expression; blinks and head motion → each frame one OpenCV remap, streamed to x264.
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from pipelines.base import (
    CancelToken,
    LoadSettings,
    ProgressFn,
    Request,
    check,
    expect_request,
)
from pipelines.emotion import EmotionSpec
from pipelines.media import FileArtifact, VideoClip
from pipelines.portrait import animate, measure, motion, mouth
from pipelines.portrait.audio import estimate_emotion, is_silent, load_audio
from pipelines.portrait.face import FaceModels, find_face, load_image
from pipelines.portrait.request import PortraitRequest, PortraitResult
from pipelines.portrait.video import VideoWriter, stills_grid, temp_video_path

STILLS = 6
SILENCE_RATE = 16000


def face_crop_side(points: np.ndarray) -> float:
    """The side (photo px) of the square "face" framing: 4.8 eye distances."""
    return 4.8 * float(np.linalg.norm(points[42:48].mean(0) - points[36:42].mean(0)))


def framed_photo(
    request: PortraitRequest,
    models: FaceModels,
    notes: list[str],
    progress: ProgressFn | None,
    cancel: CancelToken | None,
) -> tuple[np.ndarray, np.ndarray, str]:
    """The request's photo read, its face found and framed: (base frame, its landmarks, the
    framing used)."""
    check(cancel, progress, 0.0, "reading the photo")
    name = request.image.name if request.image else "the default portrait"
    rgb = load_image(request.image_path, notes)
    check(cancel, progress, 0.02, "finding the face")
    points = find_face(models, rgb, name, notes)
    framing = request.framing_for(min(rgb.shape[:2]), face_crop_side(points))
    frame, pts = frame_photo(rgb, points, request.size, framing == "face")
    return frame, pts, framing


def frame_photo(
    rgb: np.ndarray, points: np.ndarray, size: int, crop: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The base frame (short side ``size``, even sides) and the landmarks in its pixels."""
    import cv2

    h, w = rgb.shape[:2]
    if crop:
        eyes = (points[36:42].mean(0) + points[42:48].mean(0)) / 2
        side = min(face_crop_side(points), w, h)
        cx = float(np.clip(eyes[0], side / 2, w - side / 2))
        below = 0.75 * face_crop_side(points) / 4.8  # centre 0.75 eye distances below the eyes
        cy = float(np.clip(eyes[1] + below, side / 2, h - side / 2))
        x0, y0 = cx - side / 2, cy - side / 2
        scale = size / side
        out_w = out_h = size
    else:
        x0 = y0 = 0.0
        scale = size / min(w, h)
        out_w, out_h = (round(w * scale) // 2) * 2, (round(h * scale) // 2) * 2
    m = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], np.float32)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    if scale < 1:  # area-average first for a clean downscale, then place exactly
        small = cv2.resize(
            rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interp
        )
        m2 = np.array([[1, 0, -x0 * scale], [0, 1, -y0 * scale]], np.float32)
        frame = cv2.warpAffine(
            small, m2, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    else:
        frame = cv2.warpAffine(
            rgb, m, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
        )
    pts = points * scale - np.array([x0 * scale, y0 * scale], np.float32)
    return np.ascontiguousarray(frame), pts.astype(np.float32)


def prepare_audio(req: PortraitRequest, notes: list[str]) -> tuple[np.ndarray, int, bool]:
    """Samples (idle padding included), rate, and whether there is any speech."""
    if req.audio is None:
        samples = np.zeros(int(req.silence * SILENCE_RATE), np.float32)
        sr, silent = SILENCE_RATE, True
    else:
        samples, sr = load_audio(req.audio)
        silent = is_silent(samples)
        if silent:
            notes.append(f"{req.audio.name} is silent: the portrait breathes and blinks only.")
    if req.idle > 0:
        pad = np.zeros(int(req.idle * sr), np.float32)
        samples = np.concatenate([pad, samples, pad])
    return samples, sr, silent


def choose_emotion(
    req: PortraitRequest, samples: np.ndarray, sr: int, silent: bool
) -> tuple[EmotionSpec, str, dict[str, float]]:
    if req.emotion is not None:
        return req.emotion, "request", {}
    if req.voice_emotion is not None:
        return req.voice_emotion, "voice", {}
    if silent:
        return EmotionSpec(), "default", {}
    spec, facts = estimate_emotion(samples, sr)
    return spec, "audio prosody", facts


def plan_clip(
    req: PortraitRequest, prep: animate.Prepared, samples: np.ndarray, sr: int, spec: EmotionSpec
) -> tuple[animate.Plan, int, int]:
    """The clip's plan, frame count and planned blinks."""
    n = max(1, math.ceil(len(samples) / sr * req.fps - 1e-9))
    track = mouth.from_audio(samples, sr, req.fps, n)
    if req.phonemes:
        shift = req.idle
        phon = [(p, s + shift, e + shift) for p, s, e in req.phonemes]
        track = mouth.from_phonemes(phon, track, req.fps, n)
    closure, blinks = motion.blinks(req.seed, n, req.fps, req.blink_rate)
    head = motion.head_motion(req.seed, track.energy, req.fps, req.head_motion)
    return animate.make_plan(prep, spec, track, closure, head), n, blinks


def still_indices(plan: animate.Plan, n: int, count: int = STILLS) -> list[int]:
    """One frame per equal part of the clip: its most open mouth (talking stills)."""
    edges = np.linspace(0, n, count + 1).astype(int)
    picks = []
    for a, b in itertools.pairwise(edges):
        if b > a:
            picks.append(a + int(np.argmax(plan.mouth.opening[a:b] - plan.blink[a:b])))
    return sorted(set(picks))


def render_video(
    prep: animate.Prepared,
    plan: animate.Plan,
    n: int,
    samples: np.ndarray,
    sr: int,
    fps: int,
    *,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
    span: tuple[float, float] = (0.1, 0.85),
) -> tuple[VideoClip, bytes]:
    """Render and stream every frame to the encoder; returns the clip and its stills grid."""
    h, w = prep.frame.shape[:2]
    total = round(n / fps * sr)
    audio = np.zeros(total, np.float32)
    audio[: min(total, len(samples))] = samples[:total]
    check(cancel, None, span[0], "animating")
    path = temp_video_path()
    writer = VideoWriter(path, w, h, fps, audio, sr)
    wanted = set(still_indices(plan, n))
    stills: list[np.ndarray] = []
    lo, hi = span
    try:
        for i in range(n):
            check(cancel, progress, lo + (hi - lo) * i / n, f"frame {i + 1}/{n}")
            frame = animate.render_frame(prep, plan, i)
            if i in wanted:
                stills.append(frame)
            writer.write(frame)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return VideoClip(path, float(fps), n / fps, w, h), stills_grid(stills)


class WarpBackend:
    """Landmark-driven 2-D warp animation (dlib 68 points + OpenCV remap + x264)."""

    name: ClassVar[str] = "warp"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = PortraitRequest

    def __init__(self, models: FaceModels) -> None:
        self.models = models

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        return cls(FaceModels.load())

    def run(
        self,
        request: PortraitRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> PortraitResult:
        expect_request(request, PortraitRequest, "warp")
        t0 = time.perf_counter()
        notes: list[str] = []
        frame, pts, framing = framed_photo(request, self.models, notes, progress, cancel)
        check(cancel, progress, 0.05, "reading the audio")
        samples, sr, silent = prepare_audio(request, notes)
        spec, source, facts = choose_emotion(request, samples, sr, silent)
        prep = animate.prepare(frame, pts)
        plan, n, blinks = plan_clip(request, prep, samples, sr, spec)
        t_prep = time.perf_counter()
        check(cancel, progress, 0.1, "animating")
        clip, grid = render_video(
            prep, plan, n, samples, sr, request.fps, progress=progress, cancel=cancel,
            span=(0.1, 0.8 if request.emotion_check else 0.98),
        )  # fmt: skip
        t_render = time.perf_counter()
        metadata: dict[str, Any] = {
            "emotion": str(spec),
            "emotion_source": source,
            "prosody": facts,
            "notes": notes,
            "frames": n,
            "fps": request.fps,
            "size": [clip.width, clip.height],
            "framing": framing,
            "planned_blinks": blinks,
            "head_motion_range": {k: round(v, 3) for k, v in plan.head.range().items()},
            "source_expression": {
                "smile": round(prep.source.smile, 4),
                "mouth_open": round(prep.source.mouth_open, 4),
            },
        }
        timings = {"prepare": t_prep - t0, "render_encode": t_render - t_prep}
        if request.emotion_check:
            metadata["emotion_check"] = self.check_clip(
                clip.path, prep, plan, n, samples, sr, request.fps, spec, progress, cancel
            )
            timings["emotion_check"] = time.perf_counter() - t_render
        check(cancel, progress, 1.0, "done")
        return PortraitResult(
            artifacts={"video": clip, "stills": FileArtifact(grid, ".png")},
            metadata=metadata,
            media_seconds=clip.duration,
            timings={k: round(v, 4) for k, v in timings.items()},
        )

    def check_clip(
        self,
        path: Path,
        prep: animate.Prepared,
        plan: animate.Plan,
        n: int,
        samples: np.ndarray,
        sr: int,
        fps: int,
        spec: EmotionSpec,
        progress: ProgressFn | None,
        cancel: CancelToken | None,
    ) -> dict[str, Any]:
        """Track the encoded output and a neutral render of the same photo and audio."""
        from pipelines.portrait.video import read_frames

        check(cancel, progress, 0.8, "emotion check: tracking the video")
        out_lm = measure.track(self.models, read_frames(path))
        neutral_lm = None
        if spec.label != "neutral" or spec.intensity > 0:
            neutral = animate.make_plan(prep, EmotionSpec(), plan.mouth, plan.blink, plan.head)
            check(cancel, progress, 0.9, "emotion check: neutral reference")
            neutral_lm = measure.track(
                self.models, (animate.render_frame(prep, neutral, i) for i in range(n))
            )
        return measure.emotion_check(out_lm, neutral_lm, samples, sr, fps, prep.points)
