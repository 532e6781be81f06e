"""DICE-Talk's UNet on stock diffusers: two IP-adapter streams and the pose-guider map.

Runs only inside the ``dice`` environment (imports torch and diffusers). The model is diffusers'
own ``UNetSpatioTemporalConditionModel``; DICE's additions are installed on it:

- every cross-attention (``attn2``), spatial and temporal, gets a :class:`DiceIPProcessor` with
  one key/value projection pair per stream (0 = audio, 1 = emotion), so the weights are named
  ``…attn2.processor.to_k_ip.0.weight`` as in DICE-Talk's checkpoints. A spatial processor
  attends each frame to that frame's tokens, weighted by the face mask; a temporal one attends
  to the window's tokens averaged over its frames, with no mask (as DICE-Talk computes it);
- the pose/face-mask guider's map is added to ``conv_in``'s output by a forward hook.

Stock spatio-temporal blocks pass no extra arguments down to the processors, so the per-call
tokens, mask and map travel in a :class:`_Slot` the processors share, filled by
:func:`dice_forward` for the length of one call (one call at a time per model).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from diffusers import UNetSpatioTemporalConditionModel
from diffusers.image_processor import IPAdapterMaskProcessor
from torch import nn

STREAMS = ("audio", "emotion")
"""IP-adapter streams, in checkpoint index order (``to_k_ip.0`` is audio)."""


@dataclass
class DiceConditioning:
    """What one UNet call attends to beyond the image embedding."""

    streams: Sequence[torch.Tensor]
    """Per stream (audio, emotion): tokens of shape (batch * frames, tokens, width)."""
    num_frames: int
    scales: Sequence[float] = (1.0, 1.0)
    mask: torch.Tensor | None = None
    """Face mask (1, 1, H, W) in [0, 1], weighting the spatial IP attention; None: everywhere."""
    spatial: torch.Tensor | None = None
    """Pose-guider map (batch, frames, conv_in channels, h, w), added after ``conv_in``."""


class _Slot:
    """Holds the conditioning of the call in progress (see the module docstring)."""

    def __init__(self) -> None:
        self.current: DiceConditioning | None = None

    def get(self) -> DiceConditioning:
        if self.current is None:
            raise RuntimeError("DICE UNet called without its conditioning: use dice_forward()")
        return self.current


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    batch, length, width = x.shape
    return x.view(batch, length, heads, width // heads).transpose(1, 2)


def _merge(x: torch.Tensor) -> torch.Tensor:
    batch, heads, length, head_dim = x.shape
    return x.transpose(1, 2).reshape(batch, length, heads * head_dim)


class DiceIPProcessor(nn.Module):
    """Cross-attention to the image embedding plus one extra attention per IP stream."""

    def __init__(
        self, hidden_size: int, cross_dim: int, *, temporal: bool, slot: _Slot, streams: int = 2
    ) -> None:
        super().__init__()
        self.to_k_ip = nn.ModuleList(
            nn.Linear(cross_dim, hidden_size, bias=False) for _ in range(streams)
        )
        self.to_v_ip = nn.ModuleList(
            nn.Linear(cross_dim, hidden_size, bias=False) for _ in range(streams)
        )
        self.temporal = temporal
        self._slot = slot  # a plain object: not a submodule, not in the state dict

    def __call__(
        self,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        **_: Any,
    ) -> torch.Tensor:
        if encoder_hidden_states is None or hidden_states.ndim != 3:
            raise RuntimeError("DiceIPProcessor serves cross-attention on token sequences only")
        cond = self._slot.get()
        residual = hidden_states
        query = attn.to_q(hidden_states)
        if attn.norm_cross:
            encoder_hidden_states = attn.norm_encoder_hidden_states(encoder_hidden_states)
        key = attn.to_k(encoder_hidden_states)
        value = attn.to_v(encoder_hidden_states)
        heads = attn.heads
        q = _heads(query, heads)
        out = _merge(F.scaled_dot_product_attention(q, _heads(key, heads), _heads(value, heads)))
        out = out.to(query.dtype)
        rows, queries, width = out.shape
        for tokens, scale, to_k, to_v in zip(
            cond.streams, cond.scales, self.to_k_ip, self.to_v_ip, strict=True
        ):
            if scale == 0:
                continue
            if self.temporal:
                # (batch * frames, T, D) -> the window's mean per batch row, one per spatial query
                batch = tokens.shape[0] // cond.num_frames
                mean = tokens.reshape(batch, cond.num_frames, *tokens.shape[-2:]).mean(dim=1)
                tokens = mean.repeat_interleave(rows // batch, dim=0)
            ip = F.scaled_dot_product_attention(
                q, _heads(to_k(tokens), heads), _heads(to_v(tokens), heads)
            )
            ip = _merge(ip).to(query.dtype)
            if cond.mask is not None and not self.temporal:
                weight = IPAdapterMaskProcessor.downsample(cond.mask[:, 0], rows, queries, width)
                ip = ip * weight.to(dtype=query.dtype, device=query.device)
            out = out + scale * ip
        out = attn.to_out[1](attn.to_out[0](out))
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


def install_adapters(unet: Any, streams: int = len(STREAMS)) -> _Slot:
    """Give every cross-attention of ``unet`` a :class:`DiceIPProcessor`; add the map hook.

    The IP projections start as copies of the attention's own key/value projections (how
    DICE-Talk initialises them); a checkpoint load replaces them.
    """
    slot = _Slot()
    processors: dict[str, Any] = {}
    for name, module in unet.named_modules():
        if not name.endswith("attn2") or not hasattr(module, "to_k"):
            continue
        extras = ("spatial_norm", "group_norm", "norm_q", "norm_k")
        if any(getattr(module, a, None) is not None for a in extras):
            raise ValueError(f"{name}: DiceIPProcessor does not do {', '.join(extras)}")
        proc = DiceIPProcessor(
            module.to_k.out_features,
            module.to_k.in_features,
            temporal=".temporal_transformer_blocks." in name,
            slot=slot,
            streams=streams,
        )
        with torch.no_grad():
            for k, v in zip(proc.to_k_ip, proc.to_v_ip, strict=True):
                k.weight.copy_(module.to_k.weight)
                v.weight.copy_(module.to_v.weight)
        weight = module.to_k.weight
        if any(p.dtype != weight.dtype or p.device != weight.device for p in proc.parameters()):
            proc = proc.to(weight.device, weight.dtype)  # (fake tensors cannot be converted)
        processors[f"{name}.processor"] = proc
    processors_all = {
        n: processors.get(n, p) for n, p in unet.attn_processors.items()
    }  # attn1 keeps its stock processor
    unet.set_attn_processor(processors_all)

    def add_map(_module: nn.Module, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        cond = slot.get()
        if cond.spatial is None:
            return output
        return output + cond.spatial.flatten(0, 1).to(output.dtype)

    unet.conv_in.register_forward_hook(add_map)
    unet._dice_slot = slot
    return slot


def build_unet(config: Mapping[str, Any]) -> Any:
    """A stock diffusers UNet from ``config`` (diffusers' names) with DICE's additions."""
    unet = UNetSpatioTemporalConditionModel(**dict(config))
    install_adapters(unet)
    return unet


class StrictLoadError(ValueError):
    """A checkpoint's keys or shapes differ from the model's; the message names them."""


def load_strict(model: nn.Module, state: Mapping[str, torch.Tensor], what: str) -> None:
    """Load ``state`` into ``model``; any missing, unexpected or misshapen key is an error."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k} {tuple(state[k].shape)} != {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if tuple(state[k].shape) != tuple(own[k].shape)
    )
    if missing or extra or shapes:
        parts = [f"{what} does not match the model"]
        for label, keys in (("missing", missing), ("unexpected", extra), ("shape", shapes)):
            if keys:
                shown = ", ".join(keys[:8]) + (f" … (+{len(keys) - 8})" if len(keys) > 8 else "")
                parts.append(f"{len(keys)} {label}: {shown}")
        raise StrictLoadError("; ".join(parts))
    model.load_state_dict(dict(state), strict=True)


def dice_forward(
    unet: Any,
    sample: torch.Tensor,
    timestep: float | torch.Tensor,
    image_embeds: torch.Tensor,
    added_time_ids: torch.Tensor,
    cond: DiceConditioning,
) -> torch.Tensor:
    """One UNet call. ``sample`` (batch, frames, channels, h, w); ``image_embeds`` (batch, n, D),
    one per batch row (stock diffusers repeats it per frame); returns (batch, frames, out, h, w).
    """
    slot: _Slot = unet._dice_slot
    if len(cond.streams) != len(cond.scales):
        raise ValueError("one scale per IP stream")
    slot.current = cond
    try:
        out = unet(sample, timestep, image_embeds, added_time_ids, return_dict=False)[0]
    finally:
        slot.current = None
    return out
