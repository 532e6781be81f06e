"""The isolated environment that runs the DICE-Talk port: torch, diffusers, transformers.

Built by ``python launch.py backends install dice`` (see :mod:`pipelines.envs`). Imports nothing
heavy: the main environment reads it to know the pins and where the env lives.
"""

from __future__ import annotations

from pipelines.envs import TORCH, EnvSpec

DEPENDENCIES: tuple[str, ...] = (
    TORCH,
    "diffusers==0.42.1",
    "transformers==5.23.0",
    "safetensors==0.8.0",
    "numpy>=1.26,<3",
)
"""One pip call: torch pinned beside the rest, so nothing can swap in another torch."""

SPEC = EnvSpec(
    name="dice",
    label="DICE-Talk",
    dependencies=DEPENDENCIES,
    check=(
        "import torch, diffusers, transformers, safetensors; "
        "from diffusers import UNetSpatioTemporalConditionModel; "
        "print(torch.__version__, diffusers.__version__, transformers.__version__)"
    ),
)
