"""The control values of a piece on the 16th grid — measured the same way on training pieces and
on generated ones (NumPy only; the trainer's env and the runtime both import this).

=========  ========================================================================
control    value (notes are ``(start_16th, pitch, dur_16th)``)
=========  ========================================================================
KEY, MODE  Krumhansl-Kessler key of the duration-weighted pitch-class histogram
           (:func:`pipelines.music.attributes.estimate_key`, as the extractor does)
DENS       notes per quarter note over the piece's bars (n_bars × bar length)
REG        mean MIDI pitch
VOICES     mean number of sounding notes over the 16ths where something sounds,
           rounded, 1..4 (4 = 4 or more)
TRIAD      major ÷ (major + minor) triads among the pitch classes sounding on each
           quarter (the extractor's rule; 0.5 when there are none)
INTV       mean absolute interval between successive top notes of the onsets
           (the skyline of the whole texture; the extractor does it per track)
=========  ========================================================================

DENS, REG, TRIAD and INTV are bucketed with the checkpoint's ``bucket_edges`` (quantiles of the
training corpus, :func:`corpus_edges`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pipelines.music.attributes import _triads, estimate_key
from pipelines.music.learned.vocab import BAR_16THS, MAX_VOICES, N_BUCKETS, bucket

BUCKETED = ("DENS", "REG", "TRIAD", "INTV")


def _array(notes: Sequence[tuple[int, int, int]] | np.ndarray) -> np.ndarray:
    arr = np.asarray(notes, dtype=np.int64).reshape(-1, 3)
    if len(arr) == 0:
        raise ValueError("A piece without notes has no controls.")
    return arr


def measure(
    notes: Sequence[tuple[int, int, int]] | np.ndarray, ts: str, n_bars: int | None = None
) -> dict[str, Any]:
    """Raw control values: KEY (0-11), MODE, DENS, REG, VOICES (1-4), TRIAD, INTV."""
    arr = _array(notes)
    starts, pitches, durs = arr[:, 0], arr[:, 1], np.maximum(arr[:, 2], 1)
    bar_len = BAR_16THS[ts]
    bars = n_bars if n_bars is not None else int(starts.max()) // bar_len + 1
    ends = starts + durs
    pc_hist = np.bincount(pitches % 12, weights=durs.astype(float), minlength=12)
    tonic, mode, _ = estimate_key(pc_hist)
    horizon = int(ends.max())
    sounding = np.zeros(horizon + 1)
    np.add.at(sounding, starts, 1.0)
    np.add.at(sounding, ends, -1.0)
    count = np.cumsum(sounding)[:horizon]
    busy = count[count > 0]
    voices = int(np.clip(round(float(busy.mean())) if len(busy) else 1, 1, MAX_VOICES))
    triad = _triads(
        starts.astype(float), ends.astype(float), pitches % 12, 4.0, float(bars * bar_len)
    )
    tops: dict[int, int] = {}
    for s, p in zip(starts.tolist(), pitches.tolist(), strict=True):
        tops[s] = max(tops.get(s, 0), p)
    line = np.asarray([tops[s] for s in sorted(tops)], dtype=float)
    intv = float(np.abs(np.diff(line)).mean()) if len(line) > 1 else 0.0
    return {
        "KEY": int(tonic),
        "MODE": mode,
        "DENS": len(arr) / (bars * bar_len / 4.0),
        "REG": float(pitches.mean()),
        "VOICES": voices,
        "TRIAD": float(triad),
        "INTV": intv,
    }


def to_tokens(raw: Mapping[str, Any], ts: str, edges: Mapping[str, Sequence[float]]) -> dict:
    """The ``controls`` dict of :func:`vocab.encode` from raw values and bucket edges."""
    out: dict[str, Any] = {"TS": ts, "KEY": raw["KEY"], "MODE": raw["MODE"]}
    out["VOICES"] = raw["VOICES"]
    for name in BUCKETED:
        out[name] = bucket(raw[name], edges[name])
    return out


def corpus_edges(values: Mapping[str, Sequence[float]]) -> dict[str, list[float]]:
    """Bucket edges: the interior quantiles of each control over the training pieces."""
    edges: dict[str, list[float]] = {}
    for name in BUCKETED:
        k = N_BUCKETS[name]
        qs = np.quantile(np.asarray(values[name], dtype=float), np.arange(1, k) / k)
        edges[name] = [round(float(q), 4) for q in qs]
    return edges
