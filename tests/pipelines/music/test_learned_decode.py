"""Grammar-masked sampling and the performance layer of the learned music backend, on real
outputs of a tiny random-weight checkpoint (the grammar, not the weights, makes them legal)."""

from __future__ import annotations

import numpy as np
import pytest
from emogen_tiny import write_tiny

from pipelines.emotion import EmotionSpec
from pipelines.music.attributes import extract
from pipelines.music.learned import vocab as V
from pipelines.music.learned.decode import Plan, generate, scale_bias
from pipelines.music.learned.perform import melody_plan, perform
from pipelines.music.learned.runtime import EmoGenModel
from pipelines.music.mapping import targets_for

CONTROLS = {"TS": "4/4", "KEY": 6, "MODE": "minor", "DENS": 3, "REG": 4, "VOICES": 1,
            "TRIAD": None, "INTV": 2}  # fmt: skip


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> EmoGenModel:
    # a short context (64) so that long pieces go on in new windows
    return EmoGenModel.load(write_tiny(tmp_path_factory.mktemp("g") / "g.npz", seed=2, max_len=64))


@pytest.mark.parametrize(("bars", "last", "voices"), [(9, 12, 1), (3, 16, 3), (1, 8, 1)])
def test_every_candidate_is_a_legal_piece_of_the_planned_length(
    model: EmoGenModel, bars: int, last: int, voices: int
) -> None:
    plan = Plan("4/4", bars, last, voices)
    ctrl = dict(CONTROLS, VOICES=voices)
    cands = generate(model, ctrl, plan, n=4, seed=11)
    assert len(cands) == 4
    for c in cands:
        toks = [V.VOCAB[i] for i in c.tokens]
        assert toks[: len(V.CONTROL_ORDER) + 2] == ["BOS", "TS_4/4", "KEY_6", "MODE_minor",
            "DENS_3", "REG_4", f"VOICES_{voices}", "TRIAD_any", "INTV_2", "SEP"]  # fmt: skip
        assert toks[-1] == "EOS" and toks.count("EOS") == 1
        lefts = [t for t in toks if t.startswith("LEFT_")]
        assert lefts == [f"LEFT_{bars - b}" for b in range(bars)]  # the forced countdown
        notes, controls = V.decode(c.tokens)  # raises on any grammar violation
        assert controls["KEY"] == 6
        assert notes == c.notes
        starts = [s for s, _, _ in notes]
        assert max(starts) // 16 == bars - 1  # the last bar holds a note …
        assert max(starts) - 16 * (bars - 1) < last  # … inside its allowed span
        per_onset = np.bincount(starts)
        assert per_onset.max() <= voices
        if voices > 1:
            assert (per_onset > 1).any()  # chords are reachable when allowed
    assert len({tuple(c.tokens) for c in cands}) == 4  # four different samples
    again = generate(model, ctrl, plan, n=4, seed=11)
    assert [c.tokens for c in again] == [c.tokens for c in cands]


def test_a_long_piece_goes_on_in_new_windows(model: EmoGenModel) -> None:
    c = generate(model, CONTROLS, Plan("4/4", 40, 16), n=2, seed=1)
    assert all(len(x.tokens) > 2 * model.max_len for x in c)
    assert all(V.n_bars_of(x.tokens) == 40 for x in c)
    lefts = [V.VOCAB[i] for i in c[0].tokens if V.VOCAB[i].startswith("LEFT_")]
    assert lefts == ["LEFT_32"] * 9 + [f"LEFT_{n}" for n in range(31, 0, -1)]


def _line(pitches: list[int], step: int = 2) -> list[tuple[int, int, int]]:
    return [(i * step, p, step) for i, p in enumerate(pitches)]


