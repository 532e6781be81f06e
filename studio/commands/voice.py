"""``launch.py voice``: text → emotional, accented speech, recorded like a Voice-tab run.

Example: ``python launch.py voice --text "Namaste, let's begin." --emotion happy@0.7
--accent indian -o hello.wav`` writes ``hello.wav`` and ``hello.timings.json`` (word and phoneme
times); ``--srt``/``--vtt`` also write subtitles; ``--json`` prints the generation's metadata.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipelines.emotion import SYNTAX
from pipelines.voice.auto import AUTO
from studio.commands import add_common_task_args, run_task
from studio.settings import Services


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "voice",
        parents=[common],
        help="emotional, accented speech from text (WAV + word/phoneme timings)",
        description="Speak text with an emotion, an accent and an optional voice description.",
    )
    add_common_task_args(p)
    text = p.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="what to say (English, Hindi in Devanagari, or mixed)")
    text.add_argument("--text-file", type=Path, help="read the text from this UTF-8 file")
    p.add_argument(
        "--emotion",
        default="neutral",
        help=f"{AUTO!r} reads the emotion and its intensity from the text; or: "
        + SYNTAX.replace("%", "%%"),
    )
    p.add_argument("--accent", default="us", help="us, rp, scottish, caribbean or indian")
    p.add_argument("--voice", default="joe", help="speaker preset: joe or joe-light")
    p.add_argument(
        "--description", default="", help='Parler-style description, e.g. "speaks slowly, sad"'
    )
    p.add_argument("--rate", type=float, default=1.0, help="speed factor 0.5-2 (1)")
    p.add_argument("--pitch", type=float, default=0.0, help="semitones -12..12 (0)")
    p.add_argument(
        "--check", action="store_true", help="also transcribe it and report the word error rate"
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="where to write the .wav")
    p.add_argument("--srt", type=Path, default=None, help="also write SubRip subtitles here")
    p.add_argument("--vtt", type=Path, default=None, help="also write WebVTT subtitles here")


def build_request(args: argparse.Namespace) -> dict[str, Any]:
    """The request JSON for the parsed flags (validated by the generation service)."""
    text = args.text
    if text is None:
        path = Path(args.text_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"Cannot read the text file {path}: {exc}.") from None
    auto = str(args.emotion).strip().lower() == AUTO
    return {
        "text": text,
        "emotion": "neutral" if auto else args.emotion,
        "auto_emotion": auto,
        "accent": args.accent,
        "voice": args.voice,
        "description": args.description or "",
        "rate": args.rate,
        "pitch": args.pitch,
        "check_intelligibility": bool(args.check),
        "seed": args.seed,
    }


def timings_path(output: Path) -> Path:
    """``out.wav`` → ``out.timings.json``."""
    return output.with_name(f"{output.stem}.timings.json")


def run(args: argparse.Namespace, services: Services) -> int:
    outputs = {
        "audio": args.output,
        "timings": timings_path(args.output),
        "subtitles": args.srt,
        "subtitles_vtt": args.vtt,
    }
    return run_task(services, args, "voice", build_request(args), outputs)
