"""A lean Llama decoder in NumPy for the bundled SmolLM2-135M GGUF (no torch needed).

The weights are de-quantised from the GGUF once (float32, ~540 MB) and laid out for row-vector
products; ``rope`` follows llama.cpp's "normal" mode (adjacent pairs), which is what GGUF's
permuted Q/K weights expect. Checked against transformers' GGUF loading: the same next-token
logits to 1e-4. Each ``generate`` call owns its KV cache, so one loaded model serves
concurrent calls.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.base import PipelineError
from pipelines.dialogue.gguf_file import GGUFFile
from pipelines.dialogue.gguf_tokenizer import GGUFTokenizer


@dataclass(frozen=True)
class _Layer:
    attn_norm: np.ndarray
    qkv: np.ndarray
    """(d, (H + 2·KV)·hd): q, k, v projections side by side."""
    out: np.ndarray
    ffn_norm: np.ndarray
    gate_up: np.ndarray
    """(d, 2·ff): gate and up projections side by side."""
    down: np.ndarray


@dataclass(frozen=True)
class Generated:
    """What one ``generate`` call produced."""

    token_ids: tuple[int, ...]
    text: str
    prompt_tokens: int
    first_token_s: float
    """Seconds from the call to the first sampled token (prompt processing included)."""
    total_s: float
    stopped: str
    """How the last stage ended: "eos", "stop" (a stop string), "length" or "caller"."""
    sampled: int = 0
    """Tokens the model sampled (stop tokens included, injected ones not)."""


@dataclass
class BatchCache:
    """Keys and values of B continuations of one prompt: the prompt's once, (layers, kv
    heads, P, head dim), and each row's generated tokens, (layers, B, kv heads, room, head
    dim), ``used`` positions filled."""

    prompt_k: np.ndarray
    prompt_v: np.ndarray
    gen_k: np.ndarray
    gen_v: np.ndarray
    used: int = 0

    def keep(self, rows: np.ndarray) -> None:
        """Only these rows go on."""
        self.gen_k, self.gen_v = self.gen_k[:, rows], self.gen_v[:, rows]


def _rope_one(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """RoPE at one position for every row and head (``x``: (…, head dim))."""
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


@dataclass(frozen=True)
class Stage:
    """One step of staged generation (see :meth:`LlamaModel.generate_stages`)."""

    inject: list[int]
    """Tokens fed before sampling (e.g. our own tags)."""
    stop: tuple[str, ...]
    max_tokens: int
    choices: tuple[tuple[int, ...], ...] = ()
    """If given, the stage samples exactly one of these token sequences (a prefix-trie mask
    on the logits) and ends when one is complete."""

    def allowed(self, so_far: list[int]) -> set[int]:
        k = len(so_far)
        return {c[k] for c in self.choices if len(c) > k and list(c[:k]) == so_far}

    def complete(self, so_far: list[int]) -> bool:
        return any(list(c) == so_far for c in self.choices)


TokenFn = Callable[[str], bool]
"""Called with the text so far after each token; return True to stop."""


PREFIX_CACHE_ENTRIES = 8
"""Prompt prefixes (system prompt + few-shot examples) whose KV states a model keeps."""


class LlamaModel:
    """De-quantised weights, the tokenizer and a sampling loop."""

    def __init__(self, path: Path) -> None:
        self._prefixes: OrderedDict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        """KV states of recent constant prompt prefixes: a pure memo (same tokens → same
        state), so sharing it between users leaks nothing and changes no output."""
        self._prefix_lock = threading.Lock()
        gguf = GGUFFile(path)
        meta = gguf.metadata
        if meta.get("general.architecture") != "llama":
            raise PipelineError(f"{path.name} is not a Llama-architecture model.")
        self.tokenizer = GGUFTokenizer(meta)
        self.n_layers = int(meta["llama.block_count"])
        self.dim = int(meta["llama.embedding_length"])
        self.n_heads = int(meta["llama.attention.head_count"])
        self.n_kv = int(meta.get("llama.attention.head_count_kv", self.n_heads))
        self.head_dim = self.dim // self.n_heads
        self.ff = int(meta["llama.feed_forward_length"])
        self.eps = float(meta.get("llama.attention.layer_norm_rms_epsilon", 1e-5))
        self.context = int(meta.get("llama.context_length", 2048))
        base = float(meta.get("llama.rope.freq_base", 10000.0))
        self._inv_freq = base ** (-np.arange(0, self.head_dim, 2, dtype=np.float64) / self.head_dim)
        self.embed = gguf.tensor("token_embd.weight")
        head = "output.weight" if "output.weight" in gguf.tensors else "token_embd.weight"
        self.head_t = np.ascontiguousarray(gguf.tensor(head).T)
        self.norm = gguf.tensor("output_norm.weight")
        self.layers: list[_Layer] = []
        for i in range(self.n_layers):
            w = {n.split(".", 2)[2][:-7]: n for n in gguf.tensors if n.startswith(f"blk.{i}.")}
            t = {k: gguf.tensor(v) for k, v in w.items()}
            self.layers.append(
                _Layer(
                    attn_norm=t["attn_norm"],
                    qkv=np.ascontiguousarray(
                        np.concatenate([t["attn_q"], t["attn_k"], t["attn_v"]]).T
                    ),
                    out=np.ascontiguousarray(t["attn_output"].T),
                    ffn_norm=t["ffn_norm"],
                    gate_up=np.ascontiguousarray(np.concatenate([t["ffn_gate"], t["ffn_up"]]).T),
                    down=np.ascontiguousarray(t["ffn_down"].T),
                )
            )

    # -- the network ----------------------------------------------------------------------------
    def _rms(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        mean_sq = np.einsum("...d,...d->...", x, x)[..., None] * np.float32(1.0 / x.shape[-1])
        return x / np.sqrt(mean_sq + np.float32(self.eps)) * w

    def _rope(self, x: np.ndarray, pos: np.ndarray) -> np.ndarray:
        ang = np.outer(pos, self._inv_freq).astype(np.float32)[:, None, :]  # (T, 1, hd/2)
        cos, sin = np.cos(ang), np.sin(ang)
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    def forward(
        self, ids: np.ndarray, cache_k: np.ndarray, cache_v: np.ndarray, start: int
    ) -> np.ndarray:
        """Logits of the last position after feeding ``ids`` at positions ``start…``."""
        n, h, kv, hd = len(ids), self.n_heads, self.n_kv, self.head_dim
        group = h // kv
        pos = np.arange(start, start + n)
        x = self.embed[ids]
        end = start + n
        mask = None
        if n > 1:
            mask = np.triu(np.full((n, end), -np.inf, dtype=np.float32), k=start + 1)
        scale = np.float32(1.0 / np.sqrt(hd))
        for li, layer in enumerate(self.layers):
            qkv = self._rms(x, layer.attn_norm) @ layer.qkv
            q = self._rope(qkv[:, : h * hd].reshape(n, h, hd), pos)
            cache_k[li, start:end] = self._rope(
                qkv[:, h * hd : (h + kv) * hd].reshape(n, kv, hd), pos
            )
            cache_v[li, start:end] = qkv[:, (h + kv) * hd :].reshape(n, kv, hd)
            keys, values = cache_k[li, :end], cache_v[li, :end]  # (end, kv, hd)
            qg = q.reshape(n, kv, group, hd)
            scores = np.einsum("nkgd,tkd->kgnt", qg, keys) * scale
            if mask is not None:
                scores = scores + mask
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            att = np.einsum("kgnt,tkd->nkgd", scores, values).reshape(n, h * hd)
            x = x + att @ layer.out
            gu = self._rms(x, layer.ffn_norm) @ layer.gate_up
            gate, up = gu[:, : self.ff], gu[:, self.ff :]
            x = x + (gate / (1.0 + np.exp(-gate)) * up) @ layer.down
        result: np.ndarray = self._rms(x[-1:], self.norm) @ self.head_t
        return result[0]

    def batch_cache(
        self, cache_k: np.ndarray, cache_v: np.ndarray, prompt_len: int, rows: int, room: int
    ) -> BatchCache:
        """A decoding state for ``rows`` continuations of one prompt, from its single-sequence
        caches (as :meth:`prefill` returns them)."""
        shape = (self.n_layers, rows, self.n_kv, room, self.head_dim)
        return BatchCache(
            np.ascontiguousarray(cache_k[:, :prompt_len].transpose(0, 2, 1, 3)),
            np.ascontiguousarray(cache_v[:, :prompt_len].transpose(0, 2, 1, 3)),
            np.zeros(shape, np.float32),
            np.zeros(shape, np.float32),
        )

    def forward_batch(self, tokens: np.ndarray, cache: BatchCache) -> np.ndarray:
        """Logits (B, vocab) after feeding one token per row after what ``cache`` holds (every
        row at the same length); the token's keys and values are added to it. Memory-bound:
        B rows cost little more than one, and the prompt's keys and values are read once for
        all rows."""
        b, h, kv, hd = len(tokens), self.n_heads, self.n_kv, self.head_dim
        group = h // kv
        prompt_len, used = cache.prompt_k.shape[2], cache.used
        if used >= cache.gen_k.shape[3]:
            raise PipelineError("The batch cache is full.")
        ang = ((prompt_len + used) * self._inv_freq).astype(np.float32)
        cos, sin = np.cos(ang), np.sin(ang)
        x = self.embed[tokens]  # (B, d)
        scale = np.float32(1.0 / np.sqrt(hd))
        for li, layer in enumerate(self.layers):
            qkv = self._rms(x, layer.attn_norm) @ layer.qkv
            q = _rope_one(qkv[:, : h * hd].reshape(b, kv, group, hd), cos, sin) * scale
            cache.gen_k[li, :, :, used] = _rope_one(
                qkv[:, h * hd : (h + kv) * hd].reshape(b, kv, hd), cos, sin
            )
            cache.gen_v[li, :, :, used] = qkv[:, (h + kv) * hd :].reshape(b, kv, hd)
            gen_k, gen_v = cache.gen_k[li, :, :, : used + 1], cache.gen_v[li, :, :, : used + 1]
            # The prompt part: one product per kv head for all rows (kv, B·group, P).
            qp = q.transpose(1, 0, 2, 3).reshape(kv, b * group, hd)
            s_prompt = qp @ cache.prompt_k[li].transpose(0, 2, 1)
            s_gen = (q @ gen_k.transpose(0, 1, 3, 2)).transpose(1, 0, 2, 3)  # (kv, B, g, G)
            scores = np.concatenate([s_prompt, s_gen.reshape(kv, b * group, used + 1)], axis=-1)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            att = scores[..., :prompt_len] @ cache.prompt_v[li]  # (kv, B·g, hd)
            p_gen = scores[..., prompt_len:].reshape(kv, b, group, used + 1).transpose(1, 0, 2, 3)
            att = att.reshape(kv, b, group, hd).transpose(1, 0, 2, 3) + p_gen @ gen_v
            x = x + att.reshape(b, h * hd) @ layer.out
            gu = self._rms(x, layer.ffn_norm) @ layer.gate_up
            gate, up = gu[:, : self.ff], gu[:, self.ff :]
            x = x + (gate / (1.0 + np.exp(-gate)) * up) @ layer.down
        cache.used += 1
        result: np.ndarray = self._rms(x, self.norm) @ self.head_t
        return result

    @property
    def cached_prefixes(self) -> int:
        """How many constant prompt prefixes have their model state kept."""
        with self._prefix_lock:
            return len(self._prefixes)

    def prefill(
        self, ids: list[int], reuse: int, room: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cache_k, cache_v, last logits) after feeding ``ids``; the caches (layers, T, kv
        heads, head dim) have ``room`` free positions after the prompt. The state of the first
        ``reuse`` tokens (a constant prefix: system prompt, few-shot examples) is kept and
        reused by later calls with the same prefix."""
        total = len(ids) + room
        if total > self.context:
            raise PipelineError(
                f"The prompt ({len(ids)} tokens) plus the reply exceed the model's "
                f"context of {self.context} tokens."
            )
        shape = (self.n_layers, total, self.n_kv, self.head_dim)
        cache_k, cache_v = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
        reuse = max(0, min(reuse, len(ids) - 1))
        key = tuple(ids[:reuse])
        with self._prefix_lock:
            hit = self._prefixes.get(key) if reuse else None
            if hit is not None:
                self._prefixes.move_to_end(key)
        start = 0
        if hit is not None:
            cache_k[:, :reuse], cache_v[:, :reuse] = hit
            start = reuse
        elif reuse:
            self.forward(np.asarray(ids[:reuse]), cache_k, cache_v, 0)
            with self._prefix_lock:
                self._prefixes[key] = (cache_k[:, :reuse].copy(), cache_v[:, :reuse].copy())
                while len(self._prefixes) > PREFIX_CACHE_ENTRIES:
                    self._prefixes.popitem(last=False)
            start = reuse
        logits = self.forward(np.asarray(ids[start:]), cache_k, cache_v, start)
        return cache_k, cache_v, logits

    # -- sampling -----------------------------------------------------------------------------
    def generate(
        self,
        prompt_ids: list[int],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
        on_text: TokenFn | None = None,
    ) -> Generated:
        """Sample up to ``max_new_tokens`` after ``prompt_ids`` (temperature 0: greedy)."""
        return self.generate_stages(
            prompt_ids,
            [Stage([], (), max_new_tokens)],
            temperature=temperature,
            top_p=top_p,
            seed=seed,
            on_text=on_text,
        )

    def generate_stages(
        self,
        prompt_ids: list[int],
        stages: list[Stage],
        *,
        temperature: float,
        top_p: float,
        seed: int,
        on_text: TokenFn | None = None,
    ) -> Generated:
        """Generate in stages over one KV cache: each stage feeds its ``inject`` tokens, then
        samples until one of its ``stop`` strings appears (the cache is rewound to just
        before it) or its token budget is spent. ``text`` is everything after the prompt."""
        t0 = time.perf_counter()
        total = len(prompt_ids) + sum(len(s.inject) + s.max_tokens for s in stages)
        if total > self.context:
            raise PipelineError(
                f"The prompt ({len(prompt_ids)} tokens) plus the reply exceed the model's "
                f"context of {self.context} tokens."
            )
        shape = (self.n_layers, total, self.n_kv, self.head_dim)
        cache_k, cache_v = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
        gen = np.random.Generator(np.random.PCG64(seed))
        kept: list[int] = []  # injected + generated tokens after the prompt
        pending = list(prompt_ids)
        pos, first, stopped, sampled = 0, 0.0, "length", 0
        decode = self.tokenizer.decode
        for stage in stages:
            pending += stage.inject
            kept += stage.inject
            base_len = len(decode(kept))
            mine: list[int] = []
            for _ in range(stage.max_tokens):
                logits = self.forward(np.asarray(pending), cache_k, cache_v, pos)
                pos += len(pending)
                if stage.choices:
                    allowed = stage.allowed(mine)
                    masked = np.full_like(logits, -np.inf)
                    idx = np.fromiter(allowed, dtype=np.int64)
                    masked[idx] = logits[idx]
                    logits = masked
                token = _sample(logits, temperature, top_p, gen)
                sampled += 1
                if not first:
                    first = time.perf_counter() - t0
                if token == self.tokenizer.eos_id or token in self.tokenizer.control_ids:
                    stopped, pending = "eos", []
                    break
                mine.append(token)
                text = decode(kept + mine)
                hit = [text.find(s, base_len) for s in stage.stop if text.find(s, base_len) >= 0]
                if hit:
                    while mine and len(decode(kept + mine)) > min(hit):
                        mine.pop()
                    pending = []
                    stopped = "stop"
                    break
                pending = [token]
                if on_text is not None and on_text(text):
                    stopped = "caller"
                    break
                if stage.choices and (stage.complete(mine) and not stage.allowed(mine)):
                    stopped = "choice"
                    break
            else:
                stopped = "length"
            kept += mine
            pos = len(prompt_ids) + len(kept) - len(pending)
            if stopped == "caller":
                break
        return Generated(
            token_ids=tuple(kept),
            text=decode(kept),
            prompt_tokens=len(prompt_ids),
            first_token_s=first or time.perf_counter() - t0,
            total_s=time.perf_counter() - t0,
            stopped=stopped,
            sampled=sampled,
        )


def _sample(logits: np.ndarray, temperature: float, top_p: float, gen: np.random.Generator) -> int:
    if temperature <= 0.0:
        return int(np.argmax(logits))
    z = logits.astype(np.float64) / temperature
    probs = np.exp(z - z.max())
    probs /= probs.sum()
    order = np.argsort(-probs, kind="stable")
    cum = np.cumsum(probs[order])
    keep = order[: int(np.searchsorted(cum, top_p)) + 1]
    p = probs[keep] / probs[keep].sum()
    return int(keep[gen.choice(len(keep), p=p)])
