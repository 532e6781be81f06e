"""Emotion → attribute targets (EmoGen stage 1, rule form), grounded in music-emotion research.

The spec's intensity-scaled valence ``v``, arousal ``a`` and dominance ``d`` (all -1..1, from
:meth:`EmotionSpec.vad`) give every target through a linear formula, so blends and VAD points
move smoothly between the labels. Eerola, Friberg & Bresin (2013) found the main cues act largely
linearly and additively, which is why linear formulas are used.

================  ===========================  =================================================
target            formula (clamped)            grounding
================  ===========================  =================================================
mode              major if v ≥ 0, else minor   mode ↔ valence: Hevner 1935; Gagnon & Peretz 2003
tempo (BPM)       100 + 45a + 8v  [50, 180]    tempo ↔ arousal (+ a little valence): Gabrielsson
                                               & Lindström 2010; Juslin & Laukka 2004
note density      5 · 2^(1.3a) notes/s         density/activity ↔ arousal: Gabrielsson &
                                               Lindström 2010; EMOPIA quadrant statistics
register (pitch)  64 + 7v + 3a                 high register ↔ happy/bright, low ↔ sad/
                                               threatening: Hevner 1937; Huron 2008
dynamics (vel.)   68 + 30a + 8d  [30, 115]     loudness ↔ arousal, also power/dominance:
                                               Schubert 2004; Juslin 2001
velocity spread   6 + 6·max(a,0) + 4·max(-d,0) dynamic irregularity in fear/excitement:
                                               Juslin & Laukka 2003
articulation      0.85 − 0.3a  [0.5, 1.0]      staccato ↔ activity/happy/anger, legato ↔
                                               sadness/tenderness: Juslin 2001
tension           2.5 · max(-v,0) · max(a,0)   dissonance and chromatic chords in negative,
                                               aroused music (Q2): Gabrielsson & Lindström 2010
instruments       by EMOPIA quadrant table     timbre: bright winds for Q1, distorted/brassy
                                               Q2, dark strings Q3, soft piano/pad Q4
================  ===========================  =================================================

Examples at intensity 1: happy ≈ 129 BPM major, 7.9 notes/s, pitch 69, velocity 87, staccato
0.70; sad ≈ 83 BPM minor, 3.9 notes/s, pitch 59, velocity 57, legato 0.93.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from pipelines.emotion import EmotionSpec, emopia_quadrant

MODES = ("major", "minor")

GM_DEFAULTS: dict[str, tuple[int, int, int]] = {
    "Q1": (73, 0, 32),  # flute melody, piano accompaniment, acoustic bass
    "Q2": (29, 48, 33),  # overdriven guitar, string ensemble, electric bass
    "Q3": (42, 0, 43),  # cello, piano, contrabass
    "Q4": (0, 89, 32),  # piano, warm pad, acoustic bass
}
"""(melody, accompaniment, bass) General MIDI programs per EMOPIA quadrant."""

LIMITS: dict[str, tuple[float, float]] = {
    "tempo": (30.0, 240.0),
    "register": (45.0, 80.0),
    "dynamics": (20.0, 120.0),
    "articulation": (0.3, 1.0),
    "density": (0.2, 40.0),
}
"""Ranges the composer can realise; overrides outside them are rejected by the request."""

MIN_NOTES_PER_BEAT = 1.25
MAX_NOTES_PER_BEAT = 12.0
"""Density the composer can reach at a tempo (pads + one melody note … 16ths over 8th chords)."""


@dataclass(frozen=True)
class AttributeTargets:
    """What the composer is asked to realise; every field is measurable by ``attributes.py``."""

    tempo: float
    """Beats per minute."""
    mode: str
    """"major" or "minor"."""
    note_density: float
    """Pitched notes per second."""
    register: float
    """Mean MIDI pitch of all notes."""
    velocity: float
    """Mean MIDI velocity (dynamics)."""
    velocity_std: float
    """Spread of velocities."""
    articulation: float
    """Sounding ÷ notated duration (1 legato … 0.5 staccato)."""
    instruments: tuple[int, int, int]
    """(melody, accompaniment, bass) General MIDI programs."""
    tonic: int | None = None
    """Pitch class of the key's tonic; None lets the seed choose."""
    valence: float = 0.0
    """The emotion's valence (drives harmony colour)."""
    arousal: float = 0.0
    """The emotion's arousal (drives accompaniment and bass figures)."""
    tension: float = 0.0
    """0..1: dissonant added notes and chromatic chords."""
    source: str = "rules"
    """Where the targets came from: "rules", "reference", "corpus"."""

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["instruments"] = list(self.instruments)
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def _clip(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def targets_for(spec: EmotionSpec) -> AttributeTargets:
    """Attribute targets for an emotion spec by the table in this module's docstring."""
    v, a, d = spec.vad()
    return AttributeTargets(
        tempo=round(_clip(100 + 45 * a + 8 * v, 50, 180), 2),
        mode="major" if v >= 0 else "minor",
        note_density=round(5.0 * 2 ** (1.3 * a), 3),
        register=round(64 + 7 * v + 3 * a, 2),
        velocity=round(_clip(68 + 30 * a + 8 * d, 30, 115), 2),
        velocity_std=round(6 + 6 * max(a, 0) + 4 * max(-d, 0), 2),
        articulation=round(_clip(0.85 - 0.3 * a, 0.5, 1.0), 3),
        instruments=GM_DEFAULTS[emopia_quadrant(spec)],
        valence=v,
        arousal=a,
        tension=round(_clip(2.5 * max(-v, 0) * max(a, 0), 0, 1), 3),
    )


def relax(t: AttributeTargets) -> tuple[AttributeTargets, list[str]]:
    """Make the targets realisable together; each change is described in the returned notes."""
    notes: list[str] = []
    per_beat = t.note_density * 60.0 / t.tempo
    if per_beat > MAX_NOTES_PER_BEAT or per_beat < MIN_NOTES_PER_BEAT:
        bound = MAX_NOTES_PER_BEAT if per_beat > MAX_NOTES_PER_BEAT else MIN_NOTES_PER_BEAT
        density = round(bound * t.tempo / 60.0, 3)
        notes.append(
            f"Note density {t.note_density:g}/s is impossible at {t.tempo:g} BPM "
            f"({per_beat:.2f} notes per beat; the composer plays {MIN_NOTES_PER_BEAT:g}–"
            f"{MAX_NOTES_PER_BEAT:g}); relaxed density to {density:g}/s."
        )
        t = dataclasses.replace(t, note_density=density)
    lo, hi = LIMITS["register"]
    if not lo <= t.register <= hi:
        reg = _clip(t.register, lo, hi)
        notes.append(f"Register {t.register:g} is out of reach; relaxed to {reg:g}.")
        t = dataclasses.replace(t, register=reg)
    spread_max = max(2.0, min(t.velocity - 1, 127 - t.velocity) / 2.5)
    if t.velocity_std > spread_max:
        notes.append(
            f"Velocity spread {t.velocity_std:g} does not fit around mean velocity "
            f"{t.velocity:g}; relaxed spread to {spread_max:.1f}."
        )
        t = dataclasses.replace(t, velocity_std=round(spread_max, 2))
    return t, notes


def targets_from_attributes(
    measured: Any, spec: EmotionSpec, source: str
) -> tuple[AttributeTargets, list[str]]:
    """Targets copied from a real piece's :class:`Attributes` (a reference MIDI, a corpus
    sample); the emotion still picks instruments and figures. Out-of-range values are clamped,
    and each clamp is described in the returned notes."""
    base = targets_for(spec)
    notes: list[str] = []

    def fit(name: str, value: float, key: str) -> float:
        lo, hi = LIMITS[key]
        if lo <= value <= hi:
            return round(value, 3)
        notes.append(f"The {source}'s {name} {value:.3g} is outside {lo:g}–{hi:g}; clamped.")
        return _clip(value, lo, hi)

    t = dataclasses.replace(
        base,
        tempo=fit("tempo", measured.tempo, "tempo"),
        mode=measured.mode,
        tonic=measured.key_tonic,
        note_density=fit("note density", measured.note_density, "density"),
        register=fit("mean pitch", measured.mean_pitch, "register"),
        velocity=fit("mean velocity", measured.velocity_mean, "dynamics"),
        velocity_std=round(measured.velocity_std, 3),
        articulation=fit("articulation", measured.articulation, "articulation"),
        source=source,
    )
    return t, notes
