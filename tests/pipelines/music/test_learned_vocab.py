"""The learned generator's vocabulary, controls, corpus files and checkpoint format, on real
pieces (six tunes and chorales of music21's corpus, converted by ``learned.corpus``)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from pipelines.base import PipelineError
from pipelines.music.attributes import extract
from pipelines.music.learned import controls as ctl
from pipelines.music.learned import vocab
from pipelines.music.learned.checkpoint import load_checkpoint, save_checkpoint, weight_shapes
from pipelines.music.learned.corpus import convert_midi_folder, load_corpus
from pipelines.music.learned.train import midi_corpus

PIECES = Path(__file__).with_name("learned_pieces.npz")


@pytest.fixture(scope="module")
def pieces() -> list[dict]:
    return load_corpus(PIECES)[0]


@pytest.fixture(scope="module")
def edges(pieces: list[dict]) -> dict[str, list[float]]:
    raw = [ctl.measure(p["notes"], p["ts"], p["n_bars"]) for p in pieces]
    return ctl.corpus_edges({k: [r[k] for r in raw] for k in ctl.BUCKETED})


def test_vocabulary_layout() -> None:
    assert len(vocab.VOCAB) == len(set(vocab.VOCAB)) == len(vocab.TOKEN_ID)
    assert vocab.VOCAB[0] == "PAD" and "TS_6/8" in vocab.TOKEN_ID and "KEY_any" in vocab.TOKEN_ID
    assert [t for t in vocab.VOCAB if t.startswith("DENS_")][-1] == "DENS_any"
    assert vocab.TOKEN_ID["POS_15"] and "POS_16" not in vocab.TOKEN_ID
    assert "PITCH_21" in vocab.TOKEN_ID and "PITCH_108" in vocab.TOKEN_ID
    assert "PITCH_20" not in vocab.TOKEN_ID and "LEFT_33" not in vocab.TOKEN_ID


def test_real_pieces_round_trip(pieces: list[dict], edges: dict[str, list[float]]) -> None:
    assert {p["ts"] for p in pieces} == {"4/4", "3/4", "2/4", "6/8"}
    for p in pieces:
        controls = ctl.to_tokens(ctl.measure(p["notes"], p["ts"], p["n_bars"]), p["ts"], edges)
        ids = vocab.encode(p["notes"].tolist(), controls, n_bars=p["n_bars"])
        notes, got = vocab.decode(ids)
        want = sorted((int(s), int(m), vocab.quantize_duration(int(d))) for s, m, d in p["notes"])
        assert notes == want and got == controls
        assert vocab.n_bars_of(ids) == p["n_bars"] and ids[-1] == vocab.EOS
        lefts = [vocab.VOCAB[i] for i in ids if vocab.VOCAB[i].startswith("LEFT_")]
        assert lefts[-1] == "LEFT_1" and lefts[0] == f"LEFT_{min(p['n_bars'], 32)}"
        assert vocab.encode(notes, got, n_bars=p["n_bars"]) == ids


def test_any_controls_and_grammar_errors() -> None:
    controls = {"TS": "6/8", **{k: None for k in vocab.CONTROL_ORDER[1:]}}
    ids = vocab.encode([(0, 60, 6), (6, 64, 24)], controls)
    assert [vocab.VOCAB[i] for i in ids[1:9]][1:] == [f"{k}_any" for k in vocab.CONTROL_ORDER[1:]]
    notes, got = vocab.decode(ids[:-1])  # cut before EOS: still decodes
    assert notes == [(0, 60, 6), (6, 64, 16)] and got == controls
    bad_pos = [*ids[:12], vocab.TOKEN_ID["POS_12"]]  # a 6/8 bar has 12 positions
    with pytest.raises(PipelineError, match="POS_12"):
        vocab.decode(bad_pos)
    with pytest.raises(PipelineError, match="DUR"):
        vocab.decode([*ids[:14], vocab.TOKEN_ID["BAR"]])
    with pytest.raises(PipelineError, match="not supported"):
        vocab.encode([(0, 60, 4)], {**controls, "TS": "5/4"})
    with pytest.raises(PipelineError, match="not in the vocabulary"):
        vocab.encode([(0, 60, 4)], {**controls, "KEY": 12})


def test_bucket_and_corpus_edges(pieces: list[dict]) -> None:
    assert [vocab.bucket(v, [1.0, 2.0]) for v in (0.5, 1.0, 1.5, 2.0, 9.0)] == [0, 1, 1, 2, 2]
    raw = [ctl.measure(p["notes"], p["ts"], p["n_bars"]) for p in pieces]
    edges = ctl.corpus_edges({k: [r[k] for r in raw] for k in ctl.BUCKETED})
    for k in ctl.BUCKETED:
        assert len(edges[k]) == vocab.N_BUCKETS[k] - 1 and edges[k] == sorted(edges[k])
        buckets = [vocab.bucket(r[k], edges[k]) for r in raw]
        if k == "TRIAD":  # tied values (0.5 = no triads, the folk tunes) share one bucket
            assert len(set(buckets)) >= 2
        else:
            assert min(buckets) == 0 and max(buckets) >= vocab.N_BUCKETS[k] // 2


def _midi(p: dict) -> pretty_midi.PrettyMIDI:
    """The piece at 120 BPM (a 16th = 0.125 s) with its time signature."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    num, den = (int(x) for x in p["ts"].split("/"))
    pm.time_signature_changes.append(pretty_midi.TimeSignature(num, den, 0.0))
    inst = pretty_midi.Instrument(program=0)
    for s, m, d in p["notes"].tolist():
        inst.notes.append(pretty_midi.Note(80, m, s * 0.125, (s + d) * 0.125))
    pm.instruments.append(inst)
    return pm


