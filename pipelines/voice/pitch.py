"""Pitch changes on the neural voice's audio with the least damage, and tilt by filtering.

Methods (issue 12 compared them with DNSMOS; ``benchmarks/voice_naturalness.py --method``):

- ``psola``: Praat's pitch-synchronous overlap-add (``praat-parselmouth``): Praat marks the
  glottal pulses, the new pitch contour moves them, and each two-period grain of the original
  is copied to its new place. Unvoiced sounds and silence are copied untouched, the spectral
  envelope, breathiness and noise of the network's speech are kept; only pulse spacing changes.
- ``world-voiced``: WORLD done more gently: the unsmoothed CheapTrick envelope and the original
  D4C aperiodicity, the new F0 from :func:`target_semitones`, and only voiced spans replaced
  by the resynthesis (10 ms crossfades); consonants and silence stay the network's own.
- ``world``: analysis/resynthesis with the WORLD vocoder (:func:`prosody.apply_world`), the
  method before issue 12: every sample is resynthesised from a smoothed envelope.

The F0 contour (level, range, tremor, final rise) is computed the same way for both
(:func:`target_semitones`). Spectral tilt is a zero-phase filter over the whole sentence;
formant stretch (the ``joe-light`` preset) is Praat's "Change gender" resampling + PSOLA.
"""

from __future__ import annotations

import math

import numpy as np

from pipelines.voice.prosody import Prosody

METHODS = ("psola", "world-voiced", "world")
TIME_STEP = 0.01
"""Praat pitch analysis step (s)."""
F0_CEIL = 400.0
F0_FLOOR = 60.0
F0_FLOOR_LOWERED = 75.0
"""Praat's pulse-marking floor: 60 Hz, and Praat's default 75 Hz for speech that is lowered.
On the tuning sentences (DNSMOS P.808, joined, 4 windows) 75 Hz was better for the lowered
emotions (disgusted 4.19 → 4.22, sad 4.12 → 4.15, contempt 4.15 → 4.26) and no better for the
raised ones (angry 4.20 → 4.14), whose US WER it also raised (happy 16 %: over the 15 % goal);
100 Hz lost the lowered emotions' F0 change (the voice is read an octave up)."""


def target_semitones(
    times: np.ndarray, semis: np.ndarray, p: Prosody, gen: np.random.Generator
) -> np.ndarray:
    """New F0 (semitones) of voiced frames at ``times`` with F0 ``semis`` (semitones).

    Relative to the sentence's own contour: its distances from the median are scaled by the
    range and everything is shifted (so an analysis that reads this partly diplophonic voice an
    octave low moves every pulse by the same ratio and the shift still means what it says); tremor
    (~6-12 Hz seeded random walk) plus frame jitter for variability, and a ramp over the last
    0.4 s of voicing for the final rise.
    """
    median = float(np.median(semis))
    out = semis + (semis - median) * (p.pitch_range - 1.0) + p.pitch_shift
    n = len(out)
    if p.variability > 0:
        walk = np.convolve(gen.standard_normal(n + 8), np.hanning(8), "same")[4:-4]
        walk /= max(1e-9, float(np.std(walk)))
        out = out + p.variability * (0.8 * walk + 0.4 * gen.standard_normal(n))
    if p.final_rise:
        last = float(times[-1])
        ramp = (times - (last - 0.4)) / 0.4
        out = out + p.final_rise * np.clip(ramp, 0.0, 1.0)
    return np.asarray(out)


