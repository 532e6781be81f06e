"""The learned music generator's ``.npz`` checkpoint (format: :mod:`.vocab` docstring).

NumPy only, no pickle: the config is a 0-d unicode array holding JSON, the weights are fp16
arrays. :func:`load_checkpoint` validates everything the runtime relies on (keys, shapes,
vocabulary, finite values) and raises a PipelineError that says what is wrong.
"""

from __future__ import annotations

import itertools
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.base import PipelineError

CONFIG_KEYS = (
    "n_layer",
    "n_head",
    "d_model",
    "d_ff",
    "max_len",
    "vocab",
    "bucket_edges",
    "corpus_sha256",
    "tokens_seen",
    "pieces",
    "sources",
    "licence",
)
BUCKETED = ("DENS", "REG", "TRIAD", "INTV")


def weight_shapes(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Every weight name and its shape for a config."""
    v, d, f = len(config["vocab"]), int(config["d_model"]), int(config["d_ff"])
    shapes: dict[str, tuple[int, ...]] = {
        "tok_emb": (v, d),
        "pos_emb": (int(config["max_len"]), d),
        "ln_f.w": (d,),
        "ln_f.b": (d,),
    }
    per_layer = {
        "ln1.w": (d,),
        "ln1.b": (d,),
        "qkv.w": (d, 3 * d),
        "qkv.b": (3 * d,),
        "out.w": (d, d),
        "out.b": (d,),
        "ln2.w": (d,),
        "ln2.b": (d,),
        "fc.w": (d, f),
        "fc.b": (f,),
        "proj.w": (f, d),
        "proj.b": (d,),
    }
    for i in range(int(config["n_layer"])):
        shapes.update({f"l{i}.{k}": s for k, s in per_layer.items()})
    return shapes


def _check_config(config: Mapping[str, Any], where: str) -> None:
    missing = [k for k in CONFIG_KEYS if k not in config]
    if missing:
        raise PipelineError(f"{where}: config lacks {', '.join(missing)}.")
    for k in ("n_layer", "n_head", "d_model", "d_ff", "max_len"):
        if not isinstance(config[k], int) or config[k] < 1:
            raise PipelineError(f"{where}: config {k} must be a positive integer.")
    if config["d_model"] % config["n_head"]:
        raise PipelineError(f"{where}: d_model is not a multiple of n_head.")
    vocab = config["vocab"]
    if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
        raise PipelineError(f"{where}: config vocab must be a list of token strings.")
    edges = config["bucket_edges"]
    if not isinstance(edges, dict) or any(k not in edges for k in BUCKETED):
        raise PipelineError(f"{where}: bucket_edges needs {', '.join(BUCKETED)}.")
    for k in BUCKETED:
        e = edges[k]
        if not isinstance(e, list) or any(b < a for a, b in itertools.pairwise(e)):
            raise PipelineError(f"{where}: bucket_edges {k} must be a sorted list of numbers.")


def save_checkpoint(path: Path, config: Mapping[str, Any], weights: Mapping[str, Any]) -> None:
    """Validate and write ``config`` + ``weights`` (stored as fp16) to ``path`` (.npz)."""
    where = f"Checkpoint {Path(path).name}"
    _check_config(config, where)
    shapes = weight_shapes(config)
    arrays: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        if name not in weights:
            raise PipelineError(f"{where}: weight {name} is missing.")
        arr = np.asarray(weights[name], dtype=np.float32)
        if arr.shape != shape:
            raise PipelineError(f"{where}: {name} has shape {arr.shape}, expected {shape}.")
        if not np.isfinite(arr).all() or np.abs(arr).max(initial=0.0) > 65000:
            raise PipelineError(f"{where}: {name} has values fp16 cannot hold.")
        arrays[name] = arr.astype(np.float16)
    extra = sorted(set(weights) - set(shapes))
    if extra:
        raise PipelineError(f"{where}: unexpected weights {', '.join(extra[:5])}.")
    path = Path(path)
    tmp = path.with_name(path.name + ".part.npz")
    with tmp.open("wb") as fh:
        arrays["config"] = np.array(json.dumps(dict(config)))
        np.savez(fh, allow_pickle=False, **arrays)
    tmp.replace(path)


def load_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(config, weights)`` of a checkpoint; weights as float32 arrays."""
    path = Path(path)
    where = f"Checkpoint {path}"
    if not path.is_file():
        raise PipelineError(f"{where} does not exist — train one with `launch.py music-train`.")
    try:
        with np.load(path, allow_pickle=False) as data:
            files = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise PipelineError(f"{where} is not a readable .npz file ({exc}).") from None
    if "config" not in files or files["config"].shape != () or files["config"].dtype.kind != "U":
        raise PipelineError(f"{where} has no config (a JSON string) — not a music checkpoint.")
    try:
        config = json.loads(str(files.pop("config")))
    except json.JSONDecodeError as exc:
        raise PipelineError(f"{where}: config is not valid JSON ({exc}).") from None
    if not isinstance(config, dict):
        raise PipelineError(f"{where}: config must be a JSON object.")
    _check_config(config, where)
    weights: dict[str, np.ndarray] = {}
    for name, shape in weight_shapes(config).items():
        if name not in files:
            raise PipelineError(f"{where}: weight {name} is missing (a truncated file?).")
        arr = files[name]
        if arr.shape != shape:
            raise PipelineError(f"{where}: {name} has shape {arr.shape}, expected {shape}.")
        if arr.dtype.kind != "f":
            raise PipelineError(f"{where}: {name} is not a float array.")
        weights[name] = arr.astype(np.float32)
        if not np.isfinite(weights[name]).all():
            raise PipelineError(f"{where}: {name} holds NaN or infinite values.")
    return config, weights
