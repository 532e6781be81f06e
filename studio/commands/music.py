"""``launch.py music``: emotion → attributes → MIDI (and WAV), recorded like a Music-tab run.

Example: ``python launch.py music --emotion "sad@0.7" --bars 16 -o sad.mid --wav sad.wav``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipelines.emotion import SYNTAX
from studio.commands import add_common_task_args, run_task
from studio.settings import Services


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "music",
        parents=[common],
        help="emotion-conditioned music: MIDI (+ WAV) from emotion → musical attributes",
        description="Compose a piece whose musical attributes follow an emotion (EmoGen-style).",
    )
    add_common_task_args(p)
    p.add_argument("--emotion", required=True, help=SYNTAX.replace("%", "%%"))
    length = p.add_mutually_exclusive_group()
    length.add_argument("--seconds", type=float, default=None, help="length in seconds (2-600)")
    length.add_argument("--bars", type=int, default=None, help="length in 4/4 bars (default 8)")
    p.add_argument("--tempo", type=float, default=None, help="beats per minute (30-240)")
    p.add_argument("--mode", choices=("major", "minor"), default=None)
    p.add_argument("--key", default=None, help="tonic, e.g. C, F#, Bb (default: from the seed)")
    p.add_argument(
        "--instruments",
        default=None,
        help="General MIDI programs for melody,accompaniment,bass, e.g. 40,46,32",
    )
    p.add_argument(
        "--reference-midi", type=Path, default=None, help="take the attributes of this MIDI file"
    )
    p.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="labelled MIDI folder (Q1..Q4 subfolders): use the nearest real piece's attributes",
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="where to write the .mid")
    p.add_argument("--wav", type=Path, default=None, help="also write the rendered audio here")


def build_request(args: argparse.Namespace) -> dict[str, Any]:
    """The request JSON for the parsed flags (validated later by the generation service)."""
    request: dict[str, Any] = {"emotion": args.emotion, "seed": args.seed}
    for name in ("seconds", "bars", "tempo", "mode", "key"):
        value = getattr(args, name, None)
        if value is not None:
            request[name] = value
    if getattr(args, "instruments", None):
        try:
            request["instruments"] = [int(x) for x in str(args.instruments).split(",") if x]
        except ValueError:
            raise ValueError(
                f"--instruments takes General MIDI numbers like 40,46,32, got {args.instruments!r}."
            ) from None
    for name in ("reference_midi", "corpus"):
        value = getattr(args, name, None)
        if value is not None:
            request[name] = str(Path(value).expanduser().absolute())
    return request


def run(args: argparse.Namespace, services: Services) -> int:
    if args.reference_midi is not None:
        # an unreadable, empty or drum-only reference is refused before anything is queued
        from pipelines.music.attributes import extract_file

        extract_file(Path(args.reference_midi).expanduser(), "Reference MIDI")
    outputs = {"midi": args.output, "audio": args.wav}
    return run_task(services, args, "music", build_request(args), outputs)
