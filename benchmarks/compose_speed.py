"""Compose speed: compute ÷ video seconds for text → voice → portrait → music → MP4, per stage.

    .venv/bin/python benchmarks/compose_speed.py [--size 384] [--emotions happy,sad]

Each row is one finished video of a ~40-word text with a music bed, on the default backends.
"""

from __future__ import annotations

import argparse
import time

from pipelines.base import LoadSettings
from pipelines.compose import ComposeBackend, ComposeRequest

TEXT = (
    "Thank you all for coming tonight. It has been a long year, and we made it through "
    "together. I could not have asked for a better team, and I cannot wait to see what we "
    "build next."
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--emotions", default="happy,sad,angry,neutral")
    args = ap.parse_args()
    t = time.perf_counter()
    backend = ComposeBackend.load(LoadSettings())
    print(f"load {time.perf_counter() - t:.2f} s; {len(TEXT.split())} words at {args.size} px")
    print(f"{'emotion':<10} {'video s':>8} {'RTF':>6}  per stage (÷ video seconds)")
    for emotion in args.emotions.split(","):
        t = time.perf_counter()
        res = backend.run(ComposeRequest(text=TEXT, emotion=emotion, size=args.size))
        total = time.perf_counter() - t
        secs = res.media_seconds
        stages = "  ".join(f"{k} {v / secs:.3f}" for k, v in res.timings.items())
        print(f"{emotion:<10} {secs:>8.1f} {total / secs:>6.3f}  {stages}", flush=True)


if __name__ == "__main__":
    main()
