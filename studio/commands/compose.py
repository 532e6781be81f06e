"""``launch.py compose``: text → voice → talking portrait → music bed → one MP4, recorded like a
Compose-tab run.

Example: ``python launch.py compose --text "Hello!" --emotion happy -o hello.mp4``.
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
        "compose",
        parents=[common],
        help="a finished video: the text spoken by a talking portrait over emotion-matched music",
        description="Chain Voice → Portrait → Music into one MP4 with the music ducked under "
        "the speech.",
    )
    add_common_task_args(p)
    p.add_argument("--text", required=True, help="what the portrait says")
    p.add_argument(
        "--emotion",
        default="neutral",
        help=f"{AUTO!r} reads it from the text; or: " + SYNTAX.replace("%", "%%"),
    )
    p.add_argument("--accent", default="us", help="us, rp, scottish, caribbean, indian")
    p.add_argument("--image", type=Path, default=None, help="photo (default: bundled portrait)")
    p.add_argument("--size", type=int, default=384, help="short side in pixels (384)")
    p.add_argument("--no-music", action="store_true", help="speech only, no music bed")
    p.add_argument("--music-db", type=float, default=-16.0, help="music vs speech, dB (-16)")
    p.add_argument("--duck-db", type=float, default=8.0, help="extra dip under speech, dB (8)")
    p.add_argument("--pad", type=float, default=1.0, help="seconds before/after the speech (1)")
    p.add_argument("-o", "--output", type=Path, required=True, help="where to write the .mp4")
    p.add_argument("--wav", type=Path, default=None, help="also write the mixed soundtrack")
    p.add_argument("--srt", type=Path, default=None, help="also write SubRip subtitles here")
    p.add_argument("--vtt", type=Path, default=None, help="also write WebVTT subtitles here")


def build_request(args: argparse.Namespace) -> dict[str, Any]:
    """The request JSON for the parsed flags (validated later by the generation service)."""
    request: dict[str, Any] = {
        "text": args.text,
        "emotion": "neutral" if args.emotion.strip().lower() == AUTO else args.emotion,
        "auto_emotion": args.emotion.strip().lower() == AUTO,
        "accent": args.accent,
        "size": args.size,
        "music": not args.no_music,
        "music_db": args.music_db,
        "duck_db": args.duck_db,
        "pad": args.pad,
        "seed": args.seed,
    }
    if args.image is not None:
        request["image"] = str(Path(args.image).expanduser().absolute())
    return request


def run(args: argparse.Namespace, services: Services) -> int:
    if args.image is not None:
        from studio.commands.portrait import check_photo

        check_photo(Path(args.image).expanduser())
    outputs = {
        "video": args.output,
        "soundtrack": args.wav,
        "subtitles": args.srt,
        "subtitles_vtt": args.vtt,
    }
    return run_task(services, args, "compose", build_request(args), outputs)
