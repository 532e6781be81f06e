"""Compose tab handlers and the compose CLI, with real services and the real default backends."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import gradio as gr
import pytest

from pipelines.base import PipelineError
from pipelines.portrait.request import DEFAULT_IMAGE
from studio import compose_tab as ct
from studio.settings import Services
from studio.ui import TabContext, follow

ROOT = Path(__file__).resolve().parents[2]


def _request(text: str = "Hello there, friend.", **over: object) -> object:
    args: dict[str, object] = dict(
        label="happy", blend=ct.NONE, blend_weight=0.3, intensity=0.8, accent="us", size=128,
        music=True, music_db=-16, duck_db=8, pad=0.5, seed=0,
    )  # fmt: skip
    args.update(over)
    return ct.build_request(text, **args)  # type: ignore[arg-type]


def test_controls_become_one_request() -> None:
    req = _request(label="sad", blend="fearful", blend_weight=0.25, intensity=0.5, accent="rp")
    assert str(req.emotion) == "sad:0.75+fearful:0.25@0.5"
    assert (req.accent, req.size, req.pad) == ("rp", 128, 0.5)
    assert str(_request(blend=ct.NONE).emotion) == "happy@0.8"
    with pytest.raises(PipelineError, match=r"(?i)text"):
        _request("   ")


def test_compose_from_an_uploaded_photo_is_stored_and_presented(
    services: Services, tmp_path: Path
) -> None:
    photo = tmp_path / "me.jpg"
    shutil.copyfile(DEFAULT_IMAGE, photo)
    info = follow(ct.start(services, None, _request(), str(photo)), None, poll=0.02)
    assert info.status == "done", info.error
    shown = ct.present(services, info)
    assert shown["video"].endswith(".mp4") and Path(shown["video"]).stat().st_size > 10_000
    assert "lower than between phrases" in shown["status"] and "Music in" in shown["status"]
    assert shown["subtitles"].endswith(".vtt") and len(shown["files"]) == 5
    roles = [role for role, _ in services.store.generation_assets(info.id)]
    assert roles == ["image"]
    stored = Path(services.store.get_generation(info.id).request["image"])
    assert services.settings.data_dir.resolve() in stored.resolve().parents


def test_a_broken_photo_fails_with_a_readable_message(services: Services, tmp_path: Path) -> None:
    bad = tmp_path / "photo.png"
    bad.write_bytes(b"not a picture at all")
    info = follow(ct.start(services, None, _request(), str(bad)), None, poll=0.02)
    assert info.status == "failed" and "photo" in (info.error or "").lower()
    assert ct.present(services, info)["video"] is None


def test_tab_builds(services: Services) -> None:
    with gr.Blocks():
        ct.build_tab(TabContext(services, gr.Dropdown(choices=[], value=None)))


def test_cli_writes_the_video_and_soundtrack(tmp_path: Path) -> None:
    out, wav = tmp_path / "hi.mp4", tmp_path / "hi.wav"
    done = subprocess.run(
        [sys.executable, str(ROOT / "launch.py"), "--data-dir", str(tmp_path / "data"),
         "compose", "--text", "Hi there.", "--emotion", "sad@0.6", "--size", "128",
         "-o", str(out), "--wav", str(wav)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 5_000 and wav.stat().st_size > 10_000
    bad = subprocess.run(
        [sys.executable, str(ROOT / "launch.py"), "--data-dir", str(tmp_path / "data"),
         "compose", "--text", "Hi.", "--pad", "99", "-o", str(tmp_path / "x.mp4")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert bad.returncode != 0 and "pad" in bad.stderr and not (tmp_path / "x.mp4").exists()
