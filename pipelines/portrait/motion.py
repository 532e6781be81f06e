"""Life: blinks at a natural randomised rate, head motion that follows speech energy, breathing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.base import rng

BLINK_FRAMES_S = (0.05, 0.06, 0.10)
"""Closing, closed and opening durations of one blink, in seconds (~0.2 s in all)."""


def blinks(seed: int, n_frames: int, fps: int, per_minute: float) -> tuple[np.ndarray, int]:
    """Per-frame lid closure 0-1 and the number of blinks; intervals are gamma-distributed
    (regular-ish, never closer than 1 s) around ``60 / per_minute`` seconds."""
    closure = np.zeros(n_frames, np.float32)
    if per_minute <= 0 or n_frames == 0:
        return closure, 0
    gen = rng(seed, "blinks")
    mean = 60.0 / per_minute
    t = float(gen.uniform(0.4, min(mean, 2.5)))
    duration = n_frames / fps
    count = 0
    close_s, hold_s, open_s = BLINK_FRAMES_S
    times = (np.arange(n_frames) + 0.5) / fps
    while t < duration - 0.25:
        rel = times - t
        shape = np.where(
            rel < 0,
            0.0,
            np.where(
                rel < close_s,
                rel / close_s,
                np.where(
                    rel < close_s + hold_s,
                    1.0,
                    np.clip(1.0 - (rel - close_s - hold_s) / open_s, 0.0, 1.0),
                ),
            ),
        )
        closure = np.maximum(closure, shape.astype(np.float32))
        count += 1
        t += max(1.0, float(gen.gamma(4.0, mean / 4.0)))
    return closure, count


@dataclass(frozen=True)
class HeadTrack:
    """Per frame: roll (degrees), translation x/y (face units) and a nod scale."""

    roll: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    yaw: np.ndarray | None = None
    """Turn left/right in degrees (a warp: nearer parts of the face move further); None = 0."""
    pitch: np.ndarray | None = None
    """Nod in degrees (positive = chin down); None = 0."""

    def range(self) -> dict[str, float]:
        out = {
            "roll_deg": float(np.ptp(self.roll)) if len(self.roll) else 0.0,
            "dx": float(np.ptp(self.dx)) if len(self.dx) else 0.0,
            "dy": float(np.ptp(self.dy)) if len(self.dy) else 0.0,
        }
        for name, track in (("yaw_deg", self.yaw), ("pitch_deg", self.pitch)):
            if track is not None and len(track):
                out[name] = float(np.ptp(track))
        return out


def _smooth_noise(
    gen: np.random.Generator, n: int, fps: int, periods: tuple[float, ...]
) -> np.ndarray:
    """A sum of sinusoids with random phases and jittered periods: smooth, seeded, unit-ish."""
    t = np.arange(n) / fps
    out = np.zeros(n, np.float64)
    for p in periods:
        period = p * float(gen.uniform(0.8, 1.25))
        out += np.sin(2 * np.pi * t / period + float(gen.uniform(0, 2 * np.pi)))
    return (out / np.sqrt(len(periods))).astype(np.float32)


def head_motion(seed: int, energy: np.ndarray, fps: int, amount: float) -> HeadTrack:
    """Slow sway plus nods that follow speech energy; breathing keeps a silent face alive."""
    n = len(energy)
    gen = rng(seed, "head")
    sway_roll = _smooth_noise(gen, n, fps, (3.1, 5.3, 8.9))
    sway_x = _smooth_noise(gen, n, fps, (2.7, 4.9, 7.7))
    sway_y = _smooth_noise(gen, n, fps, (2.3, 3.7))
    t = np.arange(n) / fps
    breathing = 0.006 * np.sin(2 * np.pi * t / float(gen.uniform(3.5, 4.5)))
    k = max(1, int(0.25 * fps))
    speech = np.convolve(energy, np.ones(k) / k, mode="same").astype(np.float32)
    nod = np.diff(speech, prepend=speech[:1]) * 6.0 + 0.5 * speech
    roll = amount * (1.6 * sway_roll + 1.2 * speech * sway_x)
    dx = amount * (0.025 * sway_x)
    dy = amount * (0.015 * sway_y + 0.035 * nod) + breathing
    # turns and nods: a slow look around, and a dip of the chin on each stressed onset
    sway_yaw = _smooth_noise(gen, n, fps, (4.1, 6.7))
    emphasis = np.clip(np.diff(speech, prepend=speech[:1]) * fps / 4.0, 0.0, 1.0)
    k2 = max(1, int(0.2 * fps))
    emphasis = np.convolve(emphasis, np.ones(k2) / k2, mode="same")
    yaw = amount * (1.5 * sway_yaw + 2.0 * speech * sway_x)
    pitch = amount * (0.8 * sway_y + 3.0 * emphasis)
    return HeadTrack(
        roll.astype(np.float32), dx.astype(np.float32), dy.astype(np.float32),
        yaw.astype(np.float32), pitch.astype(np.float32),
    )  # fmt: skip
