"""EmoGen stage 2 at run time: the learned decoder in NumPy (float32, no torch), with a KV cache.

The checkpoint format is :mod:`pipelines.music.learned.vocab`'s (read and checked by
:mod:`.checkpoint`): the weights of a GPT-2-style decoder stored as float16, pre-LayerNorm
blocks (eps 1e-5), GELU (tanh form), learned positions, output projection tied to the token
embedding. Matrices are laid out for row vectors
(``x @ w``); ``l{i}.qkv.w`` holds q, k and v side by side.

:class:`Cache` keeps every row's keys and values with its own length, so a batch of candidates
is decoded together, and one row can be re-filled alone (a new context window) while the others
go on. Each decode owns its cache: one loaded model serves concurrent requests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.base import PipelineError
from pipelines.music.learned.checkpoint import load_checkpoint

EPS = 1e-5
LAYER_KEYS = (
    "ln1.w", "ln1.b", "qkv.w", "qkv.b", "out.w", "out.b",
    "ln2.w", "ln2.b", "fc.w", "fc.b", "proj.w", "proj.b",
)  # fmt: skip


@dataclass(frozen=True)
class _Layer:
    ln1_w: np.ndarray
    ln1_b: np.ndarray
    qkv_w: np.ndarray
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln2_w: np.ndarray
    ln2_b: np.ndarray
    fc_w: np.ndarray
    fc_b: np.ndarray
    proj_w: np.ndarray
    proj_b: np.ndarray


@dataclass
class Cache:
    """Keys and values of B rows, (layers, B, heads, room, head dim); ``length[b]`` filled."""

    k: np.ndarray
    v: np.ndarray
    length: np.ndarray

    @property
    def room(self) -> int:
        return int(self.k.shape[3])


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)
    out: np.ndarray = xc / np.sqrt(var + np.float32(EPS)) * w + b
    return out


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh approximation (GPT-2's)."""
    c = np.float32(math.sqrt(2.0 / math.pi))
    out: np.ndarray = 0.5 * x * (1.0 + np.tanh(c * (x + np.float32(0.044715) * x * x * x)))
    return out


def _softmax(s: np.ndarray) -> np.ndarray:
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


