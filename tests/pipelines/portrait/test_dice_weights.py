"""DICE-Talk port, loading a user's weights folder: a tiny folder in DICE-Talk's layout, built
by the test in the ``dice`` env from the parity fixture (UNet) and small random modules.

Checks: the whole folder loads strictly and the loaded UNet still reproduces DICE-Talk's output;
audio/emotion/pose modules feed the UNet end to end; each kind of broken folder is refused with
a message naming the file and the keys; pickles other than tensors or numpy arrays are refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.pipelines.portrait.dice_env import FIXTURE, need_fixture, run_in_dice_env

pytestmark = pytest.mark.slow


CHECK = r"""
import json, os, pickle, sys
from pathlib import Path
import numpy as np, torch
from safetensors.torch import save_file
from pipelines.portrait.dice.modules import AudioProjection, EmotionModule, PoseGuider
from pipelines.portrait.dice.unet import DiceConditioning, dice_forward
from pipelines.portrait.dice.weights import PRIORS, load_models, load_prior

torch.manual_seed(0)
torch.set_num_threads(1)
ref = torch.load(sys.argv[1], weights_only=True)
root = Path(sys.argv[2])
from tests.pipelines.portrait.dice_tiny import CONFIG
config = {k: list(v) if isinstance(v, tuple) else v for k, v in CONFIG.items()}  # as JSON has it
dice = root / "DICE-Talk"  # DICE-Talk's own spelling; the loader matches case-insensitively
(root / "stable-video-diffusion-img2vid-xt" / "unet").mkdir(parents=True)
(root / "whisper-tiny").mkdir()
(root / "whisper-tiny" / "config.json").write_text("{}")
(dice / "emo").mkdir(parents=True)
svd = root / "stable-video-diffusion-img2vid-xt" / "unet"
svd_config = {"_class_name": "UNetSpatioTemporalConditionModel", **config}
(svd / "config.json").write_text(json.dumps(svd_config))
sd = ref["sd"]
save_file({k: v.contiguous() for k, v in sd.items() if ".processor." not in k},
          str(svd / "diffusion_pytorch_model.safetensors"))
torch.save({k: v for k, v in sd.items() if ".processor." in k}, dice / "unet.pth")
torch.save(PoseGuider(32, (4, 8, 8, 16)).state_dict(), dice / "pose_guider.pth")
torch.save(AudioProjection(10 * 5 * 8, 16, 4, 32).state_dict(), dice / "audio_linear.pth")
emo = EmotionModule(16, 16, 4, 32, bank=8).state_dict()
emo["classifier.fc1.weight"] = torch.zeros(2, 2)  # training-only head: ignored
torch.save(emo, dice / "emo_model.pth")
for i, name in enumerate(PRIORS):
    mu = np.random.default_rng(i).standard_normal((1, 16)).astype(np.float32)
    if name == "neutral":
        np.save(dice / "emo" / f"{name}.npy", mu)  # a plain array is accepted too
    else:
        np.save(dice / "emo" / f"{name}.npy", np.array({"mu": mu}, dtype=object), allow_pickle=True)

report = {}
models = load_models(root)
cond = DiceConditioning(streams=[ref["audio"], ref["emo"]], num_frames=5, mask=ref["mask"],
                        spatial=ref["spatial"])
with torch.no_grad():
    out = dice_forward(models.unet, ref["sample"], 500.0, ref["clip"], ref["tids"], cond)
report["max_delta"] = (out - ref["out"]).abs().max().item()

# end to end through our modules: 3 rows x 5 frames
with torch.no_grad():
    whisper = torch.randn(3, 5, 10, 5, 8)
    audio = models.audio_projection(whisper).flatten(0, 1)
    face = torch.zeros(3, 3, 5, 64, 64)
    face[:, :, :, 16:48, 16:48] = 1.0
    spatial = models.pose_guider(face)
    outs, tokens = {}, {}
    for e in ("happy", "sad"):
        prior = models.priors[e].reshape(1, 1, 1, -1).expand(3, 5, 1, -1)
        tokens[e] = models.emotion(prior)
        c = DiceConditioning(streams=[audio, tokens[e].flatten(0, 1)], num_frames=5,
                             mask=face[:1, :1, 0, ::8, ::8], spatial=spatial)
        outs[e] = dice_forward(models.unet, ref["sample"], 500.0, ref["clip"], ref["tids"], c)
