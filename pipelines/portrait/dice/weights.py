"""Load a user's DICE-Talk weights from a folder in DICE-Talk's layout (offline, strict).

Runs only inside the ``dice`` environment. The folder layout (``--model-dir``) and its checks
live in :mod:`.layout` (pure Python, so the main environment can check a folder too); the
Whisper, VAE and CLIP parts are loaded by :mod:`.features`.

``.pth`` files are read with ``torch.load(weights_only=True)``; the priors, pickled
``{'mu': array}`` dicts, with an unpickler that admits numpy arrays and nothing else. Every file
is loaded strictly: a missing, unexpected or misshapen key is an error naming the file and the keys.
"""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from pipelines.portrait.dice.layout import (  # noqa: F401  (re-exported)
    DICE_FILES,
    PRIORS,
    SVD,
    DiceLayout,
    LayoutError,
    find_layout,
)
from pipelines.portrait.dice.modules import (
    EMOTION_IGNORED,
    AudioProjection,
    EmotionModule,
    PoseGuider,
)
from pipelines.portrait.dice.unet import StrictLoadError, install_adapters, load_strict


@dataclass
class DiceModels:
    unet: Any
    pose_guider: PoseGuider
    audio_projection: AudioProjection
    emotion: EmotionModule
    priors: dict[str, torch.Tensor]
    """Emotion name → prior (1, 256)."""


def load_pth(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from ``path`` with ``torch.load(weights_only=True)``, tensors only."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        raise StrictLoadError(f"{path} cannot be read as weights only: {exc}") from exc
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise StrictLoadError(f"{path} is not a state dict of named tensors")
    return dict(state)


class _NumpyOnly(pickle.Unpickler):
    ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name} in an emotion prior")
        return super().find_class(module, name)


def load_prior(path: Path) -> torch.Tensor:
    """An emotion prior: a plain float array, or DICE-Talk's pickled ``{'mu': array}``."""
    with path.open("rb") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            _, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            _, _, dtype = np.lib.format.read_array_header_2_0(fh)
        if dtype.hasobject:
            try:
                value = _NumpyOnly(io.BytesIO(fh.read())).load()
            except (pickle.UnpicklingError, AttributeError, EOFError) as exc:
                raise StrictLoadError(f"{path}: {exc}") from exc
            value = value.item() if isinstance(value, np.ndarray) else value
            value = value.get("mu") if isinstance(value, dict) else None
        else:
            fh.seek(0)
            value = np.load(fh, allow_pickle=False)
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f" or value.size == 0:
        raise StrictLoadError(f"{path} holds no float array (expected DICE-Talk's {{'mu': …}})")
    return torch.from_numpy(np.asarray(value, dtype=np.float32).reshape(1, -1))


def _svd_unet_state(unet_dir: Path, fp16: bool) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    names = ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"]
    for name in reversed(names) if fp16 else names:
        if (unet_dir / name).is_file():
            return load_file(str(unet_dir / name))
    raise LayoutError(f"{unet_dir} has neither {' nor '.join(names)}")


def load_unet(layout: DiceLayout, fp16: bool = False) -> Any:
    """SVD's UNet from its own folder, DICE's processors added, ``unet.pth`` laid over it.

    ``unet.pth`` may hold the whole UNet or only what DICE-Talk trained; together with SVD's
    weights it must cover every key, and it may hold no key the model lacks.
    """
    from diffusers import UNetSpatioTemporalConditionModel

    config = json.loads((layout.svd / "unet" / "config.json").read_text(encoding="utf-8"))
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    unet = UNetSpatioTemporalConditionModel(**config)
    install_adapters(unet)
    base = _svd_unet_state(layout.svd / "unet", fp16)
    dice = load_pth(layout.dice / "unet.pth")
    own = set(unet.state_dict())
    problems = []
    for what, state in ((f"{layout.svd}/unet", base), (str(layout.dice / "unet.pth"), dice)):
        extra = sorted(set(state) - own)
        if extra:
            problems.append(f"{what}: {len(extra)} unexpected: {', '.join(extra[:8])}")
    missing = sorted(own - set(base) - set(dice))
    if missing:
        problems.append(f"{len(missing)} missing from both: {', '.join(missing[:8])}")
    if problems:
        raise StrictLoadError("DICE-Talk UNet does not match: " + "; ".join(problems))
    load_strict(unet, {**base, **dice}, f"{layout.svd}/unet + {layout.dice / 'unet.pth'}")
    return unet.to(torch.float16 if fp16 else torch.float32).eval()


def _load(build: Any, state: Mapping[str, torch.Tensor], path: Path) -> Any:
    """``build.from_state(state)`` loaded strictly; sizes are read off the tensors."""
    try:
        module: nn.Module = build.from_state(state)
    except (KeyError, IndexError) as exc:
        raise StrictLoadError(f"{path} does not match the model; missing: {exc}") from exc
    load_strict(module, state, str(path))
    return module.eval()


def load_models(root: Path, fp16: bool = False) -> DiceModels:
    """Every DICE-Talk part the sampler needs, from ``root`` (see the module docstring)."""
    layout = find_layout(root)
    dtype = torch.float16 if fp16 else torch.float32
    pose_path, audio_path, emo_path = (
        layout.dice / f for f in ("pose_guider.pth", "audio_linear.pth", "emo_model.pth")
    )
    pose = load_pth(pose_path)
    audio = load_pth(audio_path)
    emo = {k: v for k, v in load_pth(emo_path).items() if not k.startswith(EMOTION_IGNORED)}
    pose_guider = _load(PoseGuider, pose, pose_path)
    audio_projection = _load(AudioProjection, audio, audio_path)
    emotion = _load(EmotionModule, emo, emo_path)
    priors = {e: load_prior(layout.priors / f"{e}.npy") for e in PRIORS}
    return DiceModels(
        unet=load_unet(layout, fp16),
        pose_guider=pose_guider.to(dtype),
        audio_projection=audio_projection.to(dtype),
        emotion=emotion.to(dtype),
        priors=priors,
    )
