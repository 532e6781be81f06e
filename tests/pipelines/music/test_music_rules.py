"""The default composer on real outputs: attribute control, exact length, cadence, directions,
rendering, reference MIDI, overrides and bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from music_midi import make_midi, midi_bytes

from pipelines.base import LoadSettings, PipelineError
from pipelines.emotion import EMOTIONS
from pipelines.music.attributes import extract
from pipelines.music.request import MusicRequest
from pipelines.music.rules import RulesBackend

CALM = "vad:0.6,-0.5,0.2"
SEEDS = range(5)


@pytest.fixture(scope="module")
def backend() -> RulesBackend:
    return RulesBackend.load(LoadSettings())


def midi_of(result) -> pretty_midi.PrettyMIDI:
    return pretty_midi.PrettyMIDI(io.BytesIO(result.artifacts["midi"].data))


def checks(result) -> dict[str, dict]:
    return {c["attribute"]: c for c in result.metadata["attribute_checks"]}


@pytest.fixture(scope="module")
def grid(backend: RulesBackend) -> dict[tuple[str, int], object]:
    """8 emotions x 5 seeds, 30 s each, MIDI only."""
    return {
        (emo, seed): backend.run(MusicRequest(emotion=emo, seconds=30, seed=seed, render=False))
        for emo in EMOTIONS
        for seed in SEEDS
    }


def test_attribute_control_over_8_emotions_x_5_seeds(grid) -> None:
    rows = [checks(r) for r in grid.values()]
    n = len(rows)
    rate = {name: sum(c[name]["hit"] for c in rows) / n for name in rows[0]}
    assert rate["mode"] >= 0.95
    assert rate["tempo"] == 1.0  # within 3 %
    assert rate["note_density"] >= 0.95  # within 10 %
    assert rate["register"] >= 0.95  # mean pitch within 2 semitones
    assert rate["duration"] == 1.0  # within one beat
    accuracy = np.mean([r.metadata["attribute_accuracy"] for r in grid.values()])
    print(f"attribute-control accuracy {accuracy:.3f}; per attribute {rate}")
    assert accuracy >= 0.9


@pytest.mark.parametrize("length", [{"bars": 1}, {"bars": 4}, {"bars": 9}, {"seconds": 7.3}])
@pytest.mark.parametrize("emotion", ["happy", "sad", "fearful"])
def test_exact_length_and_tonic_ending(backend: RulesBackend, length, emotion) -> None:
    r = backend.run(MusicRequest(emotion=emotion, seed=3, render=False, **length))
    pm = midi_of(r)
    tempo = r.metadata["targets"]["tempo"]
    beat = 60 / tempo
    want = length.get("seconds") or length["bars"] * 4 * beat
    assert abs(pm.get_end_time() - want) <= beat + 1e-6
    assert r.media_seconds == pytest.approx(pm.get_end_time(), abs=1e-3)
    tonic = r.metadata["plan"]["key_tonic"]
    third = 4 if r.metadata["targets"]["mode"] == "major" else 3
    end = pm.get_end_time() - 0.05
    sounding = [n.pitch for i in pm.instruments for n in i.notes if n.start <= end < n.end]
    assert {p % 12 for p in sounding} == {tonic, (tonic + third) % 12, (tonic + 7) % 12}
    assert min(sounding) % 12 == tonic  # the bass has the root
    if length.get("bars", 4) >= 2:
        assert r.metadata["plan"]["chords"][-2].startswith("V")  # authentic cadence


def mean_measured(runs: list) -> dict[str, float]:
    first = runs[0].metadata["measured"]
    keys = [k for k, v in first.items() if isinstance(v, int | float)]
    return {k: float(np.mean([r.metadata["measured"][k] for r in runs])) for k in keys}


def test_happy_sad_angry_calm_differ_as_expected(grid, backend: RulesBackend) -> None:
    calm = [
        backend.run(MusicRequest(emotion=CALM, seconds=30, seed=s, render=False)) for s in SEEDS
    ]
    runs = {e: [grid[(e, s)] for s in SEEDS] for e in ("happy", "sad", "angry")} | {"calm": calm}
    m = {e: mean_measured(rs) for e, rs in runs.items()}
    modes = {e: {r.metadata["measured"]["mode"] for r in rs} for e, rs in runs.items()}
    assert modes == {"happy": {"major"}, "sad": {"minor"}, "angry": {"minor"}, "calm": {"major"}}
    assert m["happy"]["tempo"] > m["sad"]["tempo"] and m["angry"]["tempo"] > m["calm"]["tempo"]
    assert m["happy"]["note_density"] > m["calm"]["note_density"] > 0
    assert m["angry"]["note_density"] > m["sad"]["note_density"]
    assert m["happy"]["mean_pitch"] > m["sad"]["mean_pitch"]
    assert m["calm"]["mean_pitch"] > m["angry"]["mean_pitch"]
    assert m["angry"]["velocity_mean"] > m["calm"]["velocity_mean"] + 20
    assert m["happy"]["velocity_mean"] > m["sad"]["velocity_mean"] + 20
    assert m["sad"]["articulation"] > m["angry"]["articulation"] + 0.2
    assert m["happy"]["major_minor_triad_ratio"] > 0.5 > m["angry"]["major_minor_triad_ratio"]


def test_render_wav_tokens_and_pianoroll(backend: RulesBackend, tmp_path: Path) -> None:
    r = backend.run(MusicRequest(emotion="happy", seconds=6, seed=1, sample_rate=22050))
    audio = r.artifacts["audio"]
    assert audio.sample_rate == 22050 and audio.samples.shape[1] == 2
    assert audio.duration == pytest.approx(r.media_seconds, abs=1 / 22050)
    assert abs(audio.duration - 6) <= 60 / r.metadata["targets"]["tempo"]
    rms = float(np.sqrt(np.mean(audio.samples**2)))
    assert rms > 0.01 and np.abs(audio.samples).max() <= 1.0
    quiet = [float(np.sqrt(np.mean(c**2))) for c in np.array_split(audio.samples[:-2205], 6)]
    assert min(quiet) > 0.003  # sound all the way through, not only at the start
    out = tmp_path / "x.wav"
    audio.write(out)
    assert out.stat().st_size > 40_000
    tokens = json.loads(r.artifacts["tokens"].data)["tokens"]
    assert tokens[0] == "Bar_None" and any(t.startswith("Pitch_") for t in tokens)
    assert r.artifacts["pianoroll"].data.startswith(b"\x89PNG")


def test_overrides_win(backend: RulesBackend) -> None:
    req = MusicRequest(
        emotion="happy",
        bars=8,
        tempo=150,
        mode="minor",
        key="F#",
        instruments=(40, 46),
        dynamics=50,
        articulation=1.0,
        seed=2,
        render=False,
    )
    r = backend.run(req)
    got = extract(midi_of(r))
    assert got.tempo == pytest.approx(150, rel=0.01)
    assert (got.key, r.metadata["key"]) == ("F# minor", "F# minor")
    assert [i.program for i in midi_of(r).instruments] == [40, 46, 32]
    assert got.velocity_mean == pytest.approx(50, abs=2)
    assert got.articulation > 0.97


def test_reference_midi_attributes_are_used(backend: RulesBackend, write_midi) -> None:
    chords = [(57, 60, 64), (57, 62, 65), (56, 59, 64), (57, 60, 64)]
    block = [(p, 4 * i, 4, 60) for i, ch in enumerate(chords) for p in ch]
    melody = [(69 + [0, 2, 3, 2][i % 4], i, 1, 70) for i in range(16)]
    ref = write_midi("ref.mid", [block, melody], tempo=90)
    r = backend.run(MusicRequest(emotion="happy", reference_midi=ref, bars=8, render=False))
    t = r.metadata["targets"]
    assert (t["tempo"], t["mode"], t["tonic"], t["source"]) == (90, "minor", 9, "reference MIDI")
    assert r.metadata["key"] == "A minor" and r.metadata["measured"]["mode"] == "minor"


def test_bad_input_is_explained(backend: RulesBackend, tmp_path: Path, write_midi) -> None:
    with pytest.raises(PipelineError, match="Unknown emotion"):
        MusicRequest(emotion="hapy")
    with pytest.raises(PipelineError, match="between 2 and 600"):
        MusicRequest(seconds=0)
    with pytest.raises(PipelineError, match="between 2 and 600"):
        MusicRequest(seconds=7200)
    with pytest.raises(PipelineError, match="minutes"):
        backend.run(MusicRequest(bars=256, tempo=30, render=False))
    corrupt = tmp_path / "bad.mid"
    corrupt.write_bytes(b"\x00" * 50)
    empty = tmp_path / "empty.mid"
    empty.write_bytes(midi_bytes(make_midi([[]])))
    drums = write_midi("drums.mid", [[(36, i, 0.5, 100) for i in range(8)]], drums=True)
    for path, words in ((corrupt, "could not be read"), (empty, "no notes"), (drums, "drum")):
        with pytest.raises(PipelineError, match=words):
            backend.run(MusicRequest(reference_midi=path, render=False))
    r = backend.run(MusicRequest(emotion="sad", tempo=40, density=30, bars=2, render=False))
    assert any("relaxed density" in note for note in r.metadata["relaxed"])
