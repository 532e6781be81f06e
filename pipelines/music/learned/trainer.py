"""Training the learned music generator (torch; runs only inside the ``music-train`` env).

A GPT-2 style decoder exactly as the checkpoint contract says (:mod:`.vocab` docstring) is
trained on windows of encoded pieces: each example is one piece, transposed by a random
interval (−5..+6 semitones, when the range allows; KEY and REG follow), with each control but
the meter replaced by ``*_any`` with probability :data:`CONTROL_DROPOUT`, cut to ``max_len``
tokens from a random bar (controls kept in front). The loss counts the tokens after ``SEP``.
A few pieces (5 %, at least 3) are held out; their loss (full controls, no transposition, from
the first bar) is measured before training and at the end. State is saved every
:data:`SAVE_EVERY_S` seconds and at the end so that ``--resume`` continues where it stopped.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pipelines.music.learned import controls as ctl
from pipelines.music.learned import vocab
from pipelines.music.learned.checkpoint import save_checkpoint
from pipelines.music.learned.corpus import load_corpus, split_pieces

SIZES: dict[str, dict[str, int]] = {
    "small": {"n_layer": 4, "n_head": 4, "d_model": 192, "d_ff": 768, "max_len": 512},
    "tiny": {"n_layer": 2, "n_head": 2, "d_model": 96, "d_ff": 384, "max_len": 256},
}
BATCH = {"small": 16, "tiny": 8}
LR = {"small": 1e-3, "tiny": 2e-3}
FINE_TUNE_LR = 0.3
"""Fine-tuning a checkpoint (``--init``) learns at this fraction of the from-scratch rate."""
CONTROL_DROPOUT = 0.3
SAVE_EVERY_S = 180.0
WARMUP_STEPS = 100
PREFIX = len(vocab.CONTROL_ORDER) + 2  # BOS, controls, SEP

Emit = Callable[..., None]


class Block(nn.Module):
    def __init__(self, d: int, h: int, f: int) -> None:
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-5), nn.LayerNorm(d, eps=1e-5)
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.proj = nn.Linear(d, f), nn.Linear(f, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.h, d // self.h).transpose(1, 2) for z in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.out(a.transpose(1, 2).reshape(b, t, d))
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Decoder(nn.Module):
    def __init__(self, cfg: dict[str, int], n_vocab: int) -> None:
        super().__init__()
        d = cfg["d_model"]
        self.tok_emb = nn.Embedding(n_vocab, d)
        self.pos_emb = nn.Embedding(cfg["max_len"], d)
        self.blocks = nn.ModuleList(
            Block(d, cfg["n_head"], cfg["d_ff"]) for _ in range(cfg["n_layer"])
        )
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        for name, p in self.named_parameters():
            if p.dim() > 1:
                std = 0.02 / math.sqrt(2 * cfg["n_layer"]) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.tok_emb(ids) + self.pos_emb(pos)
        for blk in self.blocks:
            x = blk(x)
        return self.ln_f(x) @ self.tok_emb.weight.T

    def export(self) -> dict[str, np.ndarray]:
        """Weights named and laid out as the checkpoint contract says (x @ w)."""

        def a(t: torch.Tensor) -> np.ndarray:
            return t.detach().float().cpu().numpy()

        w = {"tok_emb": a(self.tok_emb.weight), "pos_emb": a(self.pos_emb.weight)}
        for i, blk in enumerate(self.blocks):
            for name in ("ln1", "ln2"):
                ln = getattr(blk, name)
                w[f"l{i}.{name}.w"], w[f"l{i}.{name}.b"] = a(ln.weight), a(ln.bias)
            for name in ("qkv", "out", "fc", "proj"):
                lin = getattr(blk, name)
                w[f"l{i}.{name}.w"], w[f"l{i}.{name}.b"] = a(lin.weight).T.copy(), a(lin.bias)
        w["ln_f.w"], w["ln_f.b"] = a(self.ln_f.weight), a(self.ln_f.bias)
        return w

    @torch.no_grad()
    def load_exported(self, w: dict[str, np.ndarray]) -> None:
        """The inverse of :meth:`export`: weights of a checkpoint (to fine-tune it)."""

        def t(x: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

        self.tok_emb.weight.copy_(t(w["tok_emb"]))
        self.pos_emb.weight.copy_(t(w["pos_emb"]))
        for i, blk in enumerate(self.blocks):
            for name in ("ln1", "ln2"):
                ln = getattr(blk, name)
                ln.weight.copy_(t(w[f"l{i}.{name}.w"]))
                ln.bias.copy_(t(w[f"l{i}.{name}.b"]))
            for name in ("qkv", "out", "fc", "proj"):
                lin = getattr(blk, name)
                lin.weight.copy_(t(w[f"l{i}.{name}.w"].T))
                lin.bias.copy_(t(w[f"l{i}.{name}.b"]))
        self.ln_f.weight.copy_(t(w["ln_f.w"]))
        self.ln_f.bias.copy_(t(w["ln_f.b"]))


class Examples:
    """Encodes training and held-out examples from converted pieces."""

    def __init__(
        self, pieces: list[dict[str, Any]], raw: list[dict[str, Any]], max_len: int, edges: dict
    ) -> None:
        self.pieces, self.raw, self.max_len, self.edges = pieces, raw, max_len, edges

    def encode(self, i: int, rng: random.Random | None) -> list[int]:
        p, raw = self.pieces[i], dict(self.raw[i])
        notes = p["notes"]
        if rng is not None:
            lo, hi = int(notes[:, 1].min()), int(notes[:, 1].max())
            shifts = [s for s in range(-5, 7) if lo + s >= vocab.PITCH_MIN and hi + s <= 108]
            shift = rng.choice(shifts) if shifts else 0
            if shift:
                notes = notes + np.array([0, shift, 0], dtype=notes.dtype)
                raw["KEY"], raw["REG"] = (raw["KEY"] + shift) % 12, raw["REG"] + shift
        controls = ctl.to_tokens(raw, p["ts"], self.edges)
        if rng is not None:
            for name in vocab.CONTROL_ORDER[1:]:
                if rng.random() < CONTROL_DROPOUT:
                    controls[name] = None
        ids = vocab.encode(notes.tolist(), controls, n_bars=p["n_bars"])
        if len(ids) <= self.max_len:
            return ids
        room = self.max_len - PREFIX
        bars = [k for k, t in enumerate(ids) if t == vocab.BAR and k <= len(ids) - room]
        start = rng.choice(bars) if rng is not None and bars else PREFIX
        return ids[:PREFIX] + ids[start : start + room]


def batch_tensors(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets (−100 where no loss: controls, SEP, padding)."""
    t = max(len(s) for s in seqs) - 1
    x = torch.full((len(seqs), t), vocab.PAD, dtype=torch.long)
    y = torch.full((len(seqs), t), -100, dtype=torch.long)
    for r, s in enumerate(seqs):
        ids = torch.tensor(s, dtype=torch.long)
        x[r, : len(s) - 1] = ids[:-1]
        y[r, : len(s) - 1] = ids[1:]
        y[r, : PREFIX - 1] = -100
    return x, y


