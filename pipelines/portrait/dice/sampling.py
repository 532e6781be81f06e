"""The DICE-Talk sampler's arithmetic, written by us: SVD's Euler steps and guidance.

Runs only inside the ``dice`` environment (torch). SVD is trained with v-prediction on Karras
noise levels (``sigma_min`` 0.002, ``sigma_max`` 700, rho 7); the UNet sees the continuous
timestep ``0.25 · ln σ`` and an input scaled by ``1 / sqrt(σ² + 1)``. :func:`guided` combines
the rows of one UNet call: DICE-Talk's three rows (uncond / reference / reference + audio +
emotion) tie the audio and emotion scales; a fourth row (reference + audio) separates them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class EulerSchedule:
    sigmas: torch.Tensor
    """(steps + 1,) float32, descending, ending at 0."""

    @classmethod
    def karras(
        cls, steps: int, sigma_min: float = 0.002, sigma_max: float = 700.0, rho: float = 7.0
    ) -> EulerSchedule:
        ramp = torch.linspace(0, 1, steps, dtype=torch.float64)
        lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
        sigmas = (hi + ramp * (lo - hi)) ** rho
        return cls(torch.cat([sigmas, sigmas.new_zeros(1)]).to(torch.float32))

    @classmethod
    def from_config(cls, config: Mapping[str, Any], steps: int) -> EulerSchedule:
        """From SVD's ``scheduler_config.json``; refuses settings this sampler does not do."""
        wanted = {
            "prediction_type": "v_prediction",
            "use_karras_sigmas": True,
            "timestep_type": "continuous",
        }
        wrong = {k: config.get(k) for k, v in wanted.items() if config.get(k) != v}
        if wrong:
            raise ValueError(f"unsupported scheduler settings {wrong}; expected {wanted}")
        return cls.karras(steps, float(config["sigma_min"]), float(config["sigma_max"]))

    @property
    def steps(self) -> int:
        return int(self.sigmas.shape[0]) - 1

    def timestep(self, i: int) -> torch.Tensor:
        return 0.25 * self.sigmas[i].log()

    def model_input(self, sample: torch.Tensor, i: int) -> torch.Tensor:
        return sample / (self.sigmas[i] ** 2 + 1) ** 0.5

    def step(self, sample: torch.Tensor, v: torch.Tensor, i: int) -> torch.Tensor:
        """One Euler step from noise level ``i`` to ``i + 1`` given the model's v-prediction."""
        sigma, nxt = self.sigmas[i], self.sigmas[i + 1]
        x = sample.to(torch.float32)
        denoised = v * (-sigma / (sigma**2 + 1) ** 0.5) + x / (sigma**2 + 1)
        return (x + (x - denoised) / sigma * (nxt - sigma)).to(v.dtype)

    def initial_noise(self, noise: torch.Tensor) -> torch.Tensor:
        """Unit noise scaled to the first level (as SVD's sampler starts)."""
        return noise * (self.sigmas[0] ** 2 + 1) ** 0.5


def guided(rows: Sequence[torch.Tensor], scales: Sequence[float]) -> torch.Tensor:
    """``rows[0] + Σ scales[i-1] · (rows[i] − rows[i-1])``: each row adds one condition.

    Rows: uncond, reference, [reference + audio,] reference + audio + emotion; scales: one per
    added condition (reference, [audio,] audio+emotion or emotion).
    """
    if len(rows) != len(scales) + 1:
        raise ValueError(f"{len(rows)} rows need {len(rows) - 1} scales, got {len(scales)}")
    out = rows[0]
    for prev, row, scale in zip(rows[:-1], rows[1:], scales, strict=True):
        out = out + scale * (row - prev)
    return out