class EmoGenModel:
    """The decoder's float32 weights; ``forward`` (whole sequence) and ``step`` (KV cache)."""

    def __init__(
        self, config: Mapping[str, Any], weights: Mapping[str, np.ndarray], name: str = ""
    ) -> None:
        """``config`` and ``weights`` as :func:`.checkpoint.load_checkpoint` returns them."""
        self.config = dict(config)
        self.name = name or "checkpoint"
        self.n_head = int(config["n_head"])
        self.head_dim = int(config["d_model"]) // self.n_head
        self.max_len = int(config["max_len"])
        self.vocab: tuple[str, ...] = tuple(config["vocab"])

        def w(key: str) -> np.ndarray:
            return np.ascontiguousarray(weights[key], dtype=np.float32)

        self.tok_emb = w("tok_emb")
        self.head_t = np.ascontiguousarray(self.tok_emb.T)
        self.pos_emb = w("pos_emb")
        self.ln_f = (w("ln_f.w"), w("ln_f.b"))
        self.layers = [
            _Layer(*(w(f"l{i}.{k}") for k in LAYER_KEYS)) for i in range(int(config["n_layer"]))
        ]

    @classmethod
    def load(cls, path: Path) -> EmoGenModel:
        """Read and check an ``.npz`` checkpoint (a PipelineError says what is wrong)."""
        config, weights = load_checkpoint(Path(path))
        return cls(config, weights, Path(path).name)

    def _attend(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """q (B, H, S, hd), k/v (B, H, T, hd), mask broadcastable to (B, H, S, T): True = see."""
        scale = np.float32(1.0 / math.sqrt(self.head_dim))
        scores = np.where(mask, (q @ k.transpose(0, 1, 3, 2)) * scale, np.float32(-np.inf))
        out: np.ndarray = _softmax(scores) @ v
        return out

    def forward(self, tokens: Sequence[int] | np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Logits (T, V) of one sequence from position 0, and each layer's (k, v) stacked as
        (2, H, T, hd) — what :meth:`fill` puts in a cache."""
        ids = np.asarray(tokens, dtype=np.int64)
        t = len(ids)
        if not 0 < t <= self.max_len:
            raise PipelineError(f"A sequence of {t} tokens does not fit ({self.max_len}).")
        h, hd = self.n_head, self.head_dim
        x = self.tok_emb[ids] + self.pos_emb[:t]
        causal = np.tril(np.ones((t, t), dtype=bool))
        kv: list[np.ndarray] = []
        for layer in self.layers:
            qkv = layer_norm(x, layer.ln1_w, layer.ln1_b) @ layer.qkv_w + layer.qkv_b
            q, k, v = qkv.reshape(t, 3, h, hd).transpose(1, 2, 0, 3)  # each (H, T, hd)
            kv.append(np.stack([k, v]))
            att = self._attend(q[None], k[None], v[None], causal)[0]  # (H, T, hd)
            x = x + att.transpose(1, 0, 2).reshape(t, -1) @ layer.out_w + layer.out_b
            y = layer_norm(x, layer.ln2_w, layer.ln2_b) @ layer.fc_w + layer.fc_b
            x = x + gelu(y) @ layer.proj_w + layer.proj_b
        logits: np.ndarray = layer_norm(x, *self.ln_f) @ self.head_t
        return logits, kv

    def new_cache(self, batch: int, room: int | None = None) -> Cache:
        room = min(room or self.max_len, self.max_len)
        shape = (len(self.layers), batch, self.n_head, room, self.head_dim)
        return Cache(
            np.zeros(shape, np.float32), np.zeros(shape, np.float32), np.zeros(batch, np.int64)
        )

    def fill(self, cache: Cache, row: int, tokens: Sequence[int] | np.ndarray) -> np.ndarray:
        """Replace row ``row`` of the cache by ``tokens`` from position 0; their last logits."""
        if len(tokens) > cache.room:
            raise PipelineError(f"{len(tokens)} tokens do not fit the cache ({cache.room}).")
        logits, kv = self.forward(tokens)
        t = len(tokens)
        for li, layer_kv in enumerate(kv):
            cache.k[li, row, :, :t] = layer_kv[0]
            cache.v[li, row, :, :t] = layer_kv[1]
        cache.length[row] = t
        last: np.ndarray = logits[-1]
        return last

    def step(self, tokens: np.ndarray, cache: Cache) -> np.ndarray:
        """Feed one token per row (B,) at each row's next position; the next logits (B, V)."""
        pos = cache.length
        if int(pos.max()) >= cache.room:
            raise PipelineError("The decoder's context is full; start a new window first.")
        b = len(tokens)
        rows = np.arange(b)
        h, hd = self.n_head, self.head_dim
        t = int(pos.max()) + 1
        see = (np.arange(t)[None, :] <= pos[:, None])[:, None, None, :]  # (B, 1, 1, T)
        x = self.tok_emb[tokens] + self.pos_emb[pos]
        for li, layer in enumerate(self.layers):
            qkv = layer_norm(x, layer.ln1_w, layer.ln1_b) @ layer.qkv_w + layer.qkv_b
            q, k, v = qkv.reshape(b, 3, h, hd).transpose(1, 0, 2, 3)  # each (B, H, hd)
            cache.k[li, rows, :, pos] = k
            cache.v[li, rows, :, pos] = v
            att = self._attend(q[:, :, None], cache.k[li, :, :, :t], cache.v[li, :, :, :t], see)
            x = x + att.reshape(b, -1) @ layer.out_w + layer.out_b
            y = layer_norm(x, layer.ln2_w, layer.ln2_b) @ layer.fc_w + layer.fc_b
            x = x + gelu(y) @ layer.proj_w + layer.proj_b
        cache.length = pos + 1
        logits: np.ndarray = layer_norm(x, *self.ln_f) @ self.head_t
        return logits


def sample(
    logits: np.ndarray,
    allowed: np.ndarray,
    gen: np.random.Generator,
    *,
    temperature: float = 1.0,
    top_p: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """One token per row among the ``allowed`` (B, V) ones, by temperature and nucleus (top-p)
    sampling (temperature 0: the most likely); also each pick's log-probability under the
    masked, tempered distribution."""
    if not allowed.any(axis=1).all():
        raise PipelineError("The grammar left no legal token (a decoder bug).")
    z = np.where(allowed, logits.astype(np.float64), -np.inf)
    if temperature <= 0:
        pick = z.argmax(axis=1)
        return pick, np.zeros(len(pick))
    z = z / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    if top_p < 1.0:
        order = np.argsort(-p, axis=1)
        sorted_p = np.take_along_axis(p, order, axis=1)
        keep_sorted = np.cumsum(sorted_p, axis=1) - sorted_p < top_p  # the first always stays
        keep = np.zeros_like(allowed)
        np.put_along_axis(keep, order, keep_sorted, axis=1)
        p = np.where(keep, p, 0.0)
        p /= p.sum(axis=1, keepdims=True)
    c = np.cumsum(p, axis=1)
    u = gen.random(len(p)) * c[:, -1]
    pick = np.argmax(c > u[:, None], axis=1)  # the first token whose mass covers u
    return pick, np.log(p[np.arange(len(p)), pick])
