"""Sliding windows over a clip for the DICE-Talk sampler (pure Python: safe in the main env).

Every frame of the clip belongs to at least one window of ``size`` consecutive frames; windows
overlap by ``overlap`` frames and the last one ends exactly at the clip's end (no wrap-around,
no padding frames: the clip has exactly the audio's frame count). Where windows overlap, their
predictions are blended with weights that ramp linearly across the overlap, so seams fade.
"""

from __future__ import annotations


def window_starts(frames: int, size: int, overlap: int) -> list[int]:
    """First frame of each window; a clip shorter than ``size`` is one window of its own."""
    if frames < 1 or size < 1 or not 0 <= overlap < size:
        raise ValueError(f"bad window plan: frames={frames}, size={size}, overlap={overlap}")
    if frames <= size:
        return [0]
    stride = size - overlap
    starts = list(range(0, frames - size, stride))
    starts.append(frames - size)  # the last window ends at the last frame
    return starts


def blend_weights(frames: int, size: int, overlap: int) -> list[list[float]]:
    """Per window, one weight per frame it covers; at each frame the weights sum to 1."""
    starts = window_starts(frames, size, overlap)
    length = min(size, frames)
    raw: list[list[float]] = []
    for i, start in enumerate(starts):
        weights = []
        for j in range(length):
            w = 1.0
            if i > 0:  # fade in over the part shared with the previous window
                shared = starts[i - 1] + length - start
                if j < shared:
                    w = (j + 1) / (shared + 1)
            if i < len(starts) - 1:  # fade out over the part shared with the next window
                shared = start + length - starts[i + 1]
                if j >= length - shared:
                    w = min(w, (length - j) / (shared + 1))
            weights.append(w)
        raw.append(weights)
    totals = [0.0] * frames
    for start, weights in zip(starts, raw, strict=True):
        for j, w in enumerate(weights):
            totals[start + j] += w
    return [
        [w / totals[start + j] for j, w in enumerate(weights)]
        for start, weights in zip(starts, raw, strict=True)
    ]
