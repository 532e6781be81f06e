"""The DICE-Talk sampler's arithmetic, written by us: SVD's Euler steps and guidance.

Runs only inside the ``dice`` environment (torch). SVD is trained with v-prediction on Karras
noise levels (``sigma_min`` 0.002, ``sigma_max`` 700, rho 7); the UNet sees the continuous
timestep ``0.25 · ln σ`` and an input scaled by ``1 / sqrt(σ² + 1)``. :func:`guided` combines
the rows of one UNet call: DICE-Talk's three rows (uncond / reference / reference + audio +
emotion) tie the audio and emotion scales; a fourth row (reference + audio) separates them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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


@dataclass
class ClipInputs:
    """Everything the sampler needs for one clip of ``frames`` frames (one face, one voice).

    Per-frame tensors have the clip's frames first. Unconditional tokens are what the audio
    projection / emotion module make of silence / a zero prior.
    """

    reference_latents: torch.Tensor
    """(channels, h, w): the photo's VAE latents, concatenated to every frame's noisy latents."""
    image_embeds: torch.Tensor
    """(n, D): the photo's CLIP image embedding (zeros for the unconditional row)."""
    audio: torch.Tensor
    uncond_audio: torch.Tensor
    emotion: torch.Tensor
    uncond_emotion: torch.Tensor
    """(frames, tokens, D) each."""
    spatial: torch.Tensor
    """(frames, conv_in channels, h, w): the pose guider's map."""
    mask: torch.Tensor | None
    added_time_ids: torch.Tensor
    """(3,): fps, motion bucket, noise augmentation."""

    @property
    def frames(self) -> int:
        return int(self.audio.shape[0])


def sample_latents(
    unet: Any,
    clip: ClipInputs,
    schedule: EulerSchedule,
    *,
    window: int,
    overlap: int,
    reference_scale: float,
    audio_scale: float,
    emotion_scale: float | None = None,
    generator: torch.Generator | None = None,
    on_window: Any = None,
) -> torch.Tensor:
    """Denoise the whole clip: per step, every window's rows in one UNet call, guided, stepped
    and cross-faded into the clip. ``emotion_scale=None`` ties it to ``audio_scale`` (DICE-Talk's
    3 rows); otherwise a 4th row separates them. ``on_window(step, window_index)`` is called
    after each window (progress; raise there to cancel). Returns (frames, channels, h, w) in
    float32 on the CPU. Per-frame inputs may stay on the CPU (each window is moved to the device
    of ``clip.reference_latents``, where the UNet is); the guidance arithmetic runs in float32.
    """
    from pipelines.portrait.dice.unet import DiceConditioning, dice_forward
    from pipelines.portrait.dice.windows import blend_weights, window_starts

    frames = clip.frames
    ref = clip.reference_latents
    device, dtype = ref.device, ref.dtype
    # the clip's latents stay on the CPU in float32; each window goes to the UNet's device, so
    # device memory does not grow with the clip's length
    noise = torch.randn(
        (frames, unet.config.out_channels, *ref.shape[-2:]),
        generator=generator,
        dtype=torch.float32,
    )
    latents = schedule.initial_noise(noise)
    starts = window_starts(frames, window, overlap)
    weights = blend_weights(frames, window, overlap)
    length = min(window, frames)
    split = emotion_scale is not None
    scales = [reference_scale, audio_scale]
    if emotion_scale is not None:
        scales.append(emotion_scale)
    # rows: (image on?, audio on?, emotion on?)
    rows = [(False, False, False), (True, False, False)]
    rows += [(True, True, False)] * split + [(True, True, True)]
    embeds = torch.stack([clip.image_embeds * img for img, _, _ in rows])
    tids = clip.added_time_ids.reshape(1, -1).expand(len(rows), -1).to(device, dtype)

    def tokens(on: torch.Tensor, off: torch.Tensor, span: slice, flags: list[bool]) -> torch.Tensor:
        return torch.cat([(on if f else off)[span] for f in flags]).to(device, dtype)

    for step in range(schedule.steps):
        blended = torch.zeros_like(latents)
        for w, (start, ws) in enumerate(zip(starts, weights, strict=True)):
            span = slice(start, start + length)
            x = schedule.model_input(latents[span], step).to(device, dtype)
            sample = torch.stack(
                [torch.cat([x, ref.expand(length, -1, -1, -1) * img], dim=1) for img, _, _ in rows]
            )
            cond = DiceConditioning(
                streams=[
                    tokens(clip.audio, clip.uncond_audio, span, [a for _, a, _ in rows]),
                    tokens(clip.emotion, clip.uncond_emotion, span, [e for _, _, e in rows]),
                ],
                num_frames=length,
                mask=clip.mask,
                spatial=clip.spatial[span]
                .to(device, dtype)
                .unsqueeze(0)
                .expand(len(rows), -1, -1, -1, -1),
            )
            with torch.no_grad():
                v = dice_forward(unet, sample, schedule.timestep(step), embeds, tids, cond)
            v = guided(list(v.float()), scales).cpu()
            stepped = schedule.step(latents[span], v, step)
            blended[span] += stepped * torch.tensor(ws, dtype=stepped.dtype).view(-1, 1, 1, 1)
            if on_window is not None:
                on_window(step, w)
        latents = blended
    return latents


def decode_frames(vae: Any, latents: torch.Tensor, chunk: int) -> Iterator[torch.Tensor]:
    """Decode (frames, channels, h, w) latents ``chunk`` frames at a time (the temporal decoder
    sees each chunk as one clip, as SVD's pipeline decodes) and yield uint8 frames
    (n, H, W, 3) as they come, so the caller can write them and let them go.
    """
    if chunk < 1:
        raise ValueError("chunk must be at least 1 frame")
    scale = 1.0 / vae.config.scaling_factor
    param = next(vae.parameters())
    for start in range(0, latents.shape[0], chunk):
        z = latents[start : start + chunk].to(param.device, param.dtype) * scale
        with torch.no_grad():
            pixels = vae.decode(z, num_frames=z.shape[0]).sample
        if not bool(torch.isfinite(pixels).all()):
            raise FloatingPointError(f"the VAE decoded non-finite pixels in frames {start}+")
        pixels = ((pixels.float() / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
        yield pixels.permute(0, 2, 3, 1).contiguous().cpu()
