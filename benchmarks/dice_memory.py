"""DICE-Talk GPU memory, estimated here without a GPU: full-size models as fake tensors.

    .venv/bin/python benchmarks/dice_memory.py                    # 512², 25-frame windows
    .venv/bin/python benchmarks/dice_memory.py --size 512 768 --rows 3 4 --frames 14 25

For each setting it runs ``pipelines/portrait/dice/memory.py`` in the ``dice`` environment: the
weights on the device (SVD-XT UNet + DICE adapters, VAE, ViT-H CLIP; fp16) plus the larger of one
UNet call's working memory (3 guidance rows, or 4 when the audio and emotion scales differ) and
one decode chunk's. It is an estimate (allocator fragmentation, cuDNN workspaces and the CUDA
context are not seen); ``pytest -m gpu tests/pipelines/portrait/test_dice_gpu.py`` measures the
real peak on a GPU.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines import envs

ROOT = Path(__file__).resolve().parents[1]
GIB = 2**30


def estimate(python: Path, **args: int) -> dict[str, Any]:
    env = {**envs.clean_env_vars(), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [str(python), "-m", "pipelines.portrait.dice.memory", "estimate", json.dumps(args)]
    out = subprocess.run(cmd, check=True, env=env, cwd=ROOT, capture_output=True, text=True)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("REPORT "))
    return dict(json.loads(line[len("REPORT ") :]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, nargs="+", default=[512])
    p.add_argument("--frames", type=int, nargs="+", default=[25])
    p.add_argument("--rows", type=int, nargs="+", default=[3])
    p.add_argument("--decode-chunk", type=int, default=10)
    args = p.parse_args()
    python = envs.ensure_env(envs.spec("dice"))
    print(
        "size  frames rows | weights GiB (unet/vae/clip) | UNet call GiB | decode GiB | total GiB"
    )
    for size, frames, rows in itertools.product(args.size, args.frames, args.rows):
        r = estimate(python, size=size, frames=frames, rows=rows, decode_chunk=args.decode_chunk)
        w = r["weights"]
        parts = "/".join(f"{w[k] / GIB:.2f}" for k in ("unet", "vae", "clip"))
        print(
            f"{size:4d}  {frames:6d} {rows:4d} | {sum(w.values()) / GIB:5.2f} ({parts}) "
            f"| {r['unet_call'] / GIB:13.2f} | {r['decode_chunk_work'] / GIB:10.2f} "
            f"| {r['total'] / GIB:9.2f}"
        )


if __name__ == "__main__":
    main()