def heldout_loss(model: Decoder, ex: Examples, idx: list[int], bf16: bool) -> float:
    """Mean loss per token over the held-out pieces' first windows (full controls)."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for start in range(0, len(idx), 8):
            x, y = batch_tensors([ex.encode(i, None) for i in idx[start : start + 8]])
            logits = model(x).float()
            loss = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                y.reshape(-1),
                ignore_index=-100,
                reduction="sum",
            )
            total += float(loss)
            count += int((y != -100).sum())
    model.train()
    return total / max(count, 1)


def _save_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".part")
    torch.save(state, tmp)
    tmp.replace(path)


def train(args: argparse.Namespace, emit: Emit) -> int:
    torch.set_num_threads(max(1, args.threads))
    pieces, info = load_corpus(Path(args.corpus))
    state_path = Path(args.state)
    resumed: dict[str, Any] | None = None
    if args.resume and state_path.is_file():
        resumed = torch.load(state_path, map_location="cpu", weights_only=False)
        if resumed["corpus_sha256"] != info["sha256"]:
            emit("RESULT", ok=False, error="the saved state was trained on another corpus")
            return 1
    base: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None
    known: list[str] = []
    if getattr(args, "init", None) and not resumed:  # fine-tune a checkpoint
        from pipelines.music.learned.checkpoint import load_checkpoint

        base = load_checkpoint(Path(args.init))
        known = [k for k, v in SIZES.items() if all(base[0][q] == v[q] for q in v)]
        if not known:
            emit("RESULT", ok=False, error=f"{args.init} is not a model size this trainer knows")
            return 1
    size = resumed["size"] if resumed else (known[0] if base else args.size)
    lr_scale = resumed.get("lr_scale", 1.0) if resumed else (FINE_TUNE_LR if base else 1.0)
    cfg = dict(SIZES[size])
    train_idx, held_idx = split_pieces(len(pieces), seed=0)
    raw = [ctl.measure(p["notes"], p["ts"], p["n_bars"]) for p in pieces]
    if resumed:
        edges = resumed["edges"]
    elif base:
        edges = base[0]["bucket_edges"]  # the base model's control vocabulary
    else:
        edges = ctl.corpus_edges({k: [raw[i][k] for i in train_idx] for k in ctl.BUCKETED})
    ex = Examples(pieces, raw, cfg["max_len"], edges)
    torch.manual_seed(args.seed)
    model = Decoder(cfg, len(vocab.VOCAB))
    if base:
        model.load_exported(base[1])
    opt = torch.optim.AdamW(model.parameters(), lr=LR[size], betas=(0.9, 0.95), weight_decay=0.1)
    bf16 = not getattr(args, "fp32", False)
    step, tokens_seen, minutes_before = 0, 0, 0.0
    rng = random.Random(args.seed)
    if resumed:
        model.load_state_dict(resumed["model"])
        opt.load_state_dict(resumed["opt"])
        step, tokens_seen = resumed["step"], resumed["tokens_seen"]
        minutes_before = resumed["minutes"]
        initial = resumed["initial_heldout_loss"]
        rng.setstate(resumed["rng"])
    else:
        initial = heldout_loss(model, ex, held_idx, bf16)
    n_params = sum(p.numel() for p in model.parameters())
    emit(
        "PROGRESS",
        stage="start",
        params=n_params,
        pieces=len(train_idx),
        heldout=len(held_idx),
        initial_heldout_loss=round(initial, 4),
        step=step,
        tokens_seen=tokens_seen,
    )
    budget_s = args.minutes * 60 if args.minutes else None
    t0 = last_save = last_print = time.perf_counter()
    ema: float | None = None
    run_tokens = 0

    def snapshot() -> dict[str, Any]:
        return {
            "model": model.state_dict(),
            "opt": opt.state_dict(),
            "step": step,
            "tokens_seen": tokens_seen,
            "size": size,
            "lr_scale": lr_scale,
            "edges": edges,
            "rng": rng.getstate(),
            "corpus_sha256": info["sha256"],
            "initial_heldout_loss": initial,
            "minutes": minutes_before + (time.perf_counter() - t0) / 60,
        }

    while True:
        elapsed = time.perf_counter() - t0
        if budget_s is not None and elapsed >= budget_s:
            break
        if args.tokens is not None and tokens_seen >= args.tokens:
            break
        frac = max(
            elapsed / budget_s if budget_s else 0.0,
            tokens_seen / args.tokens if args.tokens else 0.0,
        )
        lr = (
            LR[size]
            * lr_scale
            * min(1.0, (step + 1) / WARMUP_STEPS)
            * (0.1 + 0.45 * (1 + math.cos(math.pi * min(frac, 1.0))))
        )
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch_tensors([ex.encode(rng.choice(train_idx), rng) for _ in range(BATCH[size])])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = F.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        n_tok = int((x != vocab.PAD).sum())
        tokens_seen += n_tok
        run_tokens += n_tok
        value = float(loss.detach())
        ema = value if ema is None else 0.95 * ema + 0.05 * value
        now = time.perf_counter()
        if now - last_print >= 15:
            last_print = now
            emit(
                "PROGRESS",
                stage="train",
                step=step,
                tokens_seen=tokens_seen,
                loss=round(ema, 4),
                tok_s=round(run_tokens / (now - t0)),
                minutes=round((now - t0) / 60, 2),
                lr=round(lr, 6),
            )
        if now - last_save >= SAVE_EVERY_S:
            last_save = now
            _save_state(state_path, snapshot())
    _save_state(state_path, snapshot())
    final = heldout_loss(model, ex, held_idx, bf16)
    run_s = time.perf_counter() - t0
    sources = Counter(pieces[i]["source"] for i in train_idx)
    config = {
        **cfg,
        "vocab": list(vocab.VOCAB),
        "bucket_edges": edges,
        "corpus_sha256": info["sha256"],
        "tokens_seen": tokens_seen,
        "pieces": len(train_idx),
        "sources": [f"{k} ({v} pieces)" for k, v in sorted(sources.items())],
        "licence": args.licence,
        "train_loss": round(ema, 4) if ema is not None else None,
        "heldout_loss": round(final, 4),
        "initial_heldout_loss": round(initial, 4),
        "heldout_pieces": len(held_idx),
        "train_minutes": round(minutes_before + run_s / 60, 2),
        "transpose": "-5..+6",
        "control_dropout": CONTROL_DROPOUT,
    }
    save_checkpoint(Path(args.out), config, model.export())
    emit(
        "RESULT",
        ok=True,
        out=args.out,
        params=n_params,
        steps=step,
        tokens_seen=tokens_seen,
        run_tokens=run_tokens,
        run_minutes=round(run_s / 60, 2),
        tok_s=round(run_tokens / max(run_s, 1e-9)),
        train_loss=config["train_loss"],
        heldout_loss=round(final, 4),
        initial_heldout_loss=round(initial, 4),
        pieces=len(train_idx),
        heldout_pieces=len(held_idx),
    )
    return 0
