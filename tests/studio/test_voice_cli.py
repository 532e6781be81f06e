"""``launch.py voice`` handlers, run on real services with argparse namespaces."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pipelines.base import PipelineError
from studio.commands import voice
from studio.settings import Services


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    voice.add_parser(sub, argparse.ArgumentParser(add_help=False))
    return parser.parse_args(["voice", *argv])


def test_voice_cli_writes_wav_timings_and_subtitles(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hello.wav"
    args = _args(
        "--text", "Namaste, let's talk. आप कैसे हैं?", "--emotion", "happy@0.6",
        "--accent", "indian", "--seed", "3", "-o", str(out), "--srt", str(tmp_path / "s.srt"),
        "--json",
    )  # fmt: skip
    assert voice.run(args, services) == 0
    assert out.stat().st_size > 1000
    timings = json.loads((tmp_path / "hello.timings.json").read_text(encoding="utf-8"))
    assert [w[0] for w in timings["words"]][-3:] == ["आप", "कैसे", "हैं"]
    assert "-->" in (tmp_path / "s.srt").read_text(encoding="utf-8")
    printed = json.loads(capsys.readouterr().out)
    assert printed["status"] == "done" and printed["metadata"]["accent"] == "indian"


def test_voice_cli_bad_input(services: Services, tmp_path: Path) -> None:
    args = _args("--text", "hi", "--accent", "martian", "-o", str(tmp_path / "x.wav"))
    with pytest.raises(PipelineError, match="Unknown accent"):
        voice.run(args, services)
    args = _args("--text-file", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "x.wav"))
    with pytest.raises(ValueError, match="Cannot read"):
        voice.run(args, services)


def test_voice_cli_emotion_auto(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "won.wav"
    text = "I can't believe we won tonight!"
    args = _args("--text", text, "--emotion", "auto", "-o", str(out), "--json")
    assert voice.build_request(args)["auto_emotion"] is True
    assert voice.run(args, services) == 0
    meta = json.loads(capsys.readouterr().out)["metadata"]
    assert meta["emotion_read"]["emotion"] == meta["emotion"] != "neutral"
    assert out.stat().st_size > 1000
