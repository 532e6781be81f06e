"""Music speed: generate + render a 30 s piece per emotion; prints compute ÷ music time.

Goal (issue 5): ≤ 0.05 (under 1.5 s for 30 s of music on 2 CPU cores), measured warm: the
backend is loaded once and one warm-up piece is made first, as in a running studio.

    .venv/bin/python benchmarks/music_speed.py [--seconds 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from pipelines.base import LoadSettings
from pipelines.emotion import EMOTIONS
from pipelines.music.request import MusicRequest
from pipelines.music.rules import RulesBackend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample-rate", type=int, default=44100)
    args = parser.parse_args()

    t0 = time.perf_counter()
    backend = RulesBackend.load(LoadSettings())
    backend.run(MusicRequest(emotion="happy", seconds=args.seconds, seed=99))
    print(f"load + warm-up: {time.perf_counter() - t0:.2f} s; soundfont {backend.soundfont}")
    print(f"{'emotion':<14}{'total s':>9}{'ratio':>8}{'compose':>9}{'tokens':>8}{'render':>8}"
          f"{'accuracy':>10}")  # fmt: skip
    ratios = []
    for emotion in EMOTIONS:
        runs = []
        for seed in range(args.repeats):
            req = MusicRequest(
                emotion=emotion, seconds=args.seconds, seed=seed, sample_rate=args.sample_rate
            )
            start = time.perf_counter()
            result = backend.run(req)
            runs.append((time.perf_counter() - start, result))
        total, result = min(runs, key=lambda r: r[0])
        ratio = total / result.media_seconds
        ratios.append(ratio)
        t = result.timings
        print(
            f"{emotion:<14}{total:>9.3f}{ratio:>8.4f}{t['compose'] + t['measure']:>9.3f}"
            f"{t['tokens']:>8.3f}{t['render']:>8.3f}{result.metadata['attribute_accuracy']:>10.2f}"
        )
    print(
        f"compute ÷ music time: median {statistics.median(ratios):.4f}, worst {max(ratios):.4f} "
        f"(goal ≤ 0.05)"
    )


if __name__ == "__main__":
    main()
