"""Attribute-control accuracy (EmoGen's objective metric): the extractor run on the output vs the
requested targets, per attribute hit or miss within a stated tolerance.

=======================  =============================================
attribute                hit when
=======================  =============================================
tempo                    within 3 % of the requested BPM
mode                     Krumhansl-Kessler mode equals the request
key                      estimated tonic equals the planned tonic
note_density             within 10 % of the requested notes per second
register                 mean pitch within 2 semitones
dynamics                 mean velocity within 4
velocity_spread          velocity standard deviation within 2.5
articulation             sounding/notated ratio within 0.08
major_minor_triad_ratio  ≥ 0.5 for major, < 0.5 for minor
duration                 within one beat of the requested length
instruments              the requested GM programs, in track order
=======================  =============================================
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pipelines.music.attributes import PITCH_NAMES, Attributes
from pipelines.music.mapping import AttributeTargets

TOLERANCES: dict[str, str] = {
    "tempo": "±3 %",
    "mode": "exact",
    "key": "exact tonic",
    "note_density": "±10 %",
    "register": "±2 semitones",
    "dynamics": "±4 velocity",
    "velocity_spread": "±2.5 velocity",
    "articulation": "±0.08",
    "major_minor_triad_ratio": "≥0.5 major, <0.5 minor",
    "duration": "±1 beat",
    "instruments": "exact",
}


@dataclass(frozen=True)
class Check:
    """One attribute: requested vs measured."""

    attribute: str
    requested: Any
    measured: Any
    tolerance: str
    hit: bool


def compare(
    targets: AttributeTargets,
    measured: Attributes,
    *,
    tonic: int,
    seconds: float,
    programs: tuple[int, ...],
) -> list[Check]:
    """Per-attribute checks of ``measured`` against ``targets`` (see the module table)."""
    t, m = targets, measured
    beat = 60.0 / t.tempo
    major = m.major_minor_triad_ratio >= 0.5
    rows: list[tuple[str, Any, Any, bool]] = [
        ("tempo", t.tempo, m.tempo, abs(m.tempo - t.tempo) <= 0.03 * t.tempo),
        ("mode", t.mode, m.mode, m.mode == t.mode),
        ("key", PITCH_NAMES[tonic], PITCH_NAMES[m.key_tonic], m.key_tonic == tonic),
        (
            "note_density",
            t.note_density,
            m.note_density,
            abs(m.note_density - t.note_density) <= 0.10 * t.note_density,
        ),
        ("register", t.register, m.mean_pitch, abs(m.mean_pitch - t.register) <= 2.0),
        ("dynamics", t.velocity, m.velocity_mean, abs(m.velocity_mean - t.velocity) <= 4.0),
        (
            "velocity_spread",
            t.velocity_std,
            m.velocity_std,
            abs(m.velocity_std - t.velocity_std) <= 2.5,
        ),
        (
            "articulation",
            t.articulation,
            m.articulation,
            abs(m.articulation - t.articulation) <= 0.08,
        ),
        (
            "major_minor_triad_ratio",
            "≥0.5" if t.mode == "major" else "<0.5",
            m.major_minor_triad_ratio,
            major == (t.mode == "major"),
        ),
        ("duration", seconds, m.duration, abs(m.duration - seconds) <= beat + 1e-6),
        ("instruments", list(t.instruments), list(programs), tuple(programs) == t.instruments),
    ]
    return [
        Check(name, _round(req), _round(got), TOLERANCES[name], bool(hit))
        for name, req, got, hit in rows
    ]


def accuracy(checks: list[Check]) -> float:
    """Fraction of attributes hit (EmoGen's attribute-control accuracy)."""
    return sum(c.hit for c in checks) / len(checks) if checks else 0.0


def report(checks: list[Check]) -> dict[str, Any]:
    """JSON-able summary for ``Result.metadata``."""
    return {
        "attribute_checks": [asdict(c) for c in checks],
        "attribute_accuracy": round(accuracy(checks), 4),
    }


def _round(x: Any) -> Any:
    return round(x, 3) if isinstance(x, float) else x
