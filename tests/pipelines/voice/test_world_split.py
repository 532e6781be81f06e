"""WORLD analysis split between two threads matches the one-thread analysis."""

from __future__ import annotations

import numpy as np

from pipelines.base import rng
from pipelines.voice import prosody
from pipelines.voice.accents import accent
from pipelines.voice.piper import PiperBackend
from pipelines.voice.request import VoiceRequest, plan

TEXT = "I can't believe we finally finished the whole project today, after all this time."


def _speech(piper: PiperBackend) -> np.ndarray:
    request = VoiceRequest(text=TEXT)
    raw = piper._network(TEXT, 0, accent("us"), plan(request), seed=5)
    assert len(raw.audio) / piper.sample_rate > 2 * prosody.SPLIT_SECONDS
    return raw.audio.astype(np.float64)


def test_split_f0_matches_whole_signal(piper: PiperBackend) -> None:
    x = _speech(piper)
    _, whole = prosody.track_f0(x, piper.sample_rate, 60.0, 320.0, workers=1)
    _, split = prosody.track_f0(x, piper.sample_rate, 60.0, 320.0, workers=2)
    assert len(split) == len(whole)
    both = (whole > 0) & (split > 0)
    assert np.mean((whole > 0) == (split > 0)) > 0.99
    cents = 1200 * np.abs(np.log2(split[both] / whole[both]))
    assert np.percentile(cents, 95) < 10.0


def test_two_workers_change_only_harvest(piper: PiperBackend) -> None:
    """CheapTrick and D4C run side by side, each on the whole signal: only F0 can differ, so
    with Harvest's halves matching, the resynthesis is the one-worker audio to rounding."""
    x = _speech(piper)
    sr = piper.sample_rate
    p = plan(VoiceRequest(text=TEXT, emotion="sad")).prosody
    short = x[: int(1.5 * sr)]  # below SPLIT_SECONDS: Harvest is not split
    one = prosody.apply_world(short, sr, p, rng(1, "f0", 0), workers=1)
    two = prosody.apply_world(short, sr, p, rng(1, "f0", 0), workers=2)
    np.testing.assert_allclose(two, one, atol=1e-6)


def test_split_resynthesis_sounds_the_same(piper: PiperBackend) -> None:
    x = _speech(piper)
    sr = piper.sample_rate
    p = plan(VoiceRequest(text=TEXT, emotion="happy")).prosody
    one = prosody.apply_world(x, sr, p, rng(1, "f0", 0), workers=1)
    two = prosody.apply_world(x, sr, p, rng(1, "f0", 0), workers=2)
    # Same length and loudness; the waveforms differ only where Harvest's halves disagree.
    assert len(one) == len(two)
    level = float(np.sqrt(np.mean(one**2)))
    assert abs(float(np.sqrt(np.mean(two**2))) - level) < 0.05 * level