report["shapes"] = [list(audio.shape), list(spatial.shape), list(tokens["happy"].shape)]
report["finite"] = all(bool(torch.isfinite(o).all()) for o in outs.values())
report["happy_vs_sad"] = (outs["happy"] - outs["sad"]).abs().max().item()

def refused(change):
    import shutil, tempfile
    tmp = Path(tempfile.mkdtemp())
    shutil.copytree(root, tmp / "w")
    change(tmp / "w")
    try:
        load_models(tmp / "w")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None

d = "DICE-Talk"
def drop_key(w):
    s = torch.load(w / d / "pose_guider.pth", weights_only=True); del s["blocks.2.weight"]
    torch.save(s, w / d / "pose_guider.pth")
def extra_key(w):
    s = torch.load(w / d / "unet.pth", weights_only=True)
    s["mid_block.bogus.weight"] = torch.zeros(1)
    torch.save(s, w / d / "unet.pth")
def drop_ip(w):
    s = torch.load(w / d / "unet.pth", weights_only=True)
    torch.save({k: v for k, v in s.items() if "to_k_ip.1" not in k}, w / d / "unet.pth")
def reshape_key(w):
    s = torch.load(w / d / "audio_linear.pth", weights_only=True); s["norm.bias"] = torch.zeros(7)
    torch.save(s, w / d / "audio_linear.pth")
class Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned",))
def pickle_pth(w):
    torch.save({"x": Boom()}, w / d / "emo_model.pth")
def pickle_npy(w):
    np.save(w / d / "emo" / "sad.npy", np.array({"mu": Boom()}, dtype=object), allow_pickle=True)
def no_file(w):
    (w / d / "audio_linear.pth").unlink()
for name, change in (("drop_key", drop_key), ("extra_key", extra_key), ("drop_ip", drop_ip),
                     ("reshape_key", reshape_key), ("pickle_pth", pickle_pth),
                     ("pickle_npy", pickle_npy), ("no_file", no_file)):
    report[name] = refused(change)

models16 = load_models(root, fp16=True)
report["fp16"] = str(next(models16.unet.parameters()).dtype)
print("REPORT " + json.dumps(report))
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    need_fixture()
    folder = tmp_path_factory.mktemp("dice-weights") / "models"
    found, stdout = run_in_dice_env(CHECK, str(FIXTURE), str(folder))
    assert "pwned" not in stdout
    return found


def test_folder_in_dice_layout_loads_and_reproduces_dice_talk(report: dict[str, Any]) -> None:
    assert report["max_delta"] <= 1e-5, report
    assert report["fp16"] == "torch.float16"


def test_audio_emotion_and_pose_modules_drive_the_unet(report: dict[str, Any]) -> None:
    audio, spatial, emotion = report["shapes"]
    assert audio == [15, 4, 32]
    assert spatial == [3, 5, 32, 8, 8]
    assert emotion == [3, 5, 4, 32]
    assert report["finite"]
    assert report["happy_vs_sad"] > 1e-4


def test_broken_folders_are_refused_naming_file_and_keys(report: dict[str, Any]) -> None:
    assert "pose_guider.pth" in report["drop_key"] and "blocks.2.weight" in report["drop_key"]
    assert "unet.pth" in report["extra_key"] and "mid_block.bogus.weight" in report["extra_key"]
    assert "missing" in report["drop_ip"] and "to_k_ip.1.weight" in report["drop_ip"]
    assert "audio_linear.pth" in report["reshape_key"] and "norm.bias" in report["reshape_key"]
    assert report["no_file"].startswith("LayoutError") and "audio_linear.pth" in report["no_file"]


def test_pickles_other_than_tensors_and_arrays_are_refused(report: dict[str, Any]) -> None:
    pth = report["pickle_pth"]
    assert pth and "emo_model.pth cannot be read as weights only" in pth
    assert "Weights only load failed" in pth
    assert report["pickle_npy"] and "refusing posix.system" in report["pickle_npy"]
