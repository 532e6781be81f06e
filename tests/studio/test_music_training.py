"""Training the learned music model on the user's own MIDI, as the Music tab does it: real
files, the real ``music-train`` env and trainer, then a piece from that model through the
generation service; fine-tuning the bundled model beats scratch; resume continues a run,
cancel stops it with its state kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import envs
from pipelines.music.learned import backend as B
from pipelines.music.learned.checkpoint import load_checkpoint
from pipelines.music.learned.corpus import load_corpus
from pipelines.music.learned.train_env import SPEC
from studio.music_tab import begin_training, build_request, start
from studio.music_training import model_choices
from studio.settings import Services
from tests.pipelines.music.music_midi import make_midi, midi_bytes

PIECES = Path(__file__).parents[1] / "pipelines" / "music" / "learned_pieces.npz"


@pytest.mark.slow
def test_train_on_my_midi_then_compose_with_it(services: Services, tmp_path: Path) -> None:
    try:
        envs.ensure_env(SPEC)
    except envs.EnvBuildError as exc:
        if exc.network:
            pytest.skip(f"music-train env not built: the package index is unreachable ({exc})")
        raise
    folder = tmp_path / "my midi"
    folder.mkdir()
    for k, p in enumerate(load_corpus(PIECES)[0]):
        line = [(int(m), s / 4, d / 4, 80) for s, m, d in p["notes"].tolist()]
        (folder / f"tune {k}.mid").write_bytes(midi_bytes(make_midi([line])))
    data = services.settings.data_dir

    run = begin_training(services, str(folder), None, "my-style", 0.15, False)
    assert run.done.wait(300), run.lines[-5:]
    assert not run.error, run.error
    assert run.out == data / "models" / "music" / "my-style.npz" and run.out.is_file()
    assert any("MIDI pieces" in line for line in run.lines), run.lines
    assert ("my-style", str(run.out)) in model_choices(data)
    first = run.result or {}
    assert first["heldout_loss"] < first["initial_heldout_loss"]

    # Fine-tuning the bundled model on the same few pieces starts far ahead of scratch.
    tuned = begin_training(services, str(folder), None, "tuned", 0.1, False, from_bundled=True)
    assert tuned.done.wait(300) and not tuned.error, tuned.error
    assert (tuned.result or {})["heldout_loss"] < first["heldout_loss"] - 1.0, tuned.result
    config = load_checkpoint(tuned.out)[0]
    assert config["licence"].startswith("Fine-tuned from emogen_small.npz")
    assert config["bucket_edges"] == load_checkpoint(B.SHIPPED)[0]["bucket_edges"]

    # Resume goes on from the saved state; cancel stops it and keeps that state.
    state = run.out.with_name("my-style.npz.state.pt")
    assert state.is_file()
    again = begin_training(services, str(folder), None, "my-style", 10, True)
    while not again.done.wait(0.5):
        if any("resum" in line.lower() for line in again.lines):
            again.token.cancel()
    assert any("resum" in line.lower() for line in again.lines), again.lines
    assert "cancel" in again.error.lower() and state.is_file()

    req = build_request("sad", "bars", 4, 3, [None] * 6, [], None, str(run.out))
    info = start(services, None, req, None, "emogen").wait()
    assert info.status == "done", info.error
    assert info.metadata["checkpoint"]["file"] == "my-style.npz"
    assert info.request["model"] == str(run.out)
