"""MIDI files written in code with known contents, for the music tests."""

from __future__ import annotations

import io
from collections.abc import Iterable

import pretty_midi

NoteSpec = tuple[int, float, float, int]  # pitch, start beat, length in beats, velocity


def make_midi(
    parts: Iterable[Iterable[NoteSpec]],
    *,
    tempo: float = 120.0,
    drums: bool = False,
    program: int = 0,
) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    beat = 60.0 / tempo
    for part in parts:
        inst = pretty_midi.Instrument(program=program, is_drum=drums)
        for pitch, start, length, vel in part:
            inst.notes.append(pretty_midi.Note(vel, pitch, start * beat, (start + length) * beat))
        pm.instruments.append(inst)
    return pm


def midi_bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()