def test_controls_agree_with_the_attribute_extractor(pieces: list[dict]) -> None:
    for p in pieces:
        raw = ctl.measure(p["notes"], p["ts"], p["n_bars"])
        att = extract(_midi(p))
        assert (raw["KEY"], raw["MODE"]) == (att.key_tonic, att.mode)
        assert raw["REG"] == pytest.approx(att.mean_pitch)
        assert raw["TRIAD"] == pytest.approx(att.major_minor_triad_ratio)
        assert raw["INTV"] == pytest.approx(att.mean_melodic_interval)  # one track: same skyline
        assert raw["VOICES"] == min(4, max(1, round(att.polyphony)))
    voices = [ctl.measure(p["notes"], p["ts"])["VOICES"] for p in pieces]
    assert voices[:4] == [1, 1, 1, 1] and voices[4] == 4  # folk tunes; a Bach chorale


def test_controls_follow_transposition(pieces: list[dict]) -> None:
    p = pieces[4]
    raw = ctl.measure(p["notes"], p["ts"], p["n_bars"])
    up = ctl.measure(p["notes"] + np.array([0, 5, 0]), p["ts"], p["n_bars"])
    assert up["KEY"] == (raw["KEY"] + 5) % 12 and up["REG"] == pytest.approx(raw["REG"] + 5)
    assert {k: up[k] for k in ("MODE", "DENS", "VOICES", "TRIAD", "INTV")} == {
        k: raw[k] for k in ("MODE", "DENS", "VOICES", "TRIAD", "INTV")
    }
    c_major = [(0, 60, 4), (0, 64, 4), (0, 67, 4), (4, 62, 4), (8, 64, 4), (12, 60, 4)]
    got = ctl.measure(c_major * 1, "4/4")
    assert (got["KEY"], got["MODE"], got["TRIAD"], got["DENS"]) == (0, "major", 1.0, 1.5)


def test_midi_folder_conversion(pieces: list[dict], tmp_path: Path) -> None:
    for k, p in enumerate(pieces):
        _midi(p).write(str(tmp_path / f"{k}.mid"))
    (tmp_path / "broken.mid").write_bytes(b"not midi")
    got, skipped = convert_midi_folder(tmp_path)
    assert skipped == {"unreadable": 1} and len(got) == len(pieces)
    by_name = {g["name"]: g for g in got}
    for k, p in enumerate(pieces):
        g = by_name[f"{k}.mid"]
        assert g["ts"] == p["ts"] and g["n_bars"] == p["n_bars"]
        assert g["notes"][:, :2].tolist() == p["notes"][:, :2].tolist()
        if k < 4:  # (in the chorales MIDI cuts a note short where the same pitch re-enters)
            assert g["notes"].tolist() == p["notes"].tolist()
    (tmp_path / "empty").mkdir()
    with pytest.raises(PipelineError, match=r"No \.mid files"):
        convert_midi_folder(tmp_path / "empty")
    said: list[str] = []
    cached = midi_corpus(tmp_path, said.append, data_dir=tmp_path / "data")
    assert midi_corpus(tmp_path, said.append, data_dir=tmp_path / "data") == cached
    assert "6 MIDI pieces" in said[0] and said[1].startswith("corpus: cached at")
    assert [p["name"] for p in load_corpus(cached)[0]] == [f"{k}.mid" for k in range(6)]


def _config() -> dict:
    return {
        "n_layer": 2, "n_head": 2, "d_model": 8, "d_ff": 16, "max_len": 24,
        "vocab": list(vocab.VOCAB), "corpus_sha256": "0" * 64, "tokens_seen": 5, "pieces": 6,
        "bucket_edges": {"DENS": [1.0], "REG": [60.0], "TRIAD": [0.5], "INTV": [2.0]},
        "sources": ["bach (1 pieces)"], "licence": "test",
    }  # fmt: skip


def test_checkpoint_round_trip_and_broken_files(tmp_path: Path) -> None:
    cfg = _config()
    rng = np.random.default_rng(0)
    weights = {k: rng.normal(size=s) for k, s in weight_shapes(cfg).items()}
    path = tmp_path / "m.npz"
    save_checkpoint(path, cfg, weights)
    got_cfg, got = load_checkpoint(path)
    assert got_cfg == cfg and set(got) == set(weights)
    assert all(np.allclose(got[k], weights[k], atol=2e-3, rtol=1e-3) for k in weights)
    assert got["l1.qkv.w"].shape == (8, 24) and got["tok_emb"].dtype == np.float32
    with pytest.raises(PipelineError, match="shape"):
        save_checkpoint(path, cfg, {**weights, "l0.fc.w": np.zeros((16, 8))})
    with pytest.raises(PipelineError, match="does not exist"):
        load_checkpoint(tmp_path / "none.npz")
    (tmp_path / "cut.npz").write_bytes(path.read_bytes()[:2000])
    with pytest.raises(PipelineError, match=r"not a readable|missing"):
        load_checkpoint(tmp_path / "cut.npz")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp_path / "less.npz", "w") as zout:
        for item in zin.namelist():
            if item != "ln_f.b.npy":
                zout.writestr(item, zin.read(item))
    with pytest.raises(PipelineError, match=r"ln_f\.b is missing"):
        load_checkpoint(tmp_path / "less.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(PipelineError, match="no config"):
        load_checkpoint(tmp_path / "other.npz")
