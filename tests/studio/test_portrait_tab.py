"""Portrait tab logic and CLI command, driven without a browser on real (small) renders."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from pipelines import registry
from pipelines.base import PipelineError
from pipelines.emotion import EmotionSpec
from studio.portrait_tab import AUTO, NONE, PortraitTab, build_emotion, emotion_check_markdown
from studio.ui import backend_info, backend_names

PORTRAIT_TASK = registry.TaskSpec(
    "portrait", "Portrait", "pipelines.portrait.request:PortraitRequest"
)
PORTRAIT_BACKENDS = (
    registry.BackendSpec(
        "portrait", "warp", "pipelines.portrait.landmark_warp:WarpBackend", "2-D warp", default=True
    ),
    registry.BackendSpec(
        "portrait", "tiny", "pipelines.portrait.tiny:TinyPortraitBackend", "tiny", test_only=True
    ),
)


@pytest.fixture()
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The portrait task in the registry, whether or not it is registered there yet."""
    if not any(t.name == "portrait" for t in registry.TASKS):
        monkeypatch.setattr(registry, "TASKS", (*registry.TASKS, PORTRAIT_TASK))
        monkeypatch.setattr(registry, "BACKENDS", (*registry.BACKENDS, *PORTRAIT_BACKENDS))


@pytest.fixture()
def speech(tmp_path: Path) -> Path:
    t = np.arange(int(1.2 * 16000)) / 16000
    env = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, 1)
    buzz = sum(np.sin(2 * np.pi * 130 * k * t) / k for k in range(1, 12))
    path = tmp_path / "hello.wav"
    soundfile.write(str(path), (0.2 * env * buzz).astype(np.float32), 16000, "PCM_16")
    return path


def test_emotion_picker() -> None:
    assert build_emotion(AUTO, NONE, 0.3, 0.8) is None
    assert build_emotion("sad", NONE, 0.3, 0.5) == EmotionSpec.of("sad", 0.5)
    blend = build_emotion("happy", "surprised", 0.25, 1.0)
    assert blend == EmotionSpec.blend({"happy": 0.75, "surprised": 0.25})


def test_generate_stores_inputs_once_and_shows_the_check(services, registered, speech) -> None:
    tab = PortraitTab(services)
    first = tab.store_upload(speech, "hello.wav")
    assert first == tab.store_upload(speech, "again.wav")  # stored once, by content
    info = tab.generate(None, None, "upload", str(speech), None, "", EmotionSpec.of("happy"),
                        1.0, 17, seed=2, size=160)  # fmt: skip
    assert info.status == "done", info.error
    assert Path(info.request["audio"]) == first
    assert str(first).startswith(str(services.settings.data_dir))
    video, stills, message = tab.outputs(info)
    assert video and Path(video).stat().st_size > 0 and stills and stills.endswith(".png")
    assert "Lip sync r" in message and "lip-corner lift" in message
    assert services.store.find_project("Scratch") is not None


def test_bad_photo_fails_with_advice_and_missing_audio_is_explained(
    services, registered, speech, tmp_path: Path
) -> None:
    tab = PortraitTab(services)
    flat = tmp_path / "wall.png"
    from PIL import Image

    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(flat)
    info = tab.generate(None, str(flat), "upload", str(speech), None, "", None, 1.0, 17, 0, 160)
    assert info.status == "failed" and "No face found" in (info.error or "")
    assert "frontal" in tab.outputs(info)[2]
    with pytest.raises(PipelineError, match="Upload a speech recording"):
        tab.generate(None, None, "upload", None, None, "", None, 1.0, 17, 0, 160)


def test_text_without_a_voice_pipeline_is_explained(
    services, registered, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "TASKS", tuple(t for t in registry.TASKS if t.name != "voice"))
    tab = PortraitTab(services)
    assert not tab.voice_available() and tab.voice_choices(1) == []
    with pytest.raises(PipelineError, match=r"Voice pipeline.*Upload"):
        tab.generate(None, None, "text", None, None, "Hello", None, 1.0, 17, 0, 160)


def test_emotion_check_markdown_lists_the_numbers() -> None:
    meta = {
        "emotion": "sad", "emotion_source": "request", "notes": ["2 faces found"],
        "emotion_check": {"lip_sync_r": 0.81, "lip_sync_lag_frames": 1, "blinks": 2,
                          "head_range": {"roll_deg": 3.2},
                          "vs_neutral": {"corner_lift": -0.05, "inner_brow": 0.07}},
    }  # fmt: skip
    text = emotion_check_markdown(meta)
    assert "0.81" in text and "-0.050" in text and "+0.070" in text and "2 faces" in text


def test_build_tab_lays_out(services, registered) -> None:
    import gradio as gr

    from studio.portrait_tab import build_tab
    from studio.ui import TabContext

    with gr.Blocks():
        project = gr.Dropdown(choices=[], value=None)
        with gr.Tabs():
            build_tab(TabContext(services, project))


def test_cli_command(services, registered, speech, tmp_path: Path, capsys) -> None:
    from studio.commands import portrait

    parser = argparse.ArgumentParser()
    portrait.add_parser(
        parser.add_subparsers(dest="command"), argparse.ArgumentParser(add_help=False)
    )
    out = tmp_path / "talk.mp4"
    argv = ["portrait", "--audio", str(speech), "--emotion", "sad@0.7", "--size", "160",
            "--framing", "full"]  # fmt: skip
    args = parser.parse_args([*argv, "--seed", "4", "-o", str(out), "--json"])
    assert portrait.run(args, services) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["status"] == "done" and printed["emotion"] == "sad"
    assert printed["metadata"]["framing"] == "full"
    assert printed["metadata"]["emotion_check"]["lip_sync_r"] > 0.5
    assert out.stat().st_size > 0
    missing = parser.parse_args(["portrait", "--audio", str(tmp_path / "nope.wav"), "-o", str(out)])
    with pytest.raises(PipelineError, match="does not exist"):
        portrait.run(missing, services)


def test_cli_help_mentions_the_flags() -> None:
    from studio.commands import portrait

    parser = argparse.ArgumentParser(prog="launch.py")
    portrait.add_parser(
        parser.add_subparsers(dest="command"), argparse.ArgumentParser(add_help=False)
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["portrait", "--help"])
    assert sys.modules["studio.commands.portrait"]


def test_the_backend_picker_runs_the_chosen_backend(services, registered, speech) -> None:
    names, default = backend_names("portrait")
    assert default == "warp" and "dice" in names and "tiny" not in names
    assert "CC BY-NC-SA 4.0" in backend_info("portrait", "dice")
    tab = PortraitTab(services)
    info = tab.generate(None, None, "upload", str(speech), None, "", None, 1.0, 17, 0, 160,
                        backend="dice")  # fmt: skip
    # No DICE-Talk weights here: the chosen backend ran and said what to do.
    assert info.status == "failed" and info.backend == "dice"
    assert "model" in (info.error or "").lower(), info.error
