"""``launch.py music`` handled by studio.commands.music with real services."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import soundfile

from pipelines.base import PipelineError
from pipelines.music.attributes import extract_file
from studio.commands import music
from studio.settings import Services


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    music.add_parser(sub, argparse.ArgumentParser(add_help=False))
    return parser.parse_args(["music", *argv])


def test_music_command_writes_midi_and_wav(services: Services, tmp_path: Path, capsys) -> None:
    mid, wav = tmp_path / "out.mid", tmp_path / "out.wav"
    args = parse("--emotion", "sad@0.8", "--seconds", "6", "--tempo", "75", "--mode", "minor",
                 "--seed", "4", "-o", str(mid), "--wav", str(wav), "--json")  # fmt: skip
    assert music.run(args, services) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["task"] == "music" and info["request"]["tempo"] == 75
    got = extract_file(mid)
    assert got.mode == "minor" and got.tempo == pytest.approx(75, abs=0.1)
    data, sr = soundfile.read(wav)
    assert abs(len(data) / sr - 6) <= 60 / 75 and abs(data).max() > 0.05


def test_music_command_errors(services: Services, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        parse("--emotion", "happy", "--seconds", "5", "--bars", "2", "-o", "x.mid")
    args = parse("--emotion", "happy", "-o", str(tmp_path / "missing" / "x.mid"))
    with pytest.raises(PipelineError, match="does not exist"):
        music.run(args, services)
    args = parse("--emotion", "hapy", "-o", str(tmp_path / "x.mid"))
    with pytest.raises(PipelineError, match="Unknown emotion"):
        music.run(args, services)
