"""Shared inputs for the portrait tests: speech-like audio and photos built in the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from pipelines.base import LoadSettings
from pipelines.portrait.request import DEFAULT_IMAGE

VOWELS = {"a": (750, 1200, 2600), "i": (300, 2300, 3000), "u": (320, 800, 2300),
          "o": (500, 900, 2500), "e": (480, 1900, 2600)}  # fmt: skip


def speech_like(seconds: float = 4.0, sr: int = 16000, seed: int = 1) -> np.ndarray:
    """A formant buzz in syllables (~4/s) with phrase pauses and a few hisses: loudness moves
    like speech, so the mouth has something real to follow."""
    gen = np.random.default_rng(seed)
    out = np.zeros(int(seconds * sr), np.float32)
    t = 0.25
    while t < seconds - 0.3:
        phrase_end = min(seconds - 0.3, t + gen.uniform(1.0, 1.8))
        while t < phrase_end:
            dur = gen.uniform(0.14, 0.26)
            n = int(dur * sr)
            tt = np.arange(n) / sr
            f0 = gen.uniform(110, 170) * (1 + 0.08 * np.sin(2 * np.pi * 3 * tt))
            formants = VOWELS["aiuoe"[gen.integers(0, 5)]]
            phase = 2 * np.pi * np.cumsum(f0) / sr
            sig = np.zeros(n)
            for k in range(1, 30):
                fk = k * f0.mean()
                amp = sum(
                    np.exp(-0.5 * ((fk - f) / 90) ** 2) / (1 + i) for i, f in enumerate(formants)
                )
                sig += (amp + 0.02) / k**0.5 * np.sin(k * phase)
            env = np.sin(np.pi * tt / dur) ** 1.5 * gen.uniform(0.4, 1.0)
            start = int(t * sr)
            out[start : start + n] += (0.25 * env * sig / max(1e-6, np.abs(sig).max())).astype(
                np.float32
            )
            if gen.random() < 0.3:  # a hiss after the vowel
                m = int(0.08 * sr)
                hiss = np.diff(gen.normal(size=m + 1)) * 0.02
                s2 = min(len(out), start + n + m)
                out[start + n : s2] += hiss[: s2 - start - n].astype(np.float32)
            t += dur + gen.uniform(0.02, 0.08)
        t += gen.uniform(0.35, 0.6)
    return np.clip(out, -1, 1)


@pytest.fixture(scope="session")
def speech_samples() -> np.ndarray:
    """Three seconds of speech-like audio at 16 kHz."""
    return speech_like(3.0)


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "speech.wav"
    soundfile.write(str(path), speech_like(), 16000, "PCM_16")
    return path


@pytest.fixture(scope="session")
def warp_backend():
    from pipelines.portrait.landmark_warp import WarpBackend

    return WarpBackend.load(LoadSettings())


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(DEFAULT_IMAGE).convert("RGB"))
