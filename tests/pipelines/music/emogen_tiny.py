"""Tiny EmoGen checkpoints written in code, in the trainer's format, for the learned-music tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipelines.music.learned.checkpoint import save_checkpoint, weight_shapes
from pipelines.music.learned.vocab import N_BUCKETS, VOCAB

EDGES = {
    "DENS": [0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0],
    "REG": [55.0, 59.0, 62.0, 65.0, 68.0, 71.0, 75.0],
    "TRIAD": [0.25, 0.5, 0.75],
    "INTV": [1.0, 1.5, 2.0, 2.5, 3.5],
}
assert all(len(EDGES[k]) == n - 1 for k, n in N_BUCKETS.items())


def tiny_config(**shape: int) -> dict[str, Any]:
    return {
        "n_layer": shape.get("n_layer", 2),
        "n_head": shape.get("n_head", 2),
        "d_model": shape.get("d_model", 16),
        "d_ff": shape.get("d_ff", 32),
        "max_len": shape.get("max_len", 96),
        "vocab": list(VOCAB),
        "bucket_edges": EDGES,
        "corpus_sha256": "0" * 64,
        "tokens_seen": 0,
        "pieces": 0,
        "sources": ["random weights (tests)"],
        "licence": "CC0",
    }


def write_tiny(path: Path, seed: int = 0, scale: float = 0.3, **shape: int) -> Path:
    """A checkpoint with random weights (LayerNorm weights near 1) at ``path``."""
    config = tiny_config(**shape)
    gen = np.random.default_rng(seed)
    weights: dict[str, np.ndarray] = {}
    for name, s in weight_shapes(config).items():
        if name.endswith((".ln1.w", ".ln2.w")) or name == "ln_f.w":
            weights[name] = 1.0 + 0.1 * gen.standard_normal(s)
        else:
            weights[name] = scale * gen.standard_normal(s)
    save_checkpoint(path, config, weights)
    return path
