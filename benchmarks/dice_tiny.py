"""DICE-Talk port speed on a tiny random checkpoint (CPU): compute seconds ÷ video seconds.

    .venv/bin/python benchmarks/dice_tiny.py                       # 10 s clip, model 128 px
    .venv/bin/python benchmarks/dice_tiny.py --seconds 20 --max-side 64 --steps 2

It builds the tiny DICE-Talk-layout folder of the end-to-end test (random weights, in the
``dice`` env), loads the ``dice`` backend (worker start + load timed apart) and renders the
bundled sentence repeated with pauses. The ratio is the plumbing's cost per second of video
(Whisper, sampler windows, chunked decode, JSON frame transport, x264): with the real 1.5 B
UNet the sampler dominates and a GPU is needed. Also prints the worker's own split of the time
and the peak memory of the worker and of the studio's process (compare clip lengths: frames are
streamed, so neither should grow much with the clip).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.portrait_speed import speech
from pipelines import envs
from pipelines.base import LoadSettings
from pipelines.portrait.dice.backend import DiceBackend
from pipelines.portrait.request import PortraitRequest


def build(folder: Path) -> Path:
    import subprocess

    python = envs.ensure_env(envs.spec("dice"))
    root = Path(__file__).resolve().parents[1]
    env = {**envs.clean_env_vars(), "PYTHONPATH": str(root)}
    cmd = [str(python), "-m", "tests.pipelines.portrait.dice_checkpoint", str(folder)]
    subprocess.run(cmd, check=True, env=env, cwd=root, capture_output=True)
    return folder


def peak_mb(pid: int | None) -> float:
    """A process's peak resident memory (Linux: VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def studio_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--size", type=int, default=128, help="video short side")
    p.add_argument("--max-side", type=int, default=128, help="model short side")
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = build(Path(tmp) / "models")
        options = {"dice_steps": args.steps, "dice_max_side": args.max_side}
        t0 = time.perf_counter()
        backend = DiceBackend.load(
            LoadSettings(model_dir=folder, threads=args.threads, options=options)
        )
        t_load = time.perf_counter() - t0
        try:
            request = PortraitRequest(
                audio=speech(args.seconds, Path(tmp)),
                emotion="happy",
                size=args.size,
                emotion_check=False,
            )
            t1 = time.perf_counter()
            result = backend.run(request)
            compute = time.perf_counter() - t1
            worker_peak = peak_mb(backend.pid)
        finally:
            backend.unload()
    media = result.media_seconds
    dice = result.metadata["dice"]
    print(f"tiny DICE-Talk, {media:.1f} s video, {result.metadata['frames']} frames at "
          f"{result.metadata['fps']} fps, model {result.metadata['model_size']} px, "
          f"{args.steps} steps, {dice['windows']} windows × {dice['rows']} rows, "
          f"{args.threads} thread(s)")  # fmt: skip
    print(f"load (worker start + weights): {t_load:.1f} s")
    print(f"worker: {dice['timings']}")
    print(f"peak memory: worker {worker_peak:.0f} MB, studio process {studio_peak_mb():.0f} MB")
    print(f"compute {compute:.1f} s / media {media:.1f} s = ratio {compute / media:.2f}")


if __name__ == "__main__":
    main()