@pytest.mark.parametrize("emotion", ["happy", "sad", "angry", "calm"])
def test_performance_meets_targets_and_ends_on_the_tonic(emotion: str) -> None:
    t = targets_for(EmotionSpec.parse(emotion))
    tonic = 7  # G
    n_beats = round(20 * t.tempo / 60)
    per_beat, centre = melody_plan(t)
    step = max(1, round(4 / per_beat))
    gen = np.random.default_rng(0)
    walk = np.cumsum(gen.integers(-2, 3, size=(n_beats - 2) * 4 // step))
    pitches = [int(p) for p in round(centre) + walk]
    pitches[-1] = 66  # F#: not the tonic
    line = _line(pitches, step)
    perf = perform(line, t, tonic=tonic, n_beats=n_beats, seed=3, melody_centre=centre)
    m = extract(perf.pm)
    seconds = n_beats * 60 / t.tempo
    assert perf.tonic_forced
    mel = perf.pm.instruments[0].notes
    assert mel[-1].pitch % 12 == tonic and abs(mel[-1].pitch - 66) <= 6
    assert abs(m.duration - seconds) < 1e-6
    assert [i.program for i in perf.pm.instruments] == list(t.instruments)
    assert abs(m.tempo - t.tempo) < 0.01
    assert abs(m.articulation - t.articulation) <= 0.08
    assert abs(m.note_density - t.note_density) <= 0.1 * t.note_density
    assert abs(m.mean_pitch - t.register) <= 2.0
    assert abs(m.velocity_mean - t.velocity) <= 4.0
    assert perf.chords[-1] in ("I", "i") and perf.chords[-2].startswith("V")


def test_a_line_ending_on_the_tonic_is_not_forced() -> None:
    t = targets_for(EmotionSpec.parse("happy"))
    perf = perform(_line([60, 62, 64, 65, 67, 65, 64, 62, 60] * 3), t, tonic=0, n_beats=32,
                   seed=0, melody_centre=70.0)  # fmt: skip
    assert not perf.tonic_forced
    assert perf.octave_shift == 12  # the line sat an octave under its planned centre
    assert perf.pm.instruments[0].notes[-1].pitch == 72


def test_scale_bias_keeps_pitches_in_the_key(model: EmoGenModel) -> None:
    ctrl = dict(CONTROLS, KEY=2, MODE="major")
    free = generate(model, ctrl, Plan("4/4", 6, 16), n=2, seed=0)
    bias = scale_bias(2, "major", 50.0)
    steered = generate(model, ctrl, Plan("4/4", 6, 16), n=2, seed=0, bias=bias)
    d_major = {2, 4, 6, 7, 9, 11, 1}
    outside = [p for c in free for _, p, _ in c.notes if p % 12 not in d_major]
    assert outside  # random weights wander out of the key …
    assert all(p % 12 in d_major for c in steered for _, p, _ in c.notes)  # … steering does not
    assert scale_bias(9, "minor", 3.0)[V.TOKEN_ID["PITCH_68"]] == 0.0  # G#: A minor's leading tone


def test_a_dense_line_gets_pads_held_over_two_bars() -> None:
    t = targets_for(EmotionSpec.parse("calm"))
    n_beats = 40
    line = _line([60 + (i % 5) for i in range(4 * (n_beats - 4) // 2)], 2)  # 2 notes a beat
    perf = perform(line, t, tonic=0, n_beats=n_beats, seed=0, melody_centre=70.0)
    assert "tie" in perf.patterns
    tied = [b for b, f in enumerate(perf.patterns) if f == "tie"]
    assert all(perf.chords[b] == perf.chords[b - 1] for b in tied)
    assert all(perf.patterns[b - 1] == "pad" and b + 1 < len(perf.chords) - 1 for b in tied)
    acc = perf.pm.instruments[1].notes
    assert len({n.start for n in acc}) == len(perf.chords) - len(tied)
    assert abs(extract(perf.pm).articulation - t.articulation) <= 0.08


def test_cadence_steering_ends_lines_on_the_tonic(model: EmoGenModel) -> None:
    plan = Plan("4/4", 3, 16)
    free = generate(model, CONTROLS, plan, n=4, seed=3)
    steered = generate(model, CONTROLS, plan, n=4, seed=3, cadence=(6, 40.0))
    assert any(max(c.notes)[1] % 12 != 6 for c in free)
    assert all(max(c.notes)[1] % 12 == 6 for c in steered)
