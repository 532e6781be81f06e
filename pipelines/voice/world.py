"""WORLD analysis and synthesis (``pyworld``) for the prosody stage, on one or two cores.

F0 comes from Harvest on a 4 kHz copy (DIO doubles the F0 of this voice in about 40 % of
frames), gaps filled by DIO's voicing and by the model's alignment, refined by StoneMask; the
spectral envelope from CheapTrick, cepstrally smoothed; aperiodicity from D4C.

pyworld releases the GIL, so a sentence that has the machine to itself (``workers`` = 2) is
analysed in two overlapping halves, CheapTrick beside D4C, and resynthesised in two halves
joined at a silent frame: about half the wall time, deterministic (the split points depend on
the signal alone). Harvest's halves agree with the whole-signal analysis in voicing; the
synthesis halves restart WORLD's seeded noise, so the audio is not bit-identical to one call.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

FRAME_MS = 10.0
"""WORLD analysis hop; 10 ms keeps the prosody stage at about 0.03× real time."""

SPLIT_SECONDS = 1.0
"""Signals longer than this are split between two workers."""

_MARGIN_FRAMES = 20
"""Overlap (frames) each Harvest half carries past the join: Harvest's contour decisions settle
well inside it, so the joined F0 matches the whole-signal analysis in voicing."""

LIFTER_MS = 1.6
"""Cepstral lifter of the spectral envelope: drops harmonic ripple left by octave-ambiguous F0
analysis (this voice is partly diplophonic), keeps the formants."""

VOICED_PHONES = frozenset("aeiouyæɐɑɒɔəɘɚɛɜɝɞɪɨʉʊʌʏœøɤɯmnŋɲɳlɫɭɹɻrɾɽwjʋvzðʒʐbdɡɖɟ")
"""Phoneme characters that are voiced: their frames keep an F0 even where trackers lose it."""


def _harvest(low: np.ndarray, floor: float, ceil: float) -> np.ndarray:
    import pyworld

    return np.asarray(
        pyworld.harvest(low, 4000, f0_floor=floor, f0_ceil=ceil, frame_period=FRAME_MS)[0]
    )


def _harvest_halves(low: np.ndarray, floor: float, ceil: float, workers: int) -> np.ndarray:
    """Harvest on a 4 kHz signal, in two overlapping halves when it is long enough."""
    hop = int(4000 * FRAME_MS / 1000)
    frames = len(low) // hop + 1
    if workers < 2 or len(low) < SPLIT_SECONDS * 4000:
        return _harvest(low, floor, ceil)
    mid = frames // 2
    start = (mid - _MARGIN_FRAMES) * hop
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="harvest") as pool:
        head_job = pool.submit(_harvest, low[: (mid + _MARGIN_FRAMES) * hop], floor, ceil)
        tail = _harvest(low[start:], floor, ceil)
        head = head_job.result()
    return np.concatenate([head[:mid], tail[_MARGIN_FRAMES:]])[:frames]


def track_f0(
    x: np.ndarray,
    sr: int,
    floor: float = 60.0,
    ceil: float = 600.0,
    fold: float = 0.0,
    centre: float | None = None,
    workers: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """(frame times, F0 Hz, 0 = unvoiced) at :data:`FRAME_MS`: Harvest at 4 kHz (about 0.05x
    real time on one core), DIO's generous voicing filling Harvest's gaps, StoneMask on the
    full-rate signal. ``fold`` > 0 moves frames more than ``fold`` octaves from ``centre`` Hz
    (default: the median) by an octave toward it (octave errors)."""
    import pyworld

    from pipelines.voice.measure import resample

    x = np.asarray(x, dtype=np.float64)
    low = resample(x, sr, 4000).astype(np.float64)
    f0 = _harvest_halves(low, floor, ceil, workers)
    t = np.arange(len(f0)) * FRAME_MS / 1000.0
    fill, _ = pyworld.dio(x, sr, f0_floor=floor, f0_ceil=ceil, frame_period=FRAME_MS)
    n = min(len(f0), len(fill))
    gaps = (f0[:n] <= 0) & (fill[:n] > 0)
    f0[:n][gaps] = fill[:n][gaps]
    f0 = pyworld.stonemask(x, f0, t, sr)
    voiced = f0 > 0
    if fold > 0 and voiced.sum() > 3:
        octs = np.log2(f0[voiced])
        median = float(np.median(octs)) if centre is None else math.log2(centre)
        octs = np.where(
            octs > median + fold, octs - 1, np.where(octs < median - fold, octs + 1, octs)
        )
        f0[voiced] = 2.0**octs
    return t, f0


def smooth_envelope(sp: np.ndarray, sr: int) -> np.ndarray:
    """Cepstrally smoothed power envelope (frames x bins)."""
    cep = np.fft.irfft(np.log(np.maximum(sp, 1e-16)), axis=1)
    keep = int(sr * LIFTER_MS / 1000)
    cep[:, keep : cep.shape[1] - keep + 1] = 0.0
    return np.asarray(np.exp(np.fft.rfft(cep, axis=1).real))


def voiced_frames(
    phonemes: list[str], per_char: list[int], lead: int, sr: int, n_samples: int
) -> np.ndarray:
    """A boolean per WORLD frame: inside a voiced phoneme (from the model's alignment)."""
    n = int(n_samples / sr * 1000 / FRAME_MS) + 1
    mask = np.zeros(n, dtype=bool)
    pos = lead
    for ch, count in zip(phonemes, per_char, strict=True):
        if ch in VOICED_PHONES and count > 0:
            a = int(np.ceil(pos / sr * 1000 / FRAME_MS))
            b = int((pos + count) / sr * 1000 / FRAME_MS)
            mask[a : b + 1] = True
        pos += count
    return mask


def analyse(
    x: np.ndarray,
    sr: int,
    speaker_f0: float,
    voiced_mask: np.ndarray | None = None,
    workers: int = 2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(frame times, F0, smoothed envelope, aperiodicity) of one speaker's speech.

    Octave errors are folded toward ``speaker_f0``. ``voiced_mask`` marks frames of voiced
    phonemes; where the tracker lost them (creaky stretches), F0 is interpolated so they are
    not resynthesised as whisper.
    """
    import pyworld

    t, f0 = track_f0(x, sr, 60.0, 320.0, fold=0.6, centre=speaker_f0, workers=workers)
    if voiced_mask is not None and (f0 > 0).sum() > 1:
        n = min(len(f0), len(voiced_mask))
        lost = np.zeros(len(f0), dtype=bool)
        lost[:n] = voiced_mask[:n] & (f0[:n] <= 0)
        have = np.flatnonzero(f0 > 0)
        f0[lost] = 2.0 ** np.interp(np.flatnonzero(lost), have, np.log2(f0[have]))

    def envelope() -> np.ndarray:
        return smooth_envelope(pyworld.cheaptrick(x, f0, t, sr), sr)

    if workers < 2:
        return t, f0, envelope(), pyworld.d4c(x, f0, t, sr)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="world") as pool:
        job = pool.submit(envelope)  # CheapTrick beside D4C: both read the same F0
        ap = pyworld.d4c(x, f0, t, sr)
        return t, f0, job.result(), ap


def synthesize(
    f0: np.ndarray, sp: np.ndarray, ap: np.ndarray, sr: int, workers: int = 2
) -> np.ndarray:
    """WORLD resynthesis; with two workers, two halves joined at the quietest unvoiced frame
    of the middle third (no pulse crosses the join, so there is nothing to click)."""
    import pyworld

    n = len(f0)
    hop = sr * FRAME_MS / 1000.0
    if workers < 2 or n < SPLIT_SECONDS * 1000 / FRAME_MS:
        return np.asarray(pyworld.synthesize(f0, sp, ap, sr, FRAME_MS))
    # Only frames whose start falls on a whole sample, so the halves meet sample-exactly.
    step = next(k for k in range(1, 101) if abs(k * hop - round(k * hop)) < 1e-9)
    loudness = np.log(np.maximum(sp.sum(axis=1), 1e-30)) + 1e3 * (f0 > 0)
    lo, hi = n // 3, 2 * n // 3
    candidates = np.arange(lo + (-lo) % step, hi, step)
    if candidates.size == 0:
        return np.asarray(pyworld.synthesize(f0, sp, ap, sr, FRAME_MS))
    k = int(candidates[np.argmin(loudness[candidates])])

    def part(a: int, b: int) -> np.ndarray:
        return np.asarray(
            pyworld.synthesize(
                np.ascontiguousarray(f0[a:b]),
                np.ascontiguousarray(sp[a:b]),
                np.ascontiguousarray(ap[a:b]),
                sr,
                FRAME_MS,
            )
        )

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="world") as pool:
        job = pool.submit(part, 0, k + 1)
        tail = part(k, n)
        head = job.result()
    return np.concatenate([head[: round(k * hop)], tail])
