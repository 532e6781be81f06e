"""Musical attributes of a MIDI file — the EmoGen / jSymbolic-style feature set we control.

One extractor measures outputs, conditions generation (from a reference MIDI) and labels corpora
(the EmoGen nearest-sample method). Drum notes are ignored everywhere except ``drum_notes``.

=============================  ===================================================================
attribute                      definition
=============================  ===================================================================
tempo                          BPM; the time-weighted mean of the file's tempo map
key_tonic, mode, key           Krumhansl-Kessler key finding: duration-weighted pitch-class
                               histogram correlated with the 24 rotated major/minor profiles
key_clarity                    that best correlation (-1..1)
note_density                   pitched notes per second of music
mean_pitch                     mean MIDI pitch of all pitched notes ("register", 60 = middle C)
pitch_range, pitch_std         highest - lowest pitch; standard deviation of pitch (semitones)
pitch_class_histogram          12 bins C..B, duration-weighted, sums to 1
melodic_interval_histogram     13 bins 0..11, 12+ semitones between successive top notes of each
                               track (the skyline of each part), sums to 1
mean_melodic_interval          mean of those intervals in semitones
rhythmic_value_histogram       5 bins (16th, 8th, quarter, half, whole+) of the notated value
                               of each note: its inter-onset interval within its track, in beats
velocity_mean, velocity_std    MIDI velocity statistics (dynamics and their variation)
articulation                   sounding / notated duration: note length ÷ inter-onset interval in
                               its track, capped at 1 (≈1 legato, ≈0.5 staccato)
polyphony                      mean number of sounding notes while anything sounds
major_minor_triad_ratio        major triads ÷ (major + minor triads) among the pitch-class sets
                               sounding on each beat (0.5 when there are none)
duration, n_notes, drum_notes  seconds to the last note-off; pitched and drum note counts
=============================  ===================================================================
"""

from __future__ import annotations

import io
import itertools
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipelines.base import PipelineError

if TYPE_CHECKING:
    import pretty_midi

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
RHYTHM_BINS = ("16th", "8th", "quarter", "half", "whole+")
_RHYTHM_EDGES = (0.375, 0.75, 1.5, 3.0)  # beats between the bins above

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
KK_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KK_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


