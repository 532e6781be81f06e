"""Music tab handlers, called directly with real services (no browser)."""

from __future__ import annotations

import io
from pathlib import Path

import gradio as gr
import pretty_midi
import pytest

from pipelines.base import PipelineError
from studio import music_tab as mt
from studio.settings import Services
from studio.ui import TabContext, follow


def test_emotion_picker_sources() -> None:
    assert (
        mt.emotion_text("Labels", ["happy", "surprised"], "", 0, 0, 1) == "happy:0.5+surprised:0.5"
    )
    assert mt.emotion_text("Labels", ["sad"], "", 0, 0, 0.5) == "sad@0.5"
    assert mt.emotion_text("Blend text", [], "happy:0.7+sad:0.3", 0, 0, 0.8) == (
        "happy:0.7+sad:0.3@0.8"
    )
    assert mt.emotion_text("Valence–arousal", [], "", 0.6, -0.5, 1) == "vad:0.6,-0.5,0"
    with pytest.raises(ValueError, match="at least one"):
        mt.emotion_text("Labels", [], "", 0, 0, 1)
    with pytest.raises(PipelineError, match="Unknown emotion"):
        mt.emotion_text("Blend text", [], "hapy", 0, 0, 1)


def test_targets_shown_and_only_edits_become_overrides() -> None:
    shown = mt.implied("sad")
    assert shown[1] == "minor" and shown[0] < mt.implied("happy")[0]
    same = mt.build_request("sad", "bars", 4, 3, shown[:6], shown[6:])
    assert (same.tempo, same.mode, same.instruments, same.bars, same.seed) == (None, None, (), 4, 3)
    edited = [140, "major", *shown[2:6]]
    req = mt.build_request("sad", "seconds", 12, 0, edited, [40, *shown[7:]])
    assert (req.tempo, req.mode, req.density, req.seconds) == (140.0, "major", None, 12.0)
    assert req.instruments == (40, shown[7], shown[8])
    with pytest.raises(PipelineError, match="between 2 and 600"):
        mt.build_request("sad", "seconds", 7200, 0, shown[:6], shown[6:])


def test_generate_and_present(services: Services) -> None:
    shown = mt.implied("happy")
    req = mt.build_request("happy", "bars", 2, 1, shown[:6], shown[6:])
    info = follow(mt.start(services, None, req), None, poll=0.02)
    out = mt.present(services, info)
    assert info.status == "done", info.error
    assert "done" in out["status"] and "attribute control" in out["status"]
    assert Path(out["audio"]).suffix == ".wav" and Path(out["roll"]).suffix == ".png"
    assert {Path(f).suffix for f in out["files"]} == {".mid", ".wav", ".json"}
    assert out["table"] and {row[0] for row in out["table"]} >= {"tempo", "mode", "register"}
    assert services.store.get_generation(info.id).emotion == "happy"


def test_reference_upload_is_stored_and_used(services: Services, tmp_path: Path) -> None:
    pm = pretty_midi.PrettyMIDI(initial_tempo=90)
    inst = pretty_midi.Instrument(0)
    for i, p in enumerate([57, 60, 64, 69, 64, 60, 57, 64] * 2):
        inst.notes.append(pretty_midi.Note(70, p, i * 2 / 3, (i + 1) * 2 / 3))
    pm.instruments.append(inst)
    buf = io.BytesIO()
    pm.write(buf)
    upload = tmp_path / "my tune.mid"
    upload.write_bytes(buf.getvalue())
    shown = mt.implied("happy")
    req = mt.build_request("happy", "bars", 2, 0, shown[:6], shown[6:], upload)
    info = follow(mt.start(services, None, req, str(upload)), None, poll=0.02)
    assert info.status == "done", info.error
    assert info.metadata["targets"]["source"] == "reference MIDI"
    assert info.metadata["targets"]["tempo"] == pytest.approx(90, abs=0.1)
    stored = Path(info.request["reference_midi"])
    assert stored.is_file() and services.settings.data_dir.resolve() in stored.resolve().parents
    roles = [role for role, _ in services.store.generation_assets(info.id)]
    assert roles == ["reference_midi"]


def test_bad_reference_fails_with_a_readable_message(services: Services, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    req = mt.build_request("sad", "bars", 2, 0, [None] * 6, [], bad)
    info = follow(mt.start(services, None, req, str(bad)), None, poll=0.02)
    assert info.status == "failed" and "could not be read" in (info.error or "")
    assert "failed" in mt.present(services, info)["status"]


def test_tab_builds_and_its_generate_handler_runs(services: Services) -> None:
    with gr.Blocks() as blocks:
        project = gr.Dropdown(choices=[], value=None)
        with gr.Tabs():
            mt.build_tab(TabContext(services, project))
    fns = {f.fn.__name__: f.fn for f in blocks.fns.values() if f.fn is not None}
    shown = mt.implied("sad")
    picker = ["Labels", ["sad"], "", 0.0, 0.0, 1.0]
    inputs = [None, *picker, "bars", 2, 5, *shown, None, "rules", ""]
    seen: list[float] = []
    steps = list(fns["on_generate"](*inputs, progress=lambda f, desc="": seen.append(f)))
    status, audio, roll, table, files = steps[-1]
    assert "done" in status and audio.endswith(".wav") and roll.endswith(".png")
    assert table and len(files) == 3
    bad = list(fns["on_generate"](*[None, "Blend text", [], "hapy", 0, 0, 1, *inputs[7:]]))
    assert len(bad) == 1 and bad[0][0].startswith("⚠️") and "hapy" in bad[0][0]
    bad = list(fns["on_train"]("", None, "../../etc/passwd", 1, False))
    assert bad[0][0].startswith("⚠️") and "not usable" in bad[0][0]
    empty = services.settings.data_dir / "no-midi-here"
    empty.mkdir()
    bad = list(fns["on_train"](str(empty), None, "mine", 1, False))
    assert len(bad) == 1 and "holds no" in bad[0][0]
    bad = list(fns["on_train"]("", None, "mine", 1, False))
    assert len(bad) == 1 and "upload some" in bad[0][0]
    assert fns["on_emotion"](*picker)[1:] == shown
