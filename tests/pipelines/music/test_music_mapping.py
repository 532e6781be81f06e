"""Emotion → attribute targets (the research table) and EmoGen's nearest-real-sample method."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from music_midi import midi_bytes

from pipelines.base import PipelineError
from pipelines.emotion import VAD, EmotionSpec
from pipelines.music.attributes import extract_file
from pipelines.music.compose import compose
from pipelines.music.emogen import analyse, corpus_targets, label_of, vector
from pipelines.music.mapping import relax, targets_for

CALM = EmotionSpec.parse("vad:0.6,-0.5,0.2")


def t(text: str):
    return targets_for(EmotionSpec.parse(text))


def test_directions_follow_the_research_table() -> None:
    happy, sad, angry, calm = t("happy"), t("sad"), t("angry"), targets_for(CALM)
    assert (happy.mode, sad.mode, angry.mode, calm.mode) == ("major", "minor", "minor", "major")
    assert happy.tempo > sad.tempo and angry.tempo > calm.tempo
    assert happy.note_density > calm.note_density and angry.note_density > sad.note_density
    assert happy.register > sad.register and calm.register > angry.register
    assert angry.velocity > calm.velocity and happy.velocity > sad.velocity
    assert sad.articulation > happy.articulation and calm.articulation > angry.articulation
    assert angry.tension > 0.5 and happy.tension == sad.tension == calm.tension == 0
    assert len({happy.instruments, sad.instruments, angry.instruments, calm.instruments}) == 4


def test_blends_intensity_and_vad_points_are_continuous() -> None:
    tempos = [t(f"happy:{w}+sad:{1 - w}").tempo for w in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert tempos == sorted(tempos) and tempos[0] == t("sad").tempo
    assert t("angry@0").tempo == t("neutral").tempo
    assert t("angry@0.5").velocity == pytest.approx(
        (t("angry").velocity + t("neutral").velocity) / 2, abs=0.01
    )
    point = targets_for(EmotionSpec.from_vad(*VAD["fearful"]))
    assert dataclasses.replace(point) == t("fearful")


def test_impossible_combination_is_relaxed_with_a_reason() -> None:
    fast_sparse = dataclasses.replace(t("calm" if False else "sad"), tempo=40.0, note_density=30.0)
    fixed, notes = relax(fast_sparse)
    assert fixed.note_density * 60 / fixed.tempo <= 12
    assert notes and "density" in notes[0] and "40 BPM" in notes[0]
    _, none = relax(t("happy"))
    assert none == []


def _corpus(root: Path) -> None:
    """4 quadrants x 3 intensities, composed here; a stray unlabelled and a corrupt file."""
    emotions = {"Q1": "happy", "Q2": "angry", "Q3": "sad", "Q4": "vad:0.6,-0.5,0.2"}
    for q, emo in emotions.items():
        for k, level in enumerate((0.6, 0.8, 1.0)):
            spec = EmotionSpec.parse(f"{emo}@{level}")
            pm, _ = compose(targets_for(spec), seed=k, n_beats=32)
            if q == "Q2" and k == 0:
                (root / f"Q2_clip{level}.mid").write_bytes(midi_bytes(pm))  # EMOPIA-style name
            else:
                (root / q).mkdir(parents=True, exist_ok=True)
                (root / q / f"piece_{level}.mid").write_bytes(midi_bytes(pm))
    (root / "unlabelled.mid").write_bytes(midi_bytes(pm))
    (root / "Q1" / "broken.mid").write_bytes(b"MThd garbage")


def test_emogen_nearest_real_sample(tmp_path: Path) -> None:
    _corpus(tmp_path)
    rows, skipped = analyse(tmp_path)
    assert {q: r.pieces for q, r in rows.items()} == {"Q1": 3, "Q2": 3, "Q3": 3, "Q4": 3}
    assert len(skipped) == 1 and "broken.mid" in skipped[0]
    # recompute stage 1 independently: z-score all pieces, quadrant mean, nearest piece
    paths = sorted(
        p for p in tmp_path.rglob("*.mid") if p.name not in ("broken.mid", "unlabelled.mid")
    )
    feats = np.stack([vector(extract_file(p)) for p in paths])
    z = (feats - feats.mean(0)) / np.where(feats.std(0) > 0, feats.std(0), 1)
    for q, row in rows.items():
        idx = [i for i, p in enumerate(paths) if q in (p.parent.name, p.name[:2])]
        centre = z[idx].mean(0)
        assert row.nearest == paths[idx[int(np.argmin(((z[idx] - centre) ** 2).sum(1)))]]
    # attributes are nearly linear in intensity, so the middle piece is usually the nearest
    assert sum(r.nearest.stem.endswith("0.8") for r in rows.values()) >= 3
    happy, _, info = corpus_targets(tmp_path, EmotionSpec.of("happy"))
    sad, _, _ = corpus_targets(tmp_path, EmotionSpec.of("sad"))
    assert info["quadrant"] == "Q1" and happy.source == "corpus piece"
    assert happy.tempo == pytest.approx(rows["Q1"].attributes.tempo, abs=0.01)
    assert (happy.mode, sad.mode) == ("major", "minor")
    assert happy.tempo > sad.tempo and happy.register > sad.register
    assert label_of(tmp_path / "Q2_clip0.6.mid", tmp_path) == "Q2"
    assert label_of(tmp_path / "happy" / "x.mid", tmp_path) == "Q1"


def test_emogen_errors(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="does not exist"):
        analyse(tmp_path / "nope")
    with pytest.raises(PipelineError, match="No labelled MIDI"):
        analyse(tmp_path)
    pm, _ = compose(t("sad"), seed=0, n_beats=16)
    (tmp_path / "Q3").mkdir()
    (tmp_path / "Q3" / "a.mid").write_bytes(midi_bytes(pm))
    with pytest.raises(PipelineError, match="no pieces labelled Q1"):
        corpus_targets(tmp_path, EmotionSpec.of("happy"))