def psola(x: np.ndarray, sr: int, p: Prosody, gen: np.random.Generator) -> np.ndarray:
    """Re-pitch ``x`` with Praat's overlap-add (see the module docstring); same length."""
    import parselmouth
    from parselmouth.praat import call

    snd = parselmouth.Sound(np.asarray(x, np.float64), sampling_frequency=sr)
    if abs(p.formant - 1.0) > 0.005:
        # Praat's "Change gender": resample by the formant ratio, then PSOLA back to the
        # original pitch and duration (pitch median 0 = unchanged).
        snd = call(snd, "Change gender", F0_FLOOR, F0_CEIL, p.formant, 0.0, 1.0, 1.0)
    floor = F0_FLOOR_LOWERED if p.pitch_shift < 0 else F0_FLOOR
    manip = call(snd, "To Manipulation", TIME_STEP, floor, F0_CEIL)
    tier = call(manip, "Extract pitch tier")
    n = int(call(tier, "Get number of points"))
    if n >= 2:
        times = np.array([call(tier, "Get time from index", i + 1) for i in range(n)])
        hz = np.array([call(tier, "Get value at index", i + 1) for i in range(n)])
        new = 2.0 ** (target_semitones(times, 12.0 * np.log2(hz), p, gen) / 12.0)
        call(tier, "Remove points between", 0.0, snd.duration)
        for t, f in zip(times, new, strict=True):
            call(tier, "Add point", float(t), float(f))
        call([manip, tier], "Replace pitch tier")
        snd = call(manip, "Get resynthesis (overlap-add)")
    y = np.asarray(snd.values[0], np.float32)
    out = np.zeros(len(x), np.float32)
    k = min(len(x), len(y))
    out[:k] = y[:k]
    return out


def tilt(x: np.ndarray, sr: int, tilt_db: float) -> np.ndarray:
    """Spectral tilt as a zero-phase filter: ``tilt_db`` at 4 kHz, rising as log2(1 + f/500)
    (vocal effort: > 0 brighter/tenser, < 0 softer); 0 Hz untouched."""
    if abs(tilt_db) < 0.05:
        return x
    n = len(x)
    size = 1 << math.ceil(math.log2(n + 2048))
    freqs = np.fft.rfftfreq(size, 1.0 / sr)
    weight = np.log2(1.0 + freqs / 500.0) / math.log2(1.0 + 4000.0 / 500.0)
    spec = np.fft.rfft(np.asarray(x, np.float64), size) * 10.0 ** (tilt_db * weight / 20.0)
    return np.fft.irfft(spec, size)[:n].astype(np.float32)


def world_voiced(
    x: np.ndarray, sr: int, p: Prosody, gen: np.random.Generator, speaker_f0: float
) -> np.ndarray:
    """Re-pitch only the voiced spans of ``x`` with WORLD (see the module docstring)."""
    import pyworld

    from pipelines.voice import world

    xd = np.asarray(x, np.float64)
    t, f0 = world.track_f0(xd, sr, 60.0, 320.0, fold=0.6, centre=speaker_f0, workers=1)
    voiced = f0 > 0
    if voiced.sum() < 2:
        return np.asarray(x, np.float32)
    sp = pyworld.cheaptrick(xd, f0, t, sr)
    ap = pyworld.d4c(xd, f0, t, sr)
    new = np.zeros_like(f0)
    new[voiced] = 2.0 ** (target_semitones(t[voiced], 12.0 * np.log2(f0[voiced]), p, gen) / 12)
    if abs(p.formant - 1.0) > 0.005:
        bins = np.arange(sp.shape[1], dtype=np.float64)
        sp = np.stack([np.interp(bins / p.formant, bins, frame) for frame in sp])
    y = np.asarray(pyworld.synthesize(new, sp, ap, sr, world.FRAME_MS))
    y = np.pad(y, (0, max(0, len(xd) - len(y))))[: len(xd)]
    hop = sr * world.FRAME_MS / 1000.0
    frame_of = np.minimum((np.arange(len(xd)) / hop).astype(int), len(voiced) - 1)
    weight = voiced[frame_of].astype(np.float64)
    ramp = np.hanning(2 * int(hop) + 1)
    weight = np.clip(np.convolve(weight, ramp / ramp.sum(), "same"), 0.0, 1.0)
    if abs(p.formant - 1.0) > 0.005:
        weight = np.ones_like(weight)  # a new vocal tract everywhere
    return (weight * y + (1.0 - weight) * xd).astype(np.float32)
