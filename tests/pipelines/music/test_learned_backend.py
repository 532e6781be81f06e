"""The music/emogen backend end to end on a tiny random-weight checkpoint (grammar, controls,
performance, best-of-n, artifacts, contract), and its "unavailable" path."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pretty_midi
import pytest
from emogen_tiny import EDGES, write_tiny

from pipelines import registry
from pipelines.base import Cancelled, CancelToken, LoadSettings, PipelineError
from pipelines.emotion import EmotionSpec
from pipelines.music.learned import backend as B
from pipelines.music.learned.backend import EmoGenBackend, controls_for
from pipelines.music.mapping import targets_for
from pipelines.music.request import MusicRequest


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny(tmp_path_factory.mktemp("b") / "emogen_mine.npz", seed=5, max_len=128)


@pytest.fixture(scope="module")
def backend(ckpt: Path) -> EmoGenBackend:
    return EmoGenBackend.load(LoadSettings(options={B.OPTION: str(ckpt)}))


def midi_of(result) -> pretty_midi.PrettyMIDI:
    return pretty_midi.PrettyMIDI(io.BytesIO(result.artifacts["midi"].data))


@pytest.mark.parametrize(("emotion", "key"), [("sad", "F#"), ("calm", "Bb"), ("angry", None)])
def test_thirty_seconds_exact_on_the_tonic_in_the_requested_key(
    backend: EmoGenBackend, emotion: str, key: str | None
) -> None:
    req = MusicRequest(emotion=emotion, seconds=30, key=key, seed=4, render=False)
    r = backend.run(req)
    m = r.metadata
    tonic = m["plan"]["key_tonic"]
    if key is not None:
        assert m["key"].split()[0] == key
    assert f"KEY_{tonic}" in m["controls"] and "VOICES_1" in m["controls"]
    assert m["controls"][2] == f"MODE_{m['targets']['mode']}"
    pm = midi_of(r)
    beat = 60.0 / m["targets"]["tempo"]
    assert abs(pm.get_end_time() - r.media_seconds) < 1e-3
    assert abs(r.media_seconds - 30) <= beat
    melody = sorted(pm.instruments[0].notes, key=lambda n: n.start)
    assert melody[-1].pitch % 12 == tonic
    assert abs(melody[-1].end - r.media_seconds) < 1e-3  # the last note is held to the end
    assert isinstance(m["tonic_forced"], bool)
    assert len(m["candidates"]) == 4 and sum(c["chosen"] for c in m["candidates"]) == 1
    best = max(c["accuracy"] for c in m["candidates"])
    assert m["attribute_accuracy"] == best
    hits = {c["attribute"]: c["hit"] for c in m["attribute_checks"]}
    assert hits["tempo"] and hits["duration"] and hits["instruments"] and hits["articulation"]
    tokens = json.loads(r.artifacts["tokens"].data)
    assert tokens["emogen_tokens"][-1] == "EOS"
    assert tokens["emogen_tokens"].count("BAR") == m["plan"]["bars"]
    assert tokens["tokens"]  # REMI tokens of the performed MIDI, as the rules backend writes


def test_controls_follow_the_emotion() -> None:
    c = {e: controls_for(targets_for(EmotionSpec.parse(e)), 2, EDGES) for e in
         ("happy", "sad", "angry", "calm", "fearful")}  # fmt: skip
    assert c["happy"]["MODE"] == "major" and c["sad"]["MODE"] == "minor"
    assert all(x["KEY"] == 2 and x["TS"] == "4/4" and x["VOICES"] == 1 for x in c.values())
    assert c["happy"]["REG"] > c["sad"]["REG"]
    assert c["fearful"]["DENS"] > c["calm"]["DENS"]
    assert c["fearful"]["INTV"] >= c["angry"]["INTV"] > c["sad"]["INTV"] > c["calm"]["INTV"]
    assert all(x["TRIAD"] is None for x in c.values())  # one voice: the chords carry it


def test_contract_artifacts_seeds_progress_and_cancel(backend: EmoGenBackend) -> None:
    req = MusicRequest.example(seed=1)
    seen: list[float] = []
    r = backend.run(req, progress=lambda f, _s: seen.append(f))
    assert set(r.artifacts) == {"midi", "tokens", "audio", "pianoroll"}
    assert r.artifacts["audio"].sample_rate == 22050
    assert abs(r.artifacts["audio"].duration - r.media_seconds) < 1e-3
    json.dumps(r.metadata)
    assert seen == sorted(seen) and seen[-1] == 1.0
    quick = req.replace(render=False)

    def prints(seed: int) -> dict[str, str]:
        res = backend.run(quick.replace(seed=seed))
        return {k: a.fingerprint() for k, a in res.artifacts.items()}

    assert prints(7) == prints(7)
    assert prints(7) != prints(8)
    token = CancelToken()

    def cancel_at_once(_f: float, _s: str) -> None:
        token.cancel()

    with pytest.raises(Cancelled):
        backend.run(quick, progress=cancel_at_once, cancel=token)


def test_checkpoint_discovery_and_unavailable_message(
    ckpt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert B.find_checkpoint(LoadSettings(model_dir=ckpt.parent)) == ckpt
    assert B.find_checkpoint(LoadSettings(model_dir=ckpt)) == ckpt
    with pytest.raises(PipelineError, match="does not exist"):
        B.find_checkpoint(LoadSettings(options={B.OPTION: str(tmp_path / "nope.npz")}))
    monkeypatch.setattr(B, "SHIPPED", tmp_path / "emogen_small.npz")
    bare = EmoGenBackend.load(LoadSettings(model_dir=tmp_path))  # no default checkpoint
    req = MusicRequest(emotion="calm", bars=2, seed=0, render=False)
    with pytest.raises(PipelineError, match=r"unavailable.*music-train.*rules backend"):
        bare.run(req)
    assert bare.run(req.replace(model=ckpt)).metadata["checkpoint"]["file"] == ckpt.name


def test_registered_beside_the_default_rules() -> None:
    assert registry.backend_spec("music").name == "rules"
    assert registry.backend_class("music", "emogen") is EmoGenBackend


@pytest.mark.skipif(
    not B.SHIPPED.is_file(), reason="the shipped checkpoint is not in this checkout"
)
def test_the_shipped_checkpoint_plays_the_requested_keys() -> None:
    assert B.SHIPPED.stat().st_size <= 25e6
    shipped = EmoGenBackend.load(LoadSettings())
    assert shipped.checkpoint == B.SHIPPED
    assert "without the Essen" in shipped.model.config["licence"]
    for emotion, key, tonic in (("happy", "D", 2), ("sad", "A", 9)):
        r = shipped.run(MusicRequest(emotion=emotion, seconds=20, key=key, seed=0, render=False))
        hits = {c["attribute"]: c["hit"] for c in r.metadata["attribute_checks"]}
        assert hits["key"] and hits["mode"] and hits["duration"] and hits["register"]
        assert midi_of(r).instruments[0].notes[-1].pitch % 12 == tonic


def test_a_request_may_name_another_checkpoint(
    backend: EmoGenBackend, ckpt: Path, tmp_path: Path
) -> None:
    """A request's ``model`` (a model trained in the Music tab) is used for that request only."""
    other = write_tiny(tmp_path / "my-style.npz", seed=9, max_len=128)
    req = MusicRequest(emotion="happy", bars=4, seed=1, render=False)
    mine = backend.run(req.replace(model=other))
    assert mine.metadata["checkpoint"]["file"] == "my-style.npz"
    assert backend.run(req).metadata["checkpoint"]["file"] == ckpt.name
    assert backend.with_checkpoint(other) is backend.with_checkpoint(other)  # kept loaded
    with pytest.raises(PipelineError, match=r"does not exist.*Music tab"):
        backend.run(req.replace(model=tmp_path / "gone.npz"))
