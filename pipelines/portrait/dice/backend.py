"""The ``dice`` Portrait backend: DICE-Talk (our port) from the user's own weights, in a worker.

The studio's side (this module, main environment): it reads the photo, finds the face with dlib
(:mod:`pipelines.portrait.face`; DICE-Talk uses YOLO-face) and frames it as the default backend
does, reads the speech, picks the emotion as the default backend does and maps it to DICE-Talk's
priors (:mod:`.plan`), then asks the worker (:mod:`.worker`, in the ``dice`` environment) for the
frames and streams them into the studio's MP4 writer with the audio. Progress comes per window
and denoising step; a cancel stops the worker between two windows.

Options (``LoadSettings.options``): ``dice_model_dir`` (else ``--model-dir``; see
:func:`pipelines.portrait.dice.layout.locate`), ``dice_python`` (a python with the stack, instead
of the built env), ``envs_dir``, ``dice_fp16`` (default: on CUDA), ``dice_steps`` (25),
``dice_reference_scale`` (3), ``dice_audio_scale`` (6), ``dice_emotion_scale`` (6: the full
intensity's; DICE-Talk ties it to the audio scale), ``dice_window`` (25), ``dice_overlap`` (5),
``dice_decode_chunk`` (10), ``dice_windows`` ("blend": overlapping windows cross-faded;
"dice": DICE-Talk's own shifted windows, with ``dice_shift_offset``, 7), ``dice_max_side`` (512:
the model's short side; the video is resized to the request's size).
"""

from __future__ import annotations

import base64
import contextlib
import math
import os
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from pipelines import envs
from pipelines.base import (
    CancelToken,
    LoadSettings,
    PipelineError,
    ProgressFn,
    Request,
    check,
    expect_request,
)
from pipelines.media import FileArtifact, VideoClip
from pipelines.portrait.dice import plan
from pipelines.portrait.dice.client import WorkerClient
from pipelines.portrait.dice.layout import LayoutError, locate
from pipelines.portrait.face import FaceModels
from pipelines.portrait.landmark_warp import choose_emotion, framed_photo, prepare_audio
from pipelines.portrait.request import PortraitRequest, PortraitResult
from pipelines.portrait.video import VideoWriter, stills_grid, temp_video_path
from pipelines.scratch import work_dir

LICENCE = (
    "Weights are the user's own download: DICE-Talk's are CC BY-NC-SA 4.0 (non-commercial, "
    "share-alike); Stable Video Diffusion's and Whisper's come under their own licences."
)
SAMPLE_RATE = 16000
STILLS = 6
DEFAULTS: dict[str, tuple[str, type]] = {
    "steps": ("dice_steps", int),
    "reference_scale": ("dice_reference_scale", float),
    "audio_scale": ("dice_audio_scale", float),
    "window": ("dice_window", int),
    "overlap": ("dice_overlap", int),
    "decode_chunk": ("dice_decode_chunk", int),
    "windows": ("dice_windows", str),
    "shift_offset": ("dice_shift_offset", int),
}
"""Sampler settings read from the options (defaults: the worker's, i.e. DICE-Talk's)."""


def resolve_model_dir(settings: LoadSettings) -> Path:
    """The weights folder from ``dice_model_dir`` or ``--model-dir``, checked (no torch)."""
    given = settings.options.get("dice_model_dir") or settings.model_dir
    if not given:
        raise PipelineError(
            "The DICE-Talk backend needs its weights: start the studio with --model-dir DIR "
            "where DIR holds DICE-Talk's layout (dice-talk/, stable-video-diffusion-img2vid-xt/, "
            "whisper-tiny/; see the README's DICE-Talk section)."
        )
    base = Path(str(given)).expanduser()
    if not base.is_dir():
        raise PipelineError(f"The DICE-Talk weights folder {base} does not exist.")
    try:
        return locate(base).root.resolve()
    except LayoutError as exc:
        raise PipelineError(str(exc)) from exc


