"""DICE-Talk port, parity of the small modules with DICE-Talk's own code: the audio projection
(``audio_linear.pth``), the pose guider (``pose_guider.pth``) and the emotion module
(``emo_model.pth``, the bank-wide path its inference uses). ``dice_modules_ref.pt`` holds what
DICE-Talk's ``AudioProjModel``, ``PoseGuider`` and ``EmotionModel`` computed (run once from a
local copy of its repository, which is not part of ours) with weights and inputs from
``dice_modules_recipe.py``; here our modules get the same weights by the same recipe — which
only works if every weight name matches — and must compute the same outputs. The audio and pose
modules are tiny; the emotion module is full size (its width 1024 is fixed in DICE-Talk's code).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.pipelines.portrait.dice_env import run_in_dice_env

pytestmark = pytest.mark.slow

REF = Path(__file__).with_name("dice_modules_ref.pt")

CHECK = r"""
import json, sys, torch
from pipelines.portrait.dice.modules import (
    EMOTION_IGNORED, AudioProjection, EmotionModule, PoseGuider,
)
from tests.pipelines.portrait.dice_modules_recipe import fill, inputs

torch.set_num_threads(1)
ref = torch.load(sys.argv[1], weights_only=True)
ours = {
    "audio": AudioProjection(10 * 5 * 8, 16, 4, 32),
    "pose": PoseGuider(32, (4, 8, 8, 16)),
    "emotion": EmotionModule(256, 1024, 32, 1024, bank=64),
}
report = {"keys": {}, "delta": {}, "scale": {}}
for name, module in ours.items():
    fill(module.eval())
    theirs = [k for k in ref["keys"][name] if not k.startswith(EMOTION_IGNORED)]
    report["keys"][name] = sorted(module.state_dict()) == theirs
x = inputs()
with torch.no_grad():
    out = {
        "audio": ours["audio"](x["audio"]),
        "pose": ours["pose"](x["pose"]).transpose(1, 2),  # DICE-Talk's is (b, c, f, h, w)
        "emotion": ours["emotion"](x["prior"].reshape(1, 1, 1, -1)),
    }
for name, value in out.items():
    report["delta"][name] = (value - ref[name]).abs().max().item()
    report["scale"][name] = ref[name].abs().mean().item()
print("REPORT " + json.dumps(report))
"""


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return run_in_dice_env(CHECK, str(REF))[0]


@pytest.mark.parametrize("name", ["audio", "pose", "emotion"])
def test_module_matches_dice_talks_code(report: dict[str, Any], name: str) -> None:
    assert report["keys"][name], f"{name}: weight names differ from DICE-Talk's"
    assert report["scale"][name] > 0.01  # the reference is not all zeros
    assert report["delta"][name] <= 1e-5, report
