"""Everything DICE-Talk's sampler conditions on, computed from the photo, the speech and the
emotion with the user's weights: Whisper-tiny features, CLIP image embedding, VAE latents of the
photo, the face mask and the pose guider's map, the audio and emotion tokens.

Runs only inside the ``dice`` environment. All models come from the layout's folders
(:mod:`.layout`) with ``local_files_only``: nothing is fetched. Conventions follow DICE-Talk's
inference (read to learn, not copied): 16 kHz audio in 30 s chunks through Whisper's encoder, all
its hidden states stacked (embedding + every layer: 5 × 384 for Whisper-tiny); the photo in
[-1, 1] encoded by SVD's VAE (the distribution's mode, unscaled, as SVD concatenates it); CLIP
sees the photo resized to 224 × 224 (Lanczos) and normalised with the feature extractor's mean
and std; the face mask is the face box grown 1.1× in area-side, white on black, at full size.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipelines.portrait.dice.layout import find_full_layout
from pipelines.portrait.dice.plan import AUDIO_WINDOW
from pipelines.portrait.dice.weights import DiceModels, load_models

SAMPLE_RATE = 16000
CHUNK_SECONDS = 30
STEP_SAMPLES = 320
"""Audio samples per Whisper encoder step (20 ms at 16 kHz)."""
MASK_AREA = 1.1
"""The face box is grown by this factor in width and height for the face mask (DICE-Talk's)."""
CLIP_SIZE = 224
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
TOKEN_BATCH = 64
"""Generated frames per audio-projection call."""


@dataclass
class DiceStack:
    """Every model the DICE-Talk sampler needs, on one device."""

    models: DiceModels
    vae: Any
    image_encoder: Any
    clip_mean: tuple[float, ...]
    clip_std: tuple[float, ...]
    whisper: Any
    """Whisper's encoder."""
    feature_extractor: Any
    scheduler_config: dict[str, Any]
    device: torch.device
    dtype: torch.dtype
    root: Path

    def parameters(self) -> int:
        parts = [self.models.unet, self.models.pose_guider, self.models.audio_projection]
        parts += [self.models.emotion, self.vae, self.image_encoder, self.whisper]
        return sum(p.numel() for m in parts for p in m.parameters())


def _variant(folder: Path, stem: str, fp16: bool) -> str | None:
    """``"fp16"`` when that variant should be read (asked for and present, or the only one)."""
    plain = (folder / f"{stem}.safetensors").is_file() or (folder / f"{stem}.bin").is_file()
    half = (folder / f"{stem}.fp16.safetensors").is_file() or (
        folder / f"{stem}.fp16.bin"
    ).is_file()
    return "fp16" if half and (fp16 or not plain) else None


def load_stack(root: Path, device: str = "cpu", fp16: bool = False) -> DiceStack:
    """Load the whole stack from a folder in DICE-Talk's layout onto ``device``."""
    from diffusers import AutoencoderKLTemporalDecoder
    from transformers import CLIPVisionModelWithProjection, WhisperFeatureExtractor, WhisperModel

    layout = find_full_layout(Path(root))
    dev = torch.device(device)
    dtype = torch.float16 if fp16 else torch.float32
    models = load_models(layout.root, fp16)
    vae_dir, enc_dir = layout.svd / "vae", layout.svd / "image_encoder"
    vae = AutoencoderKLTemporalDecoder.from_pretrained(
        str(vae_dir),
        variant=_variant(vae_dir, "diffusion_pytorch_model", fp16),
        local_files_only=True,
    )
    vae_dtype = torch.float32 if vae.config.force_upcast else dtype  # SVD's VAE: float32
    image_encoder = CLIPVisionModelWithProjection.from_pretrained(
        str(enc_dir), variant=_variant(enc_dir, "model", fp16), local_files_only=True
    )
    whisper = WhisperModel.from_pretrained(str(layout.whisper), local_files_only=True).encoder
    feature_extractor = WhisperFeatureExtractor.from_pretrained(
        str(layout.whisper), local_files_only=True
    )
    if feature_extractor.sampling_rate != SAMPLE_RATE:
        raise ValueError(f"{layout.whisper}: expected a {SAMPLE_RATE} Hz feature extractor")
    pre = layout.svd / "feature_extractor" / "preprocessor_config.json"
    pre_config = json.loads(pre.read_text(encoding="utf-8")) if pre.is_file() else {}
    scheduler = layout.svd / "scheduler" / "scheduler_config.json"
    models.unet.to(dev)
    for module in (models.pose_guider, models.audio_projection, models.emotion):
        module.to(dev)
    return DiceStack(
        models=models,
        vae=vae.to(dev, vae_dtype).eval(),
        image_encoder=image_encoder.to(dev, dtype).eval(),
        clip_mean=tuple(pre_config.get("image_mean", CLIP_MEAN)),
        clip_std=tuple(pre_config.get("image_std", CLIP_STD)),
        whisper=whisper.to(dev, torch.float32).eval(),
        feature_extractor=feature_extractor,
        scheduler_config=json.loads(scheduler.read_text(encoding="utf-8")),
        device=dev,
        dtype=dtype,
        root=layout.root,
    )


@torch.no_grad()
def whisper_features(stack: DiceStack, samples: np.ndarray) -> torch.Tensor:
    """(steps, layers + 1, width) on the CPU: one step per 20 ms of 16 kHz ``samples``."""
    chunk = CHUNK_SECONDS * SAMPLE_RATE
    parts = []
    for start in range(0, max(1, len(samples)), chunk):
        piece = np.asarray(samples[start : start + chunk], dtype=np.float32)
        mel = stack.feature_extractor(
            piece, sampling_rate=SAMPLE_RATE, return_tensors="pt"
        ).input_features
        out = stack.whisper(mel.to(stack.device), output_hidden_states=True)
        hidden = torch.stack(out.hidden_states, dim=2)[0]  # (1500, layers + 1, width)
        parts.append(hidden[: -(-len(piece) // STEP_SAMPLES)].float().cpu())
    return torch.cat(parts)


@torch.no_grad()
def audio_tokens(
    stack: DiceStack, features: torch.Tensor, starts: list[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per generated frame, the audio projection of its 10-step window (zeros outside the
    audio): (frames, tokens, width) on the CPU, and the projection of silence (1, tokens,
    width) for the unconditional rows."""
    proj = stack.models.audio_projection
    pad_front = max(0, -min(starts))
    pad_back = max(0, max(starts) + AUDIO_WINDOW - features.shape[0])
    padded = torch.cat(
        [
            features.new_zeros(pad_front, *features.shape[1:]),
            features,
            features.new_zeros(pad_back, *features.shape[1:]),
        ]
    )
    index = torch.tensor(starts).view(-1, 1) + pad_front + torch.arange(AUDIO_WINDOW).view(1, -1)
    out = []
    for i in range(0, len(starts), TOKEN_BATCH):
        windows = padded[index[i : i + TOKEN_BATCH]]  # (n, 10, layers + 1, width)
        tokens = proj(windows.unsqueeze(0).to(stack.device, stack.dtype))[0]
        out.append(tokens.cpu())
    silence = features.new_zeros(1, 1, AUDIO_WINDOW, *features.shape[1:])
    uncond = proj(silence.to(stack.device, stack.dtype))[0].cpu()
    return torch.cat(out), uncond


@torch.no_grad()
def emotion_tokens(stack: DiceStack, weights: Mapping[str, float]) -> tuple[torch.Tensor, ...]:
    """The mixed prior's tokens (1, tokens, width) and a zero prior's, on the CPU."""
    priors = stack.models.priors
    unknown = sorted(set(weights) - set(priors))
    if unknown or not weights:
        raise ValueError(f"unknown emotion priors {unknown}; known: {', '.join(priors)}")
    total = sum(weights.values())
    prior = sum(priors[k] * (w / total) for k, w in weights.items())
    assert isinstance(prior, torch.Tensor)
    module = stack.models.emotion
    x = prior.reshape(1, 1, 1, -1).to(stack.device, stack.dtype)
    return module(x)[0].cpu(), module(torch.zeros_like(x))[0].cpu()


def face_mask(height: int, width: int, box: tuple[float, float, float, float]) -> torch.Tensor:
    """(1, 3, H, W) in {0, 1}: the face box grown by :data:`MASK_AREA`, clipped to the frame."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hw, hh = (x1 - x0) * MASK_AREA / 2, (y1 - y0) * MASK_AREA / 2
    mask = torch.zeros(1, 3, height, width)
    top, bottom = max(0, int(cy - hh)), min(height, int(cy + hh))
    left, right = max(0, int(cx - hw)), min(width, int(cx + hw))
    mask[..., top:bottom, left:right] = 1.0
    return mask


@torch.no_grad()
def image_inputs(
    stack: DiceStack, frame: np.ndarray, box: tuple[float, float, float, float]
) -> dict[str, torch.Tensor]:
    """From the photo at model size (H, W multiples of 64, RGB uint8): ``latents`` (4, h, w),
    ``embeds`` (1, D), ``mask`` (1, 1, H, W) and the pose guider's ``spatial`` map
    (1, conv_in channels, h, w), all on the stack's device."""
    from PIL import Image

    h, w = frame.shape[:2]
    if h % 64 or w % 64:
        raise ValueError(f"the model's frame must have sides that are multiples of 64, got {w}×{h}")
    pixels = torch.from_numpy(np.array(frame, dtype=np.uint8)).permute(2, 0, 1)[None].float()
    pixels = (pixels / 127.5 - 1.0).to(stack.device, next(stack.vae.parameters()).dtype)
    latents = stack.vae.encode(pixels).latent_dist.mode()[0]
    small = Image.fromarray(frame).resize((CLIP_SIZE, CLIP_SIZE), Image.Resampling.LANCZOS)
    clip = torch.from_numpy(np.asarray(small, dtype=np.float32) / 255.0).permute(2, 0, 1)
    mean = torch.tensor(stack.clip_mean).view(3, 1, 1)
    std = torch.tensor(stack.clip_std).view(3, 1, 1)
    clip = ((clip - mean) / std)[None].to(stack.device, stack.dtype)
    embeds = stack.image_encoder(pixel_values=clip).image_embeds  # (1, D)
    mask = face_mask(h, w, box)
    guide = mask.unsqueeze(2).to(stack.device, stack.dtype)  # (1, 3, 1, H, W)
    spatial = stack.models.pose_guider(guide)[0]  # (1, channels, h, w)
    return {
        "latents": latents.to(stack.dtype),
        "embeds": embeds.to(stack.dtype),
        "mask": mask[:, :1].to(stack.device, stack.dtype),
        "spatial": spatial,
    }
