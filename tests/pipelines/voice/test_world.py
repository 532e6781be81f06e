"""WORLD on two cores (pipelines.voice.world) against the one-core analysis and synthesis."""

from __future__ import annotations

import numpy as np

from pipelines.base import rng
from pipelines.voice import prosody, world
from pipelines.voice.accents import accent
from pipelines.voice.piper import PiperBackend
from pipelines.voice.request import VoiceRequest, plan

TEXT = "I can't believe we finally finished the whole project today, after all this time."


def _speech(piper: PiperBackend) -> np.ndarray:
    request = VoiceRequest(text=TEXT)
    raw = piper._network(TEXT, 0, accent("us"), plan(request), seed=5)
    assert len(raw.audio) / piper.sample_rate > 2 * world.SPLIT_SECONDS
    return raw.audio.astype(np.float64)


def test_split_f0_matches_whole_signal(piper: PiperBackend) -> None:
    x = _speech(piper)
    _, whole = world.track_f0(x, piper.sample_rate, 60.0, 320.0, workers=1)
    _, split = world.track_f0(x, piper.sample_rate, 60.0, 320.0, workers=2)
    assert len(split) == len(whole)
    both = (whole > 0) & (split > 0)
    assert np.mean((whole > 0) == (split > 0)) > 0.99
    cents = 1200 * np.abs(np.log2(split[both] / whole[both]))
    assert np.percentile(cents, 95) < 10.0


def test_envelope_and_aperiodicity_do_not_depend_on_workers(piper: PiperBackend) -> None:
    x = _speech(piper)[: int(0.8 * piper.sample_rate)]  # short: Harvest is not split
    _, f0a, spa, apa = world.analyse(x, piper.sample_rate, 120.0, workers=1)
    _, f0b, spb, apb = world.analyse(x, piper.sample_rate, 120.0, workers=2)
    np.testing.assert_array_equal(f0b, f0a)
    np.testing.assert_allclose(spb, spa, rtol=1e-9)
    np.testing.assert_allclose(apb, apa, rtol=1e-9)


def test_split_synthesis_joins_without_a_click(piper: PiperBackend) -> None:
    x = _speech(piper)
    sr = piper.sample_rate
    _, f0, sp, ap = world.analyse(x, sr, 120.0, workers=1)
    one = world.synthesize(f0, sp, ap, sr, workers=1)
    two = world.synthesize(f0, sp, ap, sr, workers=2)
    assert len(two) == len(one)
    # The second half's pulses and noise restart at the join (another phase, the same sound):
    # compare loudness over 40 ms windows (a few pulses each), not waveforms.
    hop = int(sr * 0.04)
    n = len(one) // hop

    def db(y: np.ndarray) -> np.ndarray:
        frames = y[: n * hop].reshape(n, hop)
        return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)

    loud = db(one) > db(one).max() - 40
    assert np.percentile(np.abs(db(two) - db(one))[loud], 90) < 1.5
    # No click: the largest sample-to-sample step is no larger than the one-call audio's.
    assert np.max(np.abs(np.diff(two))) <= 1.1 * np.max(np.abs(np.diff(one)))


def test_two_workers_keep_the_sound(piper: PiperBackend) -> None:
    x = _speech(piper)
    sr = piper.sample_rate
    p = plan(VoiceRequest(text=TEXT, emotion="happy")).prosody
    one = prosody.apply_world(x, sr, p, rng(1, "f0", 0), workers=1)
    two = prosody.apply_world(x, sr, p, rng(1, "f0", 0), workers=2)
    assert len(one) == len(two)
    level = float(np.sqrt(np.mean(one**2)))
    assert abs(float(np.sqrt(np.mean(two**2))) - level) < 0.05 * level
    _, f0_one = world.track_f0(one, sr, 60.0, 600.0, workers=1)
    _, f0_two = world.track_f0(two, sr, 60.0, 600.0, workers=1)
    both = (f0_one > 0) & (f0_two > 0)
    assert abs(np.median(np.log2(f0_two[both] / f0_one[both]))) < 0.02  # < 1/4 semitone
