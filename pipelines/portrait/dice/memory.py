"""How much accelerator memory a DICE-Talk clip needs, estimated without the accelerator.

Runs inside the ``dice`` environment. The full-size models (SVD-XT's UNet with our DICE adapters,
SVD's temporal VAE, the ViT-H/14 CLIP image encoder) are built from their configs as *fake*
tensors (``FakeTensorMode``: shapes and dtypes, no storage), and one UNet call over a window and
one chunk of VAE decoding are run under torch's ``MemTracker``, which follows every tensor the
real ops allocate and free. What it does not see: the CUDA caching allocator's fragmentation,
cuDNN/cuBLAS workspaces and the CUDA context (a few hundred MB to ~1 GB together). The CPU
kernels stand in for the CUDA ones; attention runs as fused SDPA on both, so no (tokens × tokens)
matrix is held on either.

:func:`measure` runs the same UNet call and decode chunk for real, with random weights, on a
device (the ``gpu`` test, ``tests/pipelines/portrait/test_dice_gpu.py``): seconds per UNet call
and the allocator's peak, to hold the estimate against.

``python -m pipelines.portrait.dice.memory estimate|measure '{"size": 512, "frames": 25}'``
prints one ``REPORT {json}`` line; memory is in bytes.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

#: SVD-XT's VAE (``vae/config.json`` of stable-video-diffusion-img2vid-xt).
SVD_VAE = {
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "latent_channels": 4,
    "sample_size": 768,
}
#: SVD-XT's image encoder (OpenCLIP ViT-H/14 vision tower with its projection).
SVD_CLIP = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 16,
    "patch_size": 14,
    "image_size": 224,
    "projection_dim": 1024,
}
_TINY_VAE = {"down_block_types": ["DownEncoderBlock2D"] * 4, "block_out_channels": [32] * 4}
_TINY_CLIP = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "patch_size": 14,
    "image_size": 224,
    "projection_dim": 32,
}
IP_TOKENS = 32
"""Tokens per frame and stream at the UNet's IP attention (audio and emotion alike)."""


def _peak(run: Callable[[], Any], *modules: torch.nn.Module) -> int:
    """Peak bytes beyond ``modules``' parameters while ``run()`` runs (fake tensors)."""
    from torch.distributed._tools.mem_tracker import MemTracker

    tracker = MemTracker()
    for module in modules:
        tracker.track_external(module)
    with torch.inference_mode(), tracker:
        run()
    peak = next(iter(tracker.get_tracker_snapshot("peak").values()))
    return int(sum(v for k, v in peak.items() if "PARAM" not in str(k) and k != "Total"))


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in module.parameters())


@dataclass
class _Clip:
    """The full-size models and the inputs of one UNet call and one decode chunk."""

    unet: Any
    vae: Any
    clip: Any
    call_unet: Callable[[], torch.Tensor]
    call_decode: Callable[[], torch.Tensor]

    def weights(self) -> dict[str, int]:
        return {"unet": _params(self.unet), "vae": _params(self.vae), "clip": _params(self.clip)}


