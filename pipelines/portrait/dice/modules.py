"""DICE-Talk's small modules, written by us with the weight names of its checkpoints.

Runs only inside the ``dice`` environment. Sizes are read off a checkpoint's tensors (see the
``from_state`` constructors), so a tiny test checkpoint and the real one load the same way.

- :class:`PoseGuider` (``pose_guider.pth``): a per-frame conv stack from the face-mask image to
  a map the size of ``conv_in``'s output, added there (see :mod:`.unet`).
- :class:`AudioProjection` (``audio_linear.pth``): one window of Whisper hidden states
  (10 steps × 5 layers × 384 for Whisper-tiny) → 32 tokens of the UNet's cross-attention width.
- :class:`EmotionModule` (``emo_model.pth``): a 256-d emotion prior → tokens that attend over
  the 64-entry emotion bank. Only the bank-wide path DICE-Talk's inference uses
  (``retrieval=False``) is implemented; the classifier head is training-only (its keys, if a
  file has them, are the only ones ignored, see :data:`EMOTION_IGNORED`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

EMOTION_IGNORED = ("classifier.",)
"""Key prefixes of ``emo_model.pth`` that inference does not use."""


class _FramewiseConv(nn.Conv2d):
    """A 2-D convolution over (batch, channels, frames, h, w), frame by frame."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, f, h, w = x.shape
        y = super().forward(x.transpose(1, 2).reshape(b * f, -1, h, w))
        return y.reshape(b, f, *y.shape[1:]).transpose(1, 2)


class PoseGuider(nn.Module):
    def __init__(
        self, out_channels: int, channels: Sequence[int] = (16, 32, 96, 256), in_channels: int = 3
    ) -> None:
        super().__init__()
        self.conv_in = _FramewiseConv(in_channels, channels[0], kernel_size=3, padding=1)
        layers: list[nn.Module] = []
        for c_in, c_out in pairwise(channels):
            layers.append(_FramewiseConv(c_in, c_in, kernel_size=3, padding=1))
            layers.append(_FramewiseConv(c_in, c_out, kernel_size=3, padding=1, stride=2))
        self.blocks = nn.ModuleList(layers)
        self.conv_out = _FramewiseConv(channels[-1], out_channels, kernel_size=3, padding=1)

    @classmethod
    def from_state(cls, state: Mapping[str, torch.Tensor]) -> PoseGuider:
        n_blocks = len({k.split(".")[1] for k in state if k.startswith("blocks.")})
        channels = [int(state["conv_in.weight"].shape[0])]
        channels += [int(state[f"blocks.{i}.weight"].shape[0]) for i in range(1, n_blocks, 2)]
        return cls(
            int(state["conv_out.weight"].shape[0]),
            channels,
            int(state["conv_in.weight"].shape[1]),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(batch, 3, frames, H, W) → (batch, frames, out_channels, H / 8, W / 8)."""
        x = F.silu(self.conv_in(image))
        for layer in self.blocks:
            x = F.silu(layer(x))
        return self.conv_out(x).transpose(1, 2)


class AudioProjection(nn.Module):
    """Flattened window → two ReLU layers → ``tokens`` × ``width``, layer-normed per token."""

    def __init__(self, in_features: int, hidden: int, tokens: int, width: int) -> None:
        super().__init__()
        self.tokens, self.width = tokens, width
        self.proj1 = nn.Linear(in_features, hidden)
        self.proj2 = nn.Linear(hidden, hidden)
        self.proj3 = nn.Linear(hidden, tokens * width)
        self.norm = nn.LayerNorm(width)

    @classmethod
    def from_state(cls, state: Mapping[str, torch.Tensor], prefix: str = "") -> AudioProjection:
        hidden, in_features = state[f"{prefix}proj1.weight"].shape
        width = int(state[f"{prefix}norm.weight"].shape[0])
        tokens = int(state[f"{prefix}proj3.weight"].shape[0]) // width
        return cls(int(in_features), int(hidden), tokens, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, frames, *window) → (batch, frames, tokens, width)."""
        b, f = x.shape[:2]
        h = torch.relu(self.proj1(x.reshape(b * f, -1)))
        h = torch.relu(self.proj2(h))
        out = self.norm(self.proj3(h).reshape(b * f, self.tokens, self.width))
        return out.reshape(b, f, self.tokens, self.width)


class _EmotionBank(nn.Module):
    def __init__(self, prior_dim: int, width: int, size: int) -> None:
        super().__init__()
        self.fc = nn.Linear(prior_dim, width)  # used by retrieval, kept for strict keys
        self.codebook = nn.Embedding(size, width)


class _TokenAttention(nn.Module):
    """Multi-head attention from query tokens to key/value tokens (no output projection)."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.fc_q = nn.Linear(width, width)
        self.fc_k = nn.Linear(width, width)
        self.fc_v = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        def split(t: torch.Tensor) -> torch.Tensor:  # (b, f, n, c) → (b, f, heads, n, c / heads)
            return t.reshape(*t.shape[:3], self.heads, -1).transpose(2, 3)

        q, k, v = split(self.fc_q(x)), split(self.fc_k(y)), split(self.fc_v(y))
        weights = torch.softmax(q @ k.transpose(-2, -1) / k.shape[-1] ** 0.5, dim=-1)
        out = (weights @ v).transpose(2, 3)
        return out.reshape(*out.shape[:3], -1)


class EmotionModule(nn.Module):
    def __init__(
        self, prior_dim: int, hidden: int, tokens: int, width: int, bank: int, heads: int = 8
    ) -> None:
        super().__init__()
        self.emo_linear = AudioProjection(prior_dim, hidden, tokens, width)
        self.kv_tokens_linear = AudioProjection(width, hidden, tokens, width)
        self.codebook = _EmotionBank(prior_dim, width, bank)
        self.attention = _TokenAttention(width, heads)

    @classmethod
    def from_state(cls, state: Mapping[str, torch.Tensor], heads: int = 8) -> EmotionModule:
        q = AudioProjection.from_state(state, "emo_linear.")
        bank = int(state["codebook.codebook.weight"].shape[0])
        return cls(q.proj1.in_features, q.proj1.out_features, q.tokens, q.width, bank, heads)

    def forward(self, prior: torch.Tensor) -> torch.Tensor:
        """(batch, frames, 1, prior_dim) → tokens (batch, frames, tokens, width) over the bank."""
        query = self.emo_linear(prior)
        bank = self.codebook.codebook.weight  # (size, width): every entry is a key/value source
        kv = self.kv_tokens_linear(bank.reshape(1, bank.shape[0], 1, bank.shape[1]))
        kv = kv.reshape(1, 1, -1, kv.shape[-1]).expand(query.shape[0], query.shape[1], -1, -1)
        return self.attention(query, kv)
