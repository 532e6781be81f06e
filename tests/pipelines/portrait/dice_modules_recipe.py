"""Weights and inputs for the DICE-Talk module parity check, from a recipe instead of a file:
every tensor of a state dict is drawn from a generator seeded by the CRC-32 of its name (so any
implementation with the same weight names gets the same weights, whatever else it holds), and
the inputs from fixed seeds. ``dice_modules_ref.pt`` holds what DICE-Talk's own code computed
from them (made once with a local copy of its repository; see ``test_dice_modules.py``).
Importable inside the ``dice`` env (torch, no test dependencies)."""

from __future__ import annotations

import zlib
from typing import Any


def fill(module: Any) -> None:
    """Overwrite every parameter and buffer of ``module`` from the name-keyed recipe."""
    import torch

    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
            value = torch.randn(tensor.shape, generator=g, dtype=torch.float64)
            if name.endswith("norm.weight"):
                value = 1.0 + 0.1 * value
            elif tensor.ndim >= 2:
                value = value / (tensor[0].numel() ** 0.5)  # 1 / sqrt(fan in)
            else:
                value = 0.1 * value
            tensor.copy_(value.to(tensor.dtype))


def inputs() -> dict[str, Any]:
    """A Whisper-like window batch (2 clips × 3 frames × 10 steps × 5 layers × 8), a face-mask
    clip (1 × 3 channels × 2 frames × 64²) and one 256-d prior."""
    import torch

    g = torch.Generator().manual_seed(16)
    mask = torch.zeros(1, 3, 2, 64, 64)
    mask[..., 12:52, 16:48] = 1.0
    return {
        "audio": torch.randn(2, 3, 10, 5, 8, generator=g),
        "pose": mask + 0.05 * torch.randn(1, 3, 2, 64, 64, generator=g),
        "prior": torch.randn(256, generator=g),
    }
