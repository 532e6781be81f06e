"""Runs inside the ``music-train`` env (torch, music21): ``convert`` the bundled corpus, or
``train`` the generator. Progress goes to stdout as ``PROGRESS {json}`` lines and the outcome as
one ``RESULT {json}`` line; the studio process (:mod:`pipelines.music.learned.train`) reads them.

    python -m pipelines.music.learned.train_worker convert --out C.npz --collections a,b
    python -m pipelines.music.learned.train_worker train --corpus C.npz --out M.npz --state S.pt
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def emit(kind: str, **payload: Any) -> None:
    print(f"{kind} {json.dumps(payload)}", flush=True)


def convert(args: argparse.Namespace) -> int:
    import music21

    from pipelines.music.learned import corpus

    t0 = time.perf_counter()
    collections = [c for c in args.collections.split(",") if c]

    def progress(done: int, total: int) -> None:
        emit("PROGRESS", stage="convert", done=done, total=total)

    pieces, skipped = corpus.convert_bundled(collections, args.workers, progress, args.limit)
    if not pieces:
        emit("RESULT", ok=False, error=f"no piece converted ({dict(skipped)})")
        return 1
    info = {
        "collections": collections,
        "music21": music21.VERSION_STR,
        "skipped": dict(skipped),
        "convert_s": round(time.perf_counter() - t0, 1),
    }
    digest = corpus.save_corpus(Path(args.out), pieces, info)
    emit("RESULT", ok=True, pieces=len(pieces), sha256=digest, **info)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="train_worker")
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert")
    c.add_argument("--out", required=True)
    c.add_argument("--collections", required=True)
    c.add_argument("--workers", type=int, default=1)
    c.add_argument("--limit", type=int, default=None)
    t = sub.add_parser("train")
    t.add_argument("--corpus", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--state", required=True)
    t.add_argument("--minutes", type=float, default=None)
    t.add_argument("--tokens", type=int, default=None)
    t.add_argument("--resume", action="store_true")
    t.add_argument("--init", default=None, help="fine-tune this .npz checkpoint")
    t.add_argument("--size", default="small")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--licence", default="")
    t.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    args = parser.parse_args(argv)
    if args.cmd == "convert":
        return convert(args)
    from pipelines.music.learned.trainer import train

    return train(args, emit)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
