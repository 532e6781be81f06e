"""Stimulus sets: items per minute for a 24-item voice grid (3 emotions × 2 accents × 4 texts),
with the local engine on 1 and N worker processes and on a local Ray, each in a fresh data
directory (so every run pays its workers' start-up and model loading, as a real run does).

    .venv/bin/python benchmarks/stimuli_speed.py [--workers 1,2] [--ray] [--repeats 1]

Prints items/minute and the real-time factor (compute wall time ÷ seconds of audio made).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from studio.settings import Services, Settings
from studio.stimuli import Stimuli

TEXTS = [
    "Please take a seat by the window.",
    "The train to the coast leaves at nine.",
    "I found the letter under the old piano.",
    "We will meet again after the summer.",
]
SPEC = {
    "name": "benchmark",
    "task": "voice",
    "base": {},
    "factors": {"emotion": ["happy", "sad", "angry"], "accent": ["us", "rp"], "text": TEXTS},
    "seed": 3,
    "loudness": -23,
}


def one_run(workers: int | None, ray: str | None) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp, Services.open(Settings(data_dir=Path(tmp))) as svc:
        stimuli = Stimuli(svc)
        made = stimuli.create(SPEC, svc.store.create_project("bench").id)
        t0 = time.perf_counter()
        report = stimuli.run(made.id, workers=workers, ray=ray)
        wall = time.perf_counter() - t0
        audio = 0.0
        for item in svc.store.stimulus_items(made.id):
            audio += svc.store.get_generation(item.generation_id or 0).media_seconds or 0.0
        return wall, audio, len(report.done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", default=f"1,{max(1, (os.cpu_count() or 2))}")
    parser.add_argument("--ray", action="store_true", help="also a private local Ray")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    engines: list[tuple[str, int | None, str | None]] = [
        (f"local × {w}", int(w), None) for w in args.workers.split(",")
    ]
    if args.ray:
        engines.append(("ray (local)", None, "local"))
    print(f"{len(TEXTS) * 6} voice items per run, {os.cpu_count()} CPUs")
    print(f"{'engine':<14} {'wall s':>8} {'items/min':>10} {'RTF':>7}")
    for label, workers, ray in engines:
        for _ in range(args.repeats):
            wall, audio, n = one_run(workers, ray)
            print(f"{label:<14} {wall:8.1f} {n / wall * 60:10.1f} {wall / audio:7.3f}")


if __name__ == "__main__":
    main()
