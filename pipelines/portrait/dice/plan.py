"""What the studio asks of DICE-Talk, in DICE-Talk's terms (pure Python: safe in the main env).

**Emotion.** The studio's eight emotions (:data:`pipelines.emotion.EMOTIONS`) are MEAD's, as
DICE-Talk's eight priors are; :func:`prior_weights` names the prior file of each. A blend is a
weighted mix of the priors (the worker mixes the 256-d vectors, then the emotion module attends
over its bank); the intensity scales the emotion guidance, i.e. how far the last guidance row
(reference + audio + emotion) pushes past the row without emotion: 0 leaves the emotion out,
1 is the full ``emotion_scale``.

**Time.** DICE-Talk generates at 12.5 frames per second (2 audio frames of 40 ms per video frame)
and doubles that with RIFE. Here the clip is generated at ``fps / step`` frames per second, with
``step = round(fps / 12.5)`` (25 fps → every 2nd frame), and the frames between are made by
interpolating the latents of their neighbours before the VAE decodes them, so the MP4 has
exactly the audio's frame count at the request's rate. Each generated frame hears 10 Whisper
steps (20 ms each) starting 4 steps before its own time, zeros beyond the audio's ends, as
DICE-Talk windows its features.
"""

from __future__ import annotations

import math

from pipelines.emotion import EMOTIONS, EmotionSpec

PRIOR_OF: dict[str, str] = {
    "neutral": "neutral",
    "happy": "happy",
    "sad": "sad",
    "angry": "angry",
    "fearful": "fear",
    "surprised": "surprised",
    "disgusted": "disgusted",
    "contemptuous": "contempt",
}
"""Studio emotion → DICE-Talk prior file stem."""
assert set(PRIOR_OF) == set(EMOTIONS)

MODEL_FPS = 12.5
"""DICE-Talk's generation rate (also its UNet's fps conditioning)."""
WHISPER_STEPS_PER_SECOND = 50
WINDOW_SCHEMES = ("blend", "dice")
"""Sliding windows cross-faded over their overlaps (ours), or DICE-Talk's own shifted ones."""
AUDIO_WINDOW = 10
AUDIO_BEFORE = 4
"""Whisper steps per generated frame, and how many of them come before the frame's time."""


def prior_weights(spec: EmotionSpec) -> dict[str, float]:
    """The prior mix for ``spec`` (weights sum to 1); a VAD point counts as its nearest label."""
    return {PRIOR_OF[label]: float(w) for label, w in spec.label_weights()}


def emotion_scale(spec: EmotionSpec, full_scale: float) -> float:
    """The emotion guidance scale for ``spec``'s intensity (see the module docstring)."""
    return float(full_scale) * float(spec.intensity)


def frame_step(fps: float) -> int:
    """Output frames per generated frame (1 at 12-15 fps, 2 at 24-30 fps)."""
    return max(1, round(fps / MODEL_FPS))


def generated_frames(frames: int, step: int) -> int:
    """How many frames to generate so that ``frames`` output frames lie between them."""
    if frames < 1 or step < 1:
        raise ValueError(f"bad frame plan: frames={frames}, step={step}")
    return math.ceil((frames - 1) / step) + 1


def output_sources(frames: int, step: int) -> list[tuple[int, int, float]]:
    """Per output frame: (generated frame a, generated frame b, weight of b) to interpolate."""
    last = generated_frames(frames, step) - 1
    out = []
    for j in range(frames):
        a, r = divmod(j, step)
        out.append((a, min(a + 1, last), r / step))
    return out


def audio_window_starts(count: int, step: int, fps: float) -> list[int]:
    """First Whisper step of each generated frame's 10-step window (may be negative)."""
    per_frame = WHISPER_STEPS_PER_SECOND * step / fps
    return [round(g * per_frame) - AUDIO_BEFORE for g in range(count)]
