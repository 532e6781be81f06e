"""The attribute extractor on MIDI written here with known values."""

from __future__ import annotations

from pathlib import Path

import pytest
from music_midi import make_midi, midi_bytes

from pipelines.base import PipelineError
from pipelines.music.attributes import extract, extract_file

C_MAJOR_SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


def test_scale_known_values() -> None:
    # quarter notes at 120 BPM (0.5 s apart), each sounding half its length: staccato 0.5
    notes = [(p, i, 0.5, 80) for i, p in enumerate(C_MAJOR_SCALE)]
    notes[-1] = (72, 7, 1.0, 80)  # the last note has no successor; its length is not counted
    a = extract(make_midi([notes], tempo=120))
    assert a.tempo == pytest.approx(120, abs=0.01)
    assert (a.key, a.mode) == ("C major", "major")
    assert a.duration == pytest.approx(4.0)
    assert a.note_density == pytest.approx(8 / 4.0)
    assert a.mean_pitch == pytest.approx(sum(C_MAJOR_SCALE) / 8)
    assert a.pitch_range == 12
    assert a.velocity_mean == 80 and a.velocity_std == 0
    assert a.articulation == pytest.approx(0.5)
    assert a.polyphony == pytest.approx(1.0)
    # 7 melodic steps: five whole tones and two semitones
    assert a.melodic_interval_histogram[2] == pytest.approx(5 / 7)
    assert a.melodic_interval_histogram[1] == pytest.approx(2 / 7)
    assert a.mean_melodic_interval == pytest.approx(12 / 7)
    assert a.rhythmic_value_histogram[2] == pytest.approx(1.0)  # all quarters
    assert sum(a.pitch_class_histogram) == pytest.approx(1.0)
    assert a.pitch_class_histogram[1] == 0  # no C#


def test_minor_key_triads_polyphony_and_rhythm() -> None:
    # A minor: i - iv - V - i block chords (whole notes) + an eighth-note melody
    chords = [(57, 60, 64), (57, 62, 65), (56, 59, 64), (57, 60, 64)]
    block = [(p, 4 * i, 4, 70) for i, ch in enumerate(chords) for p in ch]
    melody = [(69 + (i % 4), i * 0.5, 0.5, 90) for i in range(32)]
    melody = [(p if p % 12 in (9, 11, 0, 2) else 69, s, d, v) for p, s, d, v in melody]
    a = extract(make_midi([block, melody], tempo=90))
    assert (a.key_tonic, a.mode) == (9, "minor")
    assert a.polyphony == pytest.approx(4.0, abs=0.05)
    chords_only = extract(make_midi([block], tempo=90))
    assert chords_only.major_minor_triad_ratio == pytest.approx(1 / 4)  # only E major is major
    assert chords_only.polyphony == pytest.approx(3.0)
    # 31 melody eighths and 3 x 3 chord notes a whole note apart (last onsets have no value)
    assert a.rhythmic_value_histogram[1] == pytest.approx(31 / 40)
    assert a.rhythmic_value_histogram[4] == pytest.approx(9 / 40)
    assert a.articulation == pytest.approx(1.0, abs=1e-3)  # MIDI ticks round note ends
    assert a.velocity_std > 5


def test_major_triads_only() -> None:
    block = [(p, 0, 4, 64) for p in (60, 64, 67)] + [(p, 4, 4, 64) for p in (65, 69, 72)]
    assert extract(make_midi([block])).major_minor_triad_ratio == 1.0


def test_bad_midi_files_raise_clear_errors(tmp_path: Path, write_midi) -> None:
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    with pytest.raises(PipelineError, match="empty"):
        extract_file(empty)
    corrupt = tmp_path / "corrupt.mid"
    corrupt.write_bytes(b"MThd this is not really a midi file")
    with pytest.raises(PipelineError, match="could not be read"):
        extract_file(corrupt)
    drums = write_midi("drums.mid", [[(36, i, 0.5, 100) for i in range(8)]], drums=True)
    with pytest.raises(PipelineError, match="only drum notes"):
        extract_file(drums)
    silent = tmp_path / "silent.mid"
    silent.write_bytes(midi_bytes(make_midi([[]])))
    with pytest.raises(PipelineError, match="no notes"):
        extract_file(silent)
    with pytest.raises(PipelineError, match="does not exist"):
        extract_file(tmp_path / "missing.mid")