def _python(settings: LoadSettings) -> Path:
    opts = settings.options
    if opts.get("dice_python"):
        return Path(str(opts["dice_python"]))
    spec = envs.spec("dice")
    root = Path(str(opts["envs_dir"])) if opts.get("envs_dir") else None
    status = envs.env_status(spec, root)
    if not status.ready:
        raise PipelineError(
            f"The DICE-Talk environment is not installed. Run `{spec.install_command}` once "
            f"(an isolated environment of about 1.1 GB at {status.path}), then load the backend "
            "again."
        )
    return status.python


def face_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """The face box from dlib's 68 landmarks (jaw, brows, chin), raised by a fifth of its
    height to take in the forehead."""
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return float(x0), float(y0 - 0.2 * (y1 - y0)), float(x1), float(y1)


def model_frame(
    frame: np.ndarray, box: tuple[float, float, float, float], max_side: int
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The framed photo at the model's size (short side ≤ ``max_side``, sides multiples of 64,
    as DICE-Talk resizes) and the face box in its pixels."""
    import cv2

    h, w = frame.shape[:2]
    side = max(64, min(max_side, round(min(h, w) / 64) * 64))
    scale = side / min(h, w)
    mw, mh = max(64, round(w * scale / 64) * 64), max(64, round(h * scale / 64) * 64)
    if (mw, mh) == (w, h):
        return frame, box
    interp = cv2.INTER_AREA if mw < w else cv2.INTER_CUBIC
    small = cv2.resize(frame, (mw, mh), interpolation=interp)
    sx, sy = mw / w, mh / h
    return small, (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)


def _resample(samples: np.ndarray, sr: int) -> np.ndarray:
    from math import gcd

    from scipy.signal import resample_poly

    if sr == SAMPLE_RATE:
        return samples.astype(np.float32)
    g = gcd(sr, SAMPLE_RATE)
    return resample_poly(samples, SAMPLE_RATE // g, sr // g).astype(np.float32)


class DiceBackend:
    """DICE-Talk (diffusion) in an isolated worker process; see the module docstring."""

    name: ClassVar[str] = "dice"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = PortraitRequest

    def __init__(self, worker: WorkerClient, info: dict[str, Any], settings: LoadSettings) -> None:
        self._worker = worker
        self.info = info
        """The worker's load reply: model_dir, device, dtype, parameters, versions."""
        opts = settings.options
        self._settings = {k: kind(opts[o]) for k, (o, kind) in DEFAULTS.items() if o in opts}
        if self._settings.get("windows", "blend") not in plan.WINDOW_SCHEMES:
            raise PipelineError(
                f"dice_windows must be one of {', '.join(plan.WINDOW_SCHEMES)}, "
                f"got {self._settings['windows']!r}."
            )
        self._emotion_scale = float(opts.get("dice_emotion_scale", 6.0))
        self._max_side = int(opts.get("dice_max_side", 512))
        self.faces = FaceModels.load()
        weakref.finalize(self, worker.close)  # a dropped backend does not leave its worker

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        model_dir = resolve_model_dir(settings)
        python = _python(settings)
        worker = WorkerClient(python, threads=settings.threads)
        fp16 = bool(settings.options.get("dice_fp16", settings.device.startswith("cuda")))
        try:
            info = worker.call(
                "load",
                model_dir=str(model_dir),
                device=settings.device,
                threads=settings.threads,
                fp16=fp16,
            )
            return cls(worker, info, settings)
        except BaseException:
            worker.close()
            raise

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs."""
        proc = self._worker.proc
        return proc.pid if proc.poll() is None else None

    def unload(self) -> None:
        """Stop the worker and free its memory; ``run`` fails after this until ``load``."""
        self._worker.close()

    close = unload

    def run(
        self,
        request: PortraitRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> PortraitResult:
        expect_request(request, PortraitRequest, "dice")
        t0 = time.perf_counter()
        notes: list[str] = []
        frame, pts, framing = framed_photo(request, self.faces, notes, progress, cancel)
        small, box = model_frame(frame, face_box(pts), self._max_side)
        check(cancel, progress, 0.04, "reading the audio")
        samples, sr, silent = prepare_audio(request, notes)
        spec, source, facts = choose_emotion(request, samples, sr, silent)
        n = max(1, math.ceil(len(samples) / sr * request.fps - 1e-9))
        priors = plan.prior_weights(spec)
        settings = {
            **self._settings,
            "emotion_scale": plan.emotion_scale(spec, self._emotion_scale),
        }
        if request.head_motion != 1.0 or request.blink_rate != 17.0:
            notes.append(
                "DICE-Talk makes its own head motion and blinks (those settings are unused)."
            )
        if request.phonemes:
            notes.append("DICE-Talk follows the audio itself (the phoneme timings are unused).")
        if request.emotion_check:
            notes.append("The emotion check is made by the warp backend only (not run here).")
        folder = Path(tempfile.mkdtemp(prefix="dice-", dir=work_dir()))
        np.save(folder / "frame.npy", np.ascontiguousarray(small))
        np.save(folder / "audio.npy", _resample(samples, sr))
        h, w = frame.shape[:2]
        total = round(n / request.fps * sr)
        audio = np.zeros(total, np.float32)
        audio[: min(total, len(samples))] = samples[:total]
        path = temp_video_path()
        writer = VideoWriter(path, w, h, request.fps, audio, sr)
        wanted = {int(i) for i in np.linspace(0, n - 1, min(STILLS, n)).round()}
        stills: list[np.ndarray] = []
        t_prep = time.perf_counter()

        def on_event(event: dict[str, Any]) -> bool:
            import cv2

            if event["event"] == "progress":
                done = event["step"] * event["windows"] + event["window"] + 1
                of = event["steps"] * event["windows"]
                check(cancel, progress, 0.05 + 0.85 * done / of,
                      f"step {event['step'] + 1}/{event['steps']}, "
                      f"window {event['window'] + 1}/{event['windows']}")  # fmt: skip
                return True
            chunk = np.frombuffer(base64.b64decode(event["b64"]), np.uint8)
            for out in chunk.reshape(event["shape"]):
                if out.shape[:2] != (h, w):
                    out = cv2.resize(out, (w, h), interpolation=cv2.INTER_CUBIC)
                if writer.frames in wanted:
                    stills.append(out)
                writer.write(out)
            check(cancel, progress, 0.9 + 0.08 * writer.frames / n, "decoding")
            return True

        try:
            reply = self._worker.call(
                "generate",
                on_event,
                frame=str(folder / "frame.npy"),
                box=list(box),
                audio=str(folder / "audio.npy"),
                fps=request.fps,
                frames=n,
                priors=priors,
                settings=settings,
                seed=request.seed,
            )
            if writer.frames != n:
                raise PipelineError(f"DICE-Talk made {writer.frames} frames, {n} expected.")
            writer.close()
        except BaseException:
            writer.abort()
            raise
        finally:
            for f in folder.iterdir():
                f.unlink()
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        t_done = time.perf_counter()
        check(cancel, progress, 1.0, "done")
        clip = VideoClip(path, float(request.fps), n / request.fps, w, h)
        metadata: dict[str, Any] = {
            "emotion": str(spec),
            "emotion_source": source,
            "prosody": facts,
            "priors": priors,
            "emotion_scale": round(settings["emotion_scale"], 4),
            "notes": notes,
            "frames": n,
            "fps": request.fps,
            "size": [w, h],
            "model_size": [int(small.shape[1]), int(small.shape[0])],
            "framing": framing,
            "face_box": [round(v, 1) for v in box],
            "dice": {k: v for k, v in reply.items() if k not in ("id", "ok")},
            "device": self.info["device"],
            "dtype": self.info["dtype"],
            "licence": LICENCE,
        }
        return PortraitResult(
            artifacts={"video": clip, "stills": FileArtifact(stills_grid(stills), ".png")},
            metadata=metadata,
            media_seconds=clip.duration,
            timings={"prepare": round(t_prep - t0, 4), "generate": round(t_done - t_prep, 4)},
        )