@dataclass(frozen=True)
class Attributes:
    """The measured attributes of one piece (see the module table for definitions)."""

    tempo: float
    key_tonic: int
    mode: str
    key: str
    key_clarity: float
    note_density: float
    mean_pitch: float
    pitch_range: int
    pitch_std: float
    pitch_class_histogram: tuple[float, ...]
    melodic_interval_histogram: tuple[float, ...]
    mean_melodic_interval: float
    rhythmic_value_histogram: tuple[float, ...]
    velocity_mean: float
    velocity_std: float
    articulation: float
    polyphony: float
    major_minor_triad_ratio: float
    duration: float
    n_notes: int
    drum_notes: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (rounded for display and storage)."""
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if isinstance(v, float):
                v = round(v, 4)
            elif isinstance(v, tuple):
                v = [round(float(x), 4) for x in v]
            out[k] = v
        return out


def load_midi(source: Path | bytes, what: str = "MIDI file") -> pretty_midi.PrettyMIDI:
    """Parse a MIDI file or its bytes; unreadable input raises an actionable PipelineError."""
    import pretty_midi

    name = source.name if isinstance(source, Path) else what
    if isinstance(source, Path):
        if not source.is_file():
            raise PipelineError(f"{what} {source} does not exist — choose an existing .mid file.")
        data = source.read_bytes()
    else:
        data = source
    if not data:
        raise PipelineError(f"{what} {name} is empty (0 bytes) — choose a real .mid file.")
    try:
        return pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as exc:  # mido/pretty_midi raise many types on corrupt files
        if not data.startswith(b"MThd"):
            why = "it is not a MIDI file (no MThd header)"
        else:
            why = str(exc).strip() or "it is damaged or cut short"
        raise PipelineError(
            f"{what} {name} could not be read as a Standard MIDI File: {why} — "
            "export it again as .mid (type 0 or 1) and retry."
        ) from None


def estimate_key(pc_weights: np.ndarray) -> tuple[int, str, float]:
    """(tonic 0-11, "major"/"minor", correlation) by Krumhansl-Kessler profile matching."""
    best = (0, "major", -2.0)
    if float(np.std(pc_weights)) == 0.0:
        return (0, "major", 0.0)
    for mode, profile in (("major", KK_MAJOR), ("minor", KK_MINOR)):
        prof = np.asarray(profile)
        for tonic in range(12):
            r = float(np.corrcoef(pc_weights, np.roll(prof, tonic))[0, 1])
            if r > best[2] + 1e-12:
                best = (tonic, mode, r)
    return best


def _tempo(pm: pretty_midi.PrettyMIDI, end: float) -> float:
    times, tempi = pm.get_tempo_changes()
    if len(tempi) == 0:
        return 120.0
    bounds = [*list(times[1:]), max(end, float(times[-1]) + 1e-6)]
    spans = np.maximum(np.diff(np.r_[times, bounds[-1]])[: len(tempi)], 0.0)
    if spans.sum() <= 0:
        return float(tempi[0])
    return float(np.average(tempi, weights=spans))


def _triads(
    starts: np.ndarray, ends: np.ndarray, pcs: np.ndarray, beat: float, end: float
) -> float:
    major = minor = 0
    for t0 in np.arange(0.0, end - 1e-9, beat):
        t1 = t0 + beat
        overlap = np.minimum(ends, t1) - np.maximum(starts, t0)
        present = set(int(p) for p in pcs[overlap >= 0.25 * beat])
        for r in present:
            if (r + 7) % 12 in present:
                major += (r + 4) % 12 in present
                minor += (r + 3) % 12 in present
    return 0.5 if major + minor == 0 else major / (major + minor)


def extract(pm: pretty_midi.PrettyMIDI) -> Attributes:
    """Compute :class:`Attributes`; raises PipelineError when there are no pitched notes."""
    pitched = [i for i in pm.instruments if not i.is_drum and i.notes]
    drum_notes = sum(len(i.notes) for i in pm.instruments if i.is_drum)
    if not pitched:
        if drum_notes:
            raise PipelineError(
                f"The MIDI file has only drum notes ({drum_notes}); attributes such as key, "
                "register and harmony need pitched notes — use a file with melody or chords."
            )
        raise PipelineError("The MIDI file has no notes — use a file that contains music.")
    notes = [(n.start, n.end, n.pitch, n.velocity) for i in pitched for n in i.notes]
    arr = np.asarray(notes, dtype=float)
    starts, ends, pitches, vels = arr[:, 0], arr[:, 1], arr[:, 2].astype(int), arr[:, 3]
    end = float(max(ends.max(), pm.get_end_time()))
    duration = max(end, 1e-6)
    tempo = _tempo(pm, end)
    beat = 60.0 / tempo
    lengths = np.maximum(ends - starts, 0.0)
    pcs = pitches % 12

    pc_hist = np.bincount(pcs, weights=np.maximum(lengths, 1e-3), minlength=12)
    tonic, mode, clarity = estimate_key(pc_hist)
    pc_hist = pc_hist / pc_hist.sum()

    intervals: list[int] = []
    rhythm = np.zeros(len(RHYTHM_BINS))
    ratios: list[float] = []
    for inst in pitched:
        by_onset: dict[float, list[Any]] = {}
        for n in inst.notes:
            by_onset.setdefault(round(n.start, 4), []).append(n)
        onsets = sorted(by_onset)
        tops = [max(by_onset[t], key=lambda n: n.pitch).pitch for t in onsets]
        intervals += [abs(b - a) for a, b in itertools.pairwise(tops)]
        for t, nxt in itertools.pairwise(onsets):
            ioi = nxt - t
            rhythm[int(np.searchsorted(_RHYTHM_EDGES, ioi / beat))] += len(by_onset[t])
            ratios += [min((n.end - n.start) / ioi, 1.0) for n in by_onset[t]]
    int_hist = np.bincount(np.minimum(np.asarray(intervals, dtype=int), 12), minlength=13)
    mean_int = float(np.mean(intervals)) if intervals else 0.0

    polyphony = _polyphony(starts, ends)

    return Attributes(
        tempo=tempo,
        key_tonic=tonic,
        mode=mode,
        key=f"{PITCH_NAMES[tonic]} {mode}",
        key_clarity=clarity,
        note_density=len(notes) / duration,
        mean_pitch=float(pitches.mean()),
        pitch_range=int(pitches.max() - pitches.min()),
        pitch_std=float(pitches.std()),
        pitch_class_histogram=tuple(float(x) for x in pc_hist),
        melodic_interval_histogram=tuple(float(x) for x in _norm(int_hist.astype(float))),
        mean_melodic_interval=mean_int,
        rhythmic_value_histogram=tuple(float(x) for x in _norm(rhythm)),
        velocity_mean=float(vels.mean()),
        velocity_std=float(vels.std()),
        articulation=float(np.mean(ratios)) if ratios else 1.0,
        polyphony=polyphony,
        major_minor_triad_ratio=_triads(starts, ends, pcs, beat, end),
        duration=end,
        n_notes=len(notes),
        drum_notes=drum_notes,
    )


def _polyphony(starts: np.ndarray, ends: np.ndarray) -> float:
    times = np.r_[starts, ends]
    steps = np.r_[np.ones(len(starts)), -np.ones(len(ends))]
    order = np.lexsort((steps, times))  # at equal times, note-offs first
    times, count = times[order], np.cumsum(steps[order])
    spans = np.diff(times)
    active = count[:-1] > 0
    busy = float(spans[active].sum())
    return float((spans * count[:-1])[active].sum() / busy) if busy > 0 else 0.0


def _norm(h: np.ndarray) -> np.ndarray:
    total = h.sum()
    return h / total if total > 0 else h


def extract_file(source: Path | bytes, what: str = "MIDI file") -> Attributes:
    """Load and extract in one step (PipelineError for unreadable, empty or drum-only files)."""
    pm = load_midi(source, what)
    try:
        return extract(pm)
    except PipelineError as exc:
        name = source.name if isinstance(source, Path) else what
        raise PipelineError(f"{name}: {exc}") from None
