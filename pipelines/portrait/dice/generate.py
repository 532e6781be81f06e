"""One DICE-Talk clip from start to end: features → sliding-window sampler → chunked decode,
frames streamed out as they are decoded (memory does not grow with the clip's length beyond
its latents and audio tokens, which stay on the CPU).

Runs only inside the ``dice`` environment (the worker calls :func:`generate`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pipelines.portrait.dice import plan
from pipelines.portrait.dice.features import (
    DiceStack,
    audio_tokens,
    emotion_tokens,
    image_inputs,
    whisper_features,
)
from pipelines.portrait.dice.sampling import (
    ClipInputs,
    EulerSchedule,
    decode_frames,
    sample_latents,
    sample_latents_shifted,
    shifted_windows,
)
from pipelines.portrait.dice.windows import window_starts

MOTION_BUCKET = 8
AUGMENTATION_ID = 16
"""DICE-Talk's added time ids: fps 12.5, motion bucket 8, and 16 in SVD's noise-augmentation
slot (DICE-Talk's ``motion_bucket_id_exp``)."""


@dataclass(frozen=True)
class Settings:
    """Sampler settings; the defaults are DICE-Talk's inference configuration, except the
    windows: ``"blend"`` (default) overlaps them by ``overlap`` frames and cross-fades; ``"dice"``
    is DICE-Talk's own scheme (a padding window, windows without overlap shifted by
    ``shift_offset`` more each step, wrapping around; see ``sample_latents_shifted``)."""

    steps: int = 25
    reference_scale: float = 3.0
    audio_scale: float = 6.0
    emotion_scale: float = 6.0
    window: int = 25
    overlap: int = 5
    decode_chunk: int = 10
    windows: str = "blend"
    shift_offset: int = 7

    def __post_init__(self) -> None:
        if self.windows not in plan.WINDOW_SCHEMES:
            raise ValueError(f"windows must be one of {plan.WINDOW_SCHEMES}, got {self.windows!r}")


def generate(
    stack: DiceStack,
    frame: np.ndarray,
    box: tuple[float, float, float, float],
    samples: np.ndarray,
    fps: float,
    frames: int,
    priors: Mapping[str, float],
    settings: Settings,
    seed: int,
    *,
    on_window: Callable[[int, int, int, int], None] | None = None,
    on_frames: Callable[[np.ndarray], None],
) -> dict[str, Any]:
    """Make ``frames`` frames at ``fps`` of the face in ``frame`` (RGB uint8, sides multiples of
    64, face ``box`` in its pixels) speaking 16 kHz ``samples`` with the prior mix ``priors``.

    ``on_window(step, steps, window, windows)`` after each window (raise there to cancel);
    ``on_frames(uint8 array (n, H, W, 3))`` for each decoded chunk, in order. Returns timings
    and the plan's sizes.
    """
    t0 = time.perf_counter()
    step = plan.frame_step(fps)
    count = plan.generated_frames(frames, step)
    features = whisper_features(stack, samples)
    audio, uncond_audio = audio_tokens(stack, features, plan.audio_window_starts(count, step, fps))
    emotion, uncond_emotion = emotion_tokens(stack, priors)
    image = image_inputs(stack, frame, box)
    t1 = time.perf_counter()
    clip = ClipInputs(
        reference_latents=image["latents"],
        image_embeds=image["embeds"],
        audio=audio,
        uncond_audio=uncond_audio.expand(count, -1, -1),
        emotion=emotion.expand(count, -1, -1),
        uncond_emotion=uncond_emotion.expand(count, -1, -1),
        spatial=image["spatial"].expand(count, -1, -1, -1),
        mask=image["mask"],
        added_time_ids=torch.tensor([plan.MODEL_FPS, MOTION_BUCKET, AUGMENTATION_ID]),
    )
    schedule = EulerSchedule.from_config(stack.scheduler_config, settings.steps)
    dice = settings.windows == "dice"
    if dice:
        windows = len(shifted_windows(count + settings.window, settings.window, 0, 0))
    else:
        windows = len(window_starts(count, settings.window, settings.overlap))

    def window_done(i: int, w: int) -> None:
        if on_window is not None:
            on_window(i, schedule.steps, w, windows)

    tied = settings.emotion_scale == settings.audio_scale
    common: dict[str, Any] = {
        "window": settings.window,
        "reference_scale": settings.reference_scale,
        "audio_scale": settings.audio_scale,
        "emotion_scale": None if tied else settings.emotion_scale,
        "generator": torch.Generator().manual_seed(int(seed)),
        "on_window": window_done,
    }
    if dice:
        init = (image["latents"].float() * stack.vae.config.scaling_factor).cpu()
        latents = sample_latents_shifted(
            stack.models.unet,
            clip,
            schedule,
            overlap=0,
            shift_offset=settings.shift_offset,
            init_latents=init,
            **common,
        )
    else:
        latents = sample_latents(
            stack.models.unet, clip, schedule, overlap=settings.overlap, **common
        )
    t2 = time.perf_counter()
    if not bool(torch.isfinite(latents).all()):
        raise FloatingPointError(
            "the sampler produced non-finite latents (NaN/inf): in float16 this is an overflow; "
            "try the option dice_fp16=false"
        )
    sources = plan.output_sources(frames, step)
    written = 0
    for start in range(0, frames, settings.decode_chunk):
        part = sources[start : start + settings.decode_chunk]
        a = latents[[s[0] for s in part]]
        b = latents[[s[1] for s in part]]
        wb = torch.tensor([s[2] for s in part]).view(-1, 1, 1, 1)
        for pixels in decode_frames(stack.vae, a * (1 - wb) + b * wb, settings.decode_chunk):
            on_frames(pixels.numpy())
            written += int(pixels.shape[0])
    t3 = time.perf_counter()
    return {
        "frames": written,
        "generated_frames": count,
        "frame_step": step,
        "windows": windows,
        "rows": 3 if tied else 4,
        "timings": {
            "features": round(t1 - t0, 4),
            "sampling": round(t2 - t1, 4),
            "decode": round(t3 - t2, 4),
        },
    }
