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


class _Rows:
    """One UNet call's guidance rows for a clip: which conditions each row has, and the scales."""

    def __init__(
        self,
        clip: ClipInputs,
        reference_scale: float,
        audio_scale: float,
        emotion_scale: float | None,
    ) -> None:
        self.clip = clip
        ref = clip.reference_latents
        self.device, self.dtype = ref.device, ref.dtype
        self.scales = [reference_scale, audio_scale]
        split = emotion_scale is not None
        if emotion_scale is not None:
            self.scales.append(emotion_scale)
        # rows: (image on?, audio on?, emotion on?)
        self.rows = [(False, False, False), (True, False, False)]
        self.rows += [(True, True, False)] * split + [(True, True, True)]
        self.embeds = torch.stack([clip.image_embeds * img for img, _, _ in self.rows])
        n = len(self.rows)
        self.tids = clip.added_time_ids.reshape(1, -1).expand(n, -1).to(self.device, self.dtype)

    def _tokens(
        self, on: torch.Tensor, off: torch.Tensor, index: Any, flags: list[bool]
    ) -> torch.Tensor:
        return torch.cat([(on if f else off)[index] for f in flags]).to(self.device, self.dtype)

    def step(
        self, unet: Any, schedule: EulerSchedule, step: int, latents: torch.Tensor, index: Any
    ) -> torch.Tensor:
        """The frames ``index`` (a slice or a list) of the clip, whose current latents are
        ``latents`` (CPU, float32), one Euler step further (CPU, float32)."""
        from pipelines.portrait.dice.unet import DiceConditioning, dice_forward

        clip, rows = self.clip, self.rows
        length = int(latents.shape[0])
        x = schedule.model_input(latents, step).to(self.device, self.dtype)
        ref = clip.reference_latents.expand(length, -1, -1, -1)
        sample = torch.stack([torch.cat([x, ref * img], dim=1) for img, _, _ in rows])
        cond = DiceConditioning(
            streams=[
                self._tokens(clip.audio, clip.uncond_audio, index, [a for _, a, _ in rows]),
                self._tokens(clip.emotion, clip.uncond_emotion, index, [e for _, _, e in rows]),
            ],
            num_frames=length,
            mask=clip.mask,
            spatial=clip.spatial[index]
            .to(self.device, self.dtype)
            .unsqueeze(0)
            .expand(len(rows), -1, -1, -1, -1),
        )
        with torch.no_grad():
            v = dice_forward(unet, sample, schedule.timestep(step), self.embeds, self.tids, cond)
        v = guided(list(v.float()), self.scales).cpu()
        return schedule.step(latents, v, step)


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
    from pipelines.portrait.dice.windows import blend_weights, window_starts

    frames = clip.frames
    ref = clip.reference_latents
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
    rows = _Rows(clip, reference_scale, audio_scale, emotion_scale)
    for step in range(schedule.steps):
        blended = torch.zeros_like(latents)
        for w, (start, ws) in enumerate(zip(starts, weights, strict=True)):
            span = slice(start, start + length)
            stepped = rows.step(unet, schedule, step, latents[span], span)
            blended[span] += stepped * torch.tensor(ws, dtype=stepped.dtype).view(-1, 1, 1, 1)
            if on_window is not None:
                on_window(step, w)
        latents = blended
    return latents


def shifted_windows(frames: int, window: int, overlap: int, shift: int) -> list[list[int]]:
    """DICE-Talk's windows over ``frames`` (its clip plus one window of padding): starts every
    ``window - overlap`` frames, moved back by ``shift``, wrapping around the end."""
    return [
        [(start - shift + k) % frames for k in range(window)]
        for start in range(0, frames, window - overlap)
    ]


def sample_latents_shifted(
    unet: Any,
    clip: ClipInputs,
    schedule: EulerSchedule,
    *,
    window: int,
    overlap: int,
    shift_offset: int,
    reference_scale: float,
    audio_scale: float,
    emotion_scale: float | None = None,
    init_latents: torch.Tensor,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    on_window: Any = None,
) -> torch.Tensor:
    """DICE-Talk's own window scheme (its pipeline's, for parity with its outputs): the clip is
    padded with one window of frames that hear silence and no emotion; each step covers the
    padded clip with windows moved back by a shift that grows by ``shift_offset`` per step,
    wrapping around, and averages frames covered twice. It starts from ``init_latents`` (the
    photo's scaled VAE latents) noised to the first level. ``noise`` (frames + window, channels,
    h, w), if given, replaces the generator's. Returns the clip's (frames, channels, h, w)."""
    frames = clip.frames
    total = frames + window
    pad = total - frames

    def padded(values: torch.Tensor, filler: torch.Tensor) -> torch.Tensor:
        return torch.cat([values, filler[:1].expand(pad, *filler.shape[1:])])

    full = ClipInputs(
        reference_latents=clip.reference_latents,
        image_embeds=clip.image_embeds,
        audio=padded(clip.audio, clip.uncond_audio),
        uncond_audio=padded(clip.uncond_audio, clip.uncond_audio),
        emotion=padded(clip.emotion, clip.uncond_emotion),
        uncond_emotion=padded(clip.uncond_emotion, clip.uncond_emotion),
        spatial=padded(clip.spatial, clip.spatial[-1:]),
        mask=clip.mask,
        added_time_ids=clip.added_time_ids,
    )
    ref = clip.reference_latents
    if noise is None:
        shape = (total, unet.config.out_channels, *ref.shape[-2:])
        noise = torch.randn(shape, generator=generator, dtype=torch.float32)
    latents = init_latents.float().cpu() + noise.float() * schedule.sigmas[0]
    rows = _Rows(full, reference_scale, audio_scale, emotion_scale)
    shift = 0
    for step in range(schedule.steps):
        summed = torch.zeros_like(latents)
        counts = torch.zeros(total)
        for w, index in enumerate(shifted_windows(total, window, overlap, shift)):
            stepped = rows.step(unet, schedule, step, latents[index], index)
            at = torch.tensor(index)
            summed.index_add_(0, at, stepped)
            counts.index_add_(0, at, torch.ones(len(index)))
            if on_window is not None:
                on_window(step, w)
        latents = summed / counts.view(-1, 1, 1, 1)
        shift = (shift + shift_offset) % window
    return latents[:frames]


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