@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def _build(
    size: int, frames: int, rows: int, decode_chunk: int, config: dict[str, Any], full: bool
) -> _Clip:
    """Random models and inputs in the current default dtype and device; ``config`` overrides
    the UNet's (SVD-XT's by default); ``full`` = SVD-XT's VAE and CLIP, else tiny ones."""
    from diffusers import AutoencoderKLTemporalDecoder, UNetSpatioTemporalConditionModel
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from pipelines.portrait.dice.unet import DiceConditioning, dice_forward, install_adapters

    unet = UNetSpatioTemporalConditionModel(**config).eval()
    install_adapters(unet)
    vae_config = SVD_VAE if full else _TINY_VAE
    vae = AutoencoderKLTemporalDecoder(**vae_config).eval()
    clip_config = SVD_CLIP if full else _TINY_CLIP
    clip = CLIPVisionModelWithProjection(CLIPVisionConfig(**clip_config)).eval()
    c, lat = unet.config, size // 8

    def rnd(*shape: int) -> torch.Tensor:
        return torch.randn(*shape)

    cond = DiceConditioning(
        streams=[rnd(rows * frames, IP_TOKENS, c.cross_attention_dim) for _ in range(2)],
        num_frames=frames,
        mask=rnd(1, 1, size, size),
        spatial=rnd(rows, frames, c.block_out_channels[0], lat, lat),
    )
    sample = rnd(rows, frames, c.in_channels, lat, lat)
    image = rnd(rows, 1, c.cross_attention_dim)
    tids = torch.tensor([[6.0, 127.0, 0.02]] * rows)
    latents = rnd(decode_chunk, 4, lat, lat)
    return _Clip(
        unet,
        vae,
        clip,
        lambda: dice_forward(unet, sample, 1.5, image, tids, cond),
        lambda: vae.decode(latents, num_frames=decode_chunk).sample,
    )


def estimate(
    size: int = 512,
    frames: int = 25,
    rows: int = 3,
    decode_chunk: int = 10,
    fp16: bool = True,
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Weights and working memory of one clip at ``size``² with ``frames``-frame windows and
    ``rows`` guidance rows (3 when the audio and emotion scales are equal, else 4)."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    dtype = torch.float16 if fp16 else torch.float32
    # (in the default dtype from the start: fake parameters cannot be converted after the fact)
    with _default_dtype(dtype), FakeTensorMode(allow_non_fake_inputs=True):
        m = _build(size, frames, rows, decode_chunk, config or {}, full=not config)
        unet_work = _peak(m.call_unet, m.unet)
        decode_work = _peak(m.call_decode, m.vae)
        weights = m.weights()
    return {
        "size": size,
        "frames": frames,
        "rows": rows,
        "decode_chunk": decode_chunk,
        "dtype": str(dtype).removeprefix("torch."),
        "weights": weights,
        "unet_call": unet_work,
        "decode_chunk_work": decode_work,
        "total": sum(weights.values()) + max(unet_work, decode_work),
    }


def measure(
    size: int = 512,
    frames: int = 25,
    rows: int = 3,
    decode_chunk: int = 10,
    fp16: bool = True,
    config: dict[str, Any] | None = None,
    device: str = "cuda",
    calls: int = 3,
) -> dict[str, Any]:
    """The same models with random weights, run for real on ``device``: seconds per UNet call
    (after a warm-up) and, on CUDA, the allocator's peak over the calls and one decode chunk."""
    if device == "cuda" and not torch.cuda.is_available():
        return {"skip": f"no CUDA device (torch {torch.__version__})"}
    dev = torch.device(device)
    dtype = torch.float16 if fp16 else torch.float32
    cuda = dev.type == "cuda"
    torch.manual_seed(0)
    with _default_dtype(dtype), dev, torch.inference_mode():
        m = _build(size, frames, rows, decode_chunk, config or {}, full=not config)
        weights = m.weights()
        out = m.call_unet()  # warm-up
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        for _ in range(calls):
            out = m.call_unet()
        if cuda:
            torch.cuda.synchronize()
        step = (time.perf_counter() - t0) / calls
        pixels = m.call_decode()
        if cuda:
            torch.cuda.synchronize()
    return {
        "size": size,
        "frames": frames,
        "rows": rows,
        "device": torch.cuda.get_device_name() if cuda else device,
        "weights": weights,
        "step_s": step,
        "peak_bytes": torch.cuda.max_memory_allocated() if cuda else None,
        "shape": list(out.shape),
        "finite": bool(torch.isfinite(out).all() and torch.isfinite(pixels).all()),
    }


if __name__ == "__main__":
    what = {"estimate": estimate, "measure": measure}[sys.argv[1]]
    print("REPORT " + json.dumps(what(**json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}"))))
