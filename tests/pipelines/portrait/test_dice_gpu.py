"""DICE-Talk port on a GPU: SVD-XT-sized UNet with DICE's additions, random fp16 weights, 512²,
one window of 25 frames × 3 guidance rows → seconds per UNet call and peak GPU memory (printed;
must fit 24 GB). Skipped where there is no NVIDIA device or the ``dice`` env's torch sees none.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.pipelines.portrait.dice_env import run_in_dice_env

pytestmark = [pytest.mark.gpu, pytest.mark.slow]

GIB = 2**30

PROBE = r"""
import json, sys, time, torch
from diffusers import UNetSpatioTemporalConditionModel
from pipelines.portrait.dice.unet import DiceConditioning, dice_forward, install_adapters

args = json.loads(sys.argv[1])
if args["device"] == "cuda" and not torch.cuda.is_available():
    print("REPORT " + json.dumps({"skip": f"no CUDA device (torch {torch.__version__})"}))
    sys.exit(0)
dev, dtype = torch.device(args["device"]), getattr(torch, args["dtype"])
torch.manual_seed(0)
with dev:
    unet = UNetSpatioTemporalConditionModel(**args["config"])  # defaults: SVD-XT's UNet
install_adapters(unet)
unet = unet.to(dtype).eval()
rows, frames, lat = 3, args["frames"], args["size"] // 8
c = unet.config
def rnd(*shape):
    return torch.randn(*shape, device=dev, dtype=dtype)
sample = rnd(rows, frames, c.in_channels, lat, lat)
clip = rnd(rows, 1, c.cross_attention_dim)
tokens = [rnd(rows * frames, 32, c.cross_attention_dim) for _ in range(2)]
mask = (torch.rand(1, 1, args["size"], args["size"], device=dev) > 0.5).to(dtype)
spatial = rnd(rows, frames, c.block_out_channels[0], lat, lat)
tids = torch.tensor([[12.5, 8.0, 0.0]] * rows, device=dev, dtype=dtype)
cond = DiceConditioning(streams=tokens, num_frames=frames, mask=mask, spatial=spatial)
def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()
out = dice_forward(unet, sample, 1.5, clip, tids, cond)  # warm-up
sync()
if dev.type == "cuda":
    torch.cuda.reset_peak_memory_stats()
t0 = time.perf_counter()
for _ in range(args["calls"]):
    out = dice_forward(unet, sample, 1.5, clip, tids, cond)
sync()
report = {
    "step_s": (time.perf_counter() - t0) / args["calls"],
    "peak_bytes": torch.cuda.max_memory_allocated() if dev.type == "cuda" else None,
    "params": sum(p.numel() for p in unet.parameters()),
    "shape": list(out.shape),
    "finite": bool(torch.isfinite(out).all()),
    "device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
}
print("REPORT " + json.dumps(report))
"""


def run_probe(args: dict[str, Any]) -> dict[str, Any]:
    return run_in_dice_env(PROBE, json.dumps(args), threads=None, timeout=900)[0]


def test_one_window_at_512_fits_24_gb() -> None:
    if not Path("/dev/nvidiactl").exists() and shutil.which("nvidia-smi") is None:
        pytest.skip("no NVIDIA device on this machine")  # cheap: no env start needed
    report = run_probe(
        {"device": "cuda", "dtype": "float16", "config": {}, "frames": 25, "size": 512, "calls": 3}
    )
    if "skip" in report:
        pytest.skip(report["skip"])
    print(
        f"\nDICE UNet on {report['device']}: {report['params'] / 1e9:.2f} B parameters, "
        f"{report['step_s']:.2f} s per call (3 rows x 25 frames, 512²), "
        f"peak {report['peak_bytes'] / GIB:.1f} GiB"
    )
    assert report["shape"] == [3, 25, 4, 64, 64] and report["finite"]
    assert report["peak_bytes"] < 24 * GIB
