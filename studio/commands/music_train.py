"""``launch.py music-train``: train the learned music generator (EmoGen stage 2).

Examples::

    python launch.py music-train --corpus bundled --minutes 60 --out emogen.npz
    python launch.py music-train --midi ~/my_midi --minutes 20 --out mine.npz
    python launch.py music-train --midi ~/my_midi --minutes 20 --out mine.npz --resume

torch runs in the isolated ``music-train`` env (built on first use, or by
``launch.py backends install music-train``); the checkpoint is a NumPy ``.npz``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from studio.settings import Services


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "music-train",
        parents=[common],
        help="train the learned music generator on the bundled corpus or your MIDI folder",
        description="Train a small attribute-conditioned transformer; writes an .npz checkpoint.",
    )
    p.set_defaults(command="music_train")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--midi", type=Path, default=None, help="a folder of .mid files")
    src.add_argument(
        "--corpus",
        choices=("bundled",),
        default=None,
        help="music21's bundled corpus without Essen (non-commercial)",
    )
    p.add_argument("--with-essen", action="store_true", help="add Essen (non-commercial use)")
    p.add_argument("--minutes", type=float, default=None, help="training time (default 30)")
    p.add_argument("--tokens", type=int, default=None, help="stop after this many tokens")
    p.add_argument("--out", type=Path, default=Path("emogen.npz"), help="checkpoint to write")
    p.add_argument("--resume", action="store_true", help="continue from <out>.state.pt")
    p.add_argument(
        "--from",
        dest="init",
        default=None,
        help="fine-tune a model: 'bundled' (the shipped one) or an .npz path",
    )
    p.add_argument("--size", choices=("small", "tiny"), default="small", help="model size")
    p.add_argument("--limit", type=int, default=None, help="use only N corpus items")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")


def _init(value: str | None) -> Path | None:
    if not value:
        return None
    if value == "bundled":
        from pipelines.music.learned.backend import SHIPPED

        return SHIPPED
    return Path(value).expanduser()


def run(args: argparse.Namespace, services: Services) -> int:
    from pipelines.base import PipelineError
    from pipelines.music.learned.train import train_model

    t0 = time.perf_counter()

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - t0:7.1f} s] {line}", flush=True)

    minutes = args.minutes if args.minutes is not None or args.tokens is not None else 30.0
    try:
        res = train_model(
            args.out,
            midi=args.midi,
            minutes=minutes,
            tokens=args.tokens,
            resume=args.resume,
            size=args.size,
            with_essen=args.with_essen,
            limit=args.limit,
            threads=args.threads,
            say=say,
            init=_init(args.init),
        )
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"Wrote {args.out}: {res['tokens_seen']:,} tokens seen ({res['run_tokens']:,} in "
        f"{res['run_minutes']} min, {res['tok_s']} tok/s); loss train {res['train_loss']}, "
        f"held-out {res['heldout_loss']} (untrained {res['initial_heldout_loss']})."
    )
    return 0
