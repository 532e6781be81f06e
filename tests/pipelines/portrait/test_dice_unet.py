"""DICE-Talk port, UNet parity: our UNet + IP processors reproduce DICE-Talk's own output.

``../shared/fixtures/dice_tiny/ref.pt`` was made by DICE-Talk's code (diffusers 0.29) with tiny
random weights (its README lists the tensors and the config). The check runs in the isolated
``dice`` env (built once, cached by the spec hash like Parler's; the test skips only when the
package index cannot be reached to build it), in one subprocess that reports JSON.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from pipelines import envs
from tests.pipelines.portrait.dice_env import FIXTURE, ROOT, need_fixture, run_in_dice_env

pytestmark = pytest.mark.slow


CHECK = r"""
import json, sys, torch
from pipelines.portrait.dice.unet import (
    DiceConditioning, StrictLoadError, build_unet, dice_forward, load_strict,
)

torch.manual_seed(0)
torch.set_num_threads(1)
ref = torch.load(sys.argv[1], weights_only=True)
from tests.pipelines.portrait.dice_tiny import CONFIG as config
unet = build_unet(config).eval()
report = {}
sd = dict(ref["sd"])
for name, bad in (
    ("missing", {k: v for k, v in sd.items() if ".to_v_ip.1." not in k}),
    ("extra", {**sd, "conv_in.processor.to_k_ip.2.weight": torch.zeros(1)}),
):
    try:
        load_strict(unet, bad, "ref.pt")
        report[name] = None
    except StrictLoadError as exc:
        report[name] = str(exc)
load_strict(unet, sd, "ref.pt")


def run(**change):
    kw = dict(streams=[ref["audio"], ref["emo"]], num_frames=5, mask=ref["mask"],
              spatial=ref["spatial"])
    kw.update(change)
    with torch.no_grad():
        out = dice_forward(unet, ref["sample"], 500.0, ref["clip"], ref["tids"],
                           DiceConditioning(**kw))
    return out


out = run()
report["shape"] = list(out.shape)
report["finite"] = bool(torch.isfinite(out).all())
report["max_delta"] = (out - ref["out"]).abs().max().item()
report["ref_max"] = ref["out"].abs().max().item()
# controls: each addition changes the output, so the parity above cannot pass by accident
for name, change in (
    ("no_audio", dict(scales=(0.0, 1.0))),
    ("no_emotion", dict(scales=(1.0, 0.0))),
    ("no_mask", dict(mask=None)),
    ("no_map", dict(spatial=None)),
):
    report[name] = (run(**change) - ref["out"]).abs().max().item()
print("REPORT " + json.dumps(report))
"""


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    need_fixture()
    return run_in_dice_env(CHECK, str(FIXTURE))[0]


def test_dice_fixture_loads_strictly_and_reproduces_dice_talks_output(
    report: dict[str, Any],
) -> None:
    assert report["shape"] == [3, 5, 4, 8, 8]
    assert report["finite"]
    assert report["max_delta"] <= 1e-5, report
    assert report["ref_max"] > 0.1  # the reference is not a trivial all-zero output


def test_each_dice_addition_changes_the_output(report: dict[str, Any]) -> None:
    for name in ("no_audio", "no_emotion", "no_mask", "no_map"):
        assert report[name] > 1e-3, (name, report)


def test_strict_loading_names_missing_and_extra_keys(report: dict[str, Any]) -> None:
    missing, extra = report["missing"], report["extra"]
    assert missing and "missing" in missing and ".to_v_ip.1.weight" in missing
    assert extra and "unexpected" in extra and "conv_in.processor.to_k_ip.2.weight" in extra


def test_main_env_imports_the_dice_spec_without_torch() -> None:
    code = (
        "import sys, pipelines.envs, pipelines.portrait.dice, pipelines.portrait.dice.env as e;"
        "assert 'torch' not in sys.modules and 'diffusers' not in sys.modules;"
        "print(e.SPEC.install_command)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "python launch.py backends install dice"


def test_backends_install_dice_confirms_the_built_env(report: dict[str, Any]) -> None:
    from studio.commands.backends_install import INSTALLABLE, install_backend

    assert {"parler", "dice"} <= set(INSTALLABLE)
    lines: list[str] = []
    assert install_backend("dice", lines.append) == 0
    assert "DICE-Talk environment already installed" in lines[0]
    assert envs.spec("dice").pins_hash() in lines[0]
    with pytest.raises(envs.PipelineError, match="No isolated environment named 'nope'"):
        envs.spec("nope")
