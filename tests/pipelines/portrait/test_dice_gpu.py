"""DICE-Talk port on a GPU: SVD-XT-sized UNet with DICE's additions, random fp16 weights, 512²,
one window of 25 frames × 3 guidance rows → seconds per UNet call and peak GPU memory (printed
beside the no-GPU estimate of ``benchmarks/dice_memory.py``; must fit 24 GB). Skipped where
there is no NVIDIA device or the ``dice`` env's torch sees none. The same probe runs on the CPU
with a tiny UNet in every test run, so the GPU test cannot rot unseen.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.pipelines.portrait.dice_env import run_in_dice_env
from tests.pipelines.portrait.dice_tiny import CONFIG

GIB = 2**30
TINY = {k: list(v) if isinstance(v, tuple) else v for k, v in CONFIG.items()}


def memory(*calls: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """``pipelines.portrait.dice.memory``'s ``estimate``/``measure`` in one dice-env process."""
    script = (
        "import json, sys\nfrom pipelines.portrait.dice import memory\n"
        "print('REPORT ' + json.dumps({'r': [getattr(memory, what)(**args)"
        " for what, args in json.loads(sys.argv[1])]}))"
    )
    report = run_in_dice_env(script, json.dumps(calls), threads=None, timeout=900)[0]
    return list(report["r"])


def test_probe_runs_with_a_tiny_unet_on_the_cpu() -> None:
    args = {"size": 64, "frames": 5, "rows": 3, "decode_chunk": 2, "fp16": False, "config": TINY}
    measured, estimated, four_rows = memory(
        ("measure", {**args, "device": "cpu", "calls": 1}),
        ("estimate", args),
        ("estimate", {**args, "rows": 4}),
    )
    assert measured["shape"] == [3, 5, 4, 8, 8] and measured["finite"]
    assert estimated["weights"] == measured["weights"]  # the same models, fake or real
    assert estimated["unet_call"] > 0 and estimated["decode_chunk_work"] > 0
    assert four_rows["unet_call"] > estimated["unet_call"]  # a 4th guidance row costs memory


@pytest.mark.gpu
@pytest.mark.slow
def test_one_window_at_512_fits_24_gb() -> None:
    if not Path("/dev/nvidiactl").exists() and shutil.which("nvidia-smi") is None:
        pytest.skip("no NVIDIA device on this machine")  # cheap: no env start needed
    args = {"size": 512, "frames": 25, "rows": 3}
    report, estimated = memory(
        ("measure", {**args, "device": "cuda", "calls": 3}), ("estimate", args)
    )
    if "skip" in report:
        pytest.skip(report["skip"])
    print(
        f"\nDICE UNet on {report['device']}: {report['weights']['unet'] / 2e9:.2f} B parameters, "
        f"{report['step_s']:.2f} s per call (3 rows x 25 frames, 512²), "
        f"peak {report['peak_bytes'] / GIB:.1f} GiB (estimated without a GPU: "
        f"{estimated['total'] / GIB:.1f} GiB)"
    )
    assert report["shape"] == [3, 25, 4, 64, 64] and report["finite"]
    assert report["peak_bytes"] < 24 * GIB
