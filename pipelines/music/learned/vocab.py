"""Token vocabulary of the learned music generator and encode/decode of one piece.

This docstring is the contract between the trainer (torch, in its own env) and the NumPy runtime.

Time grid and meter
    4 positions per quarter note (16ths). The meter is fixed per piece by a control: ``TS_4/4``,
    ``TS_3/4``, ``TS_2/4``, ``TS_6/8`` (other meters are dropped from the corpus). A bar lasts
    :data:`BAR_16THS` [meter] 16ths (16, 12, 8, 12).

Sequence
    ``BOS``, the controls in :data:`CONTROL_ORDER` —
    ``TS_*``, ``KEY_0..KEY_11|KEY_any`` (tonic pitch class), ``MODE_major|MODE_minor|MODE_any``,
    ``DENS_0..DENS_{k-1}|DENS_any`` (notes per quarter note, bucketed), ``REG_0..|REG_any``
    (mean pitch, bucketed), ``VOICES_1..VOICES_4|VOICES_any`` (4 = 4 or more),
    ``TRIAD_0..|TRIAD_any`` (major/minor triad ratio, bucketed), ``INTV_0..|INTV_any`` (mean
    melodic interval, bucketed) — then ``SEP``, then the bars: each bar is ``BAR``, ``LEFT_n``
    (bars left including this one, n = 1..32; ``LEFT_32`` also means ≥ 32), then its events in
    increasing position: ``POS_p`` (p = 0 .. bar length − 1) followed by one or more
    ``PITCH_m`` (m = 21..108, ascending within a position), each immediately followed by
    ``DUR_d`` (d in 16ths from :data:`DURATIONS`; longer notes are clipped to 16, other lengths
    rounded down to the next allowed value). The piece ends with ``EOS``. ``PAD`` (id 0) only
    pads training batches. Bucket counts are :data:`N_BUCKETS`; bucket *edges* are data
    (quantiles of the training corpus, stored in the checkpoint), used through :func:`bucket`.
    The control values themselves are measured by :mod:`pipelines.music.learned.controls`.

Python form
    ``notes``: ``(start_16th, pitch, dur_16th)`` tuples, start counted from the piece's first
    bar. ``controls``: dict with every name of :data:`CONTROL_ORDER`; ``TS`` is a meter string
    ("4/4"), ``KEY`` 0–11, ``MODE`` "major"/"minor", ``VOICES`` 1–4, the bucketed ones a bucket
    index; ``None`` means ``*_any`` (except ``TS``, which is required).

Checkpoint ``.npz`` (written by the trainer, read with numpy only; see ``checkpoint.py``)
    key ``config``: a 0-d array holding a JSON string {"n_layer", "n_head", "d_model", "d_ff",
    "max_len", "vocab": [token strings], "bucket_edges": {"DENS": [...], "REG": [...],
    "TRIAD": [...], "INTV": [...]}, "corpus_sha256", "tokens_seen", "pieces", "sources": [...],
    "licence"}. Weights: GPT-2 style pre-LayerNorm, GELU (tanh), learned absolute positions,
    output tied to the token embedding, fp16 storage: ``tok_emb`` [V,D], ``pos_emb`` [L,D], per
    layer i ``l{i}.ln1.w``, ``l{i}.ln1.b``, ``l{i}.qkv.w`` [D,3D] (x @ w; q|k|v concatenated),
    ``l{i}.qkv.b``, ``l{i}.out.w`` [D,D], ``l{i}.out.b``, ``l{i}.ln2.w``, ``l{i}.ln2.b``,
    ``l{i}.fc.w`` [D,F], ``l{i}.fc.b``, ``l{i}.proj.w`` [F,D], ``l{i}.proj.b``; ``ln_f.w``,
    ``ln_f.b``. LayerNorm eps 1e-5.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from pipelines.base import PipelineError

STEPS_PER_QUARTER = 4
BAR_16THS: dict[str, int] = {"4/4": 16, "3/4": 12, "2/4": 8, "6/8": 12}
"""Meters the model knows and their bar length in 16ths."""
METERS: tuple[str, ...] = tuple(BAR_16THS)
MAX_BAR = max(BAR_16THS.values())
DURATIONS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 16)
PITCH_MIN, PITCH_MAX = 21, 108
MAX_LEFT = 32
N_BUCKETS: dict[str, int] = {"DENS": 8, "REG": 8, "TRIAD": 4, "INTV": 6}
"""Buckets per quantised control (edges: ``N - 1`` numbers from the training corpus)."""
CONTROL_ORDER: tuple[str, ...] = ("TS", "KEY", "MODE", "DENS", "REG", "VOICES", "TRIAD", "INTV")
MODES = ("major", "minor")
MAX_VOICES = 4


def _control_values(name: str) -> list[str]:
    if name == "TS":
        return list(METERS)
    if name == "KEY":
        return [str(k) for k in range(12)] + ["any"]
    if name == "MODE":
        return [*MODES, "any"]
    if name == "VOICES":
        return [str(v) for v in range(1, MAX_VOICES + 1)] + ["any"]
    return [str(b) for b in range(N_BUCKETS[name])] + ["any"]


def _build_vocab() -> tuple[str, ...]:
    toks = ["PAD", "BOS", "SEP", "BAR", "EOS"]
    for name in CONTROL_ORDER:
        toks += [f"{name}_{v}" for v in _control_values(name)]
    toks += [f"LEFT_{n}" for n in range(1, MAX_LEFT + 1)]
    toks += [f"POS_{p}" for p in range(MAX_BAR)]
    toks += [f"PITCH_{m}" for m in range(PITCH_MIN, PITCH_MAX + 1)]
    toks += [f"DUR_{d}" for d in DURATIONS]
    return tuple(toks)


VOCAB: tuple[str, ...] = _build_vocab()
TOKEN_ID: dict[str, int] = {t: i for i, t in enumerate(VOCAB)}
PAD, BOS, SEP, BAR, EOS = (TOKEN_ID[t] for t in ("PAD", "BOS", "SEP", "BAR", "EOS"))


def bucket(value: float, edges: Sequence[float]) -> int:
    """Index of the bucket of ``value``: the number of edges ≤ value (0 .. len(edges))."""
    return int(np.searchsorted(np.asarray(edges, dtype=float), float(value), side="right"))


def quantize_duration(dur: int) -> int:
    """The allowed duration used for ``dur`` 16ths: clipped to 16, else rounded down."""
    d = max(int(dur), 1)
    return max(x for x in DURATIONS if x <= d)


def control_token(name: str, value: Any) -> str:
    """``KEY_7``, ``MODE_any`` … for one control value (``None`` → ``*_any``)."""
    if value is None:
        if name == "TS":
            raise PipelineError("The meter control (TS) cannot be 'any'.")
        return f"{name}_any"
    tok = f"{name}_{value}"
    if tok not in TOKEN_ID:
        allowed = ", ".join(_control_values(name))
        raise PipelineError(f"Control {name}={value!r} is not in the vocabulary ({allowed}).")
    return tok


def encode(
    notes: Iterable[tuple[int, int, int]],
    controls: Mapping[str, Any],
    *,
    n_bars: int | None = None,
) -> list[int]:
    """Token ids of a piece (see the module docstring). ``n_bars`` defaults to the bars up to the
    last onset; notes outside 21..108 are dropped, duplicate (start, pitch) keep the longest."""
    ts = controls.get("TS")
    if ts not in BAR_16THS:
        raise PipelineError(f"Meter {ts!r} is not supported; use one of {', '.join(METERS)}.")
    bar_len = BAR_16THS[ts]
    events: dict[tuple[int, int], int] = {}
    for start, pitch, dur in notes:
        if not PITCH_MIN <= int(pitch) <= PITCH_MAX or int(start) < 0:
            continue
        key = (int(start), int(pitch))
        events[key] = max(events.get(key, 0), quantize_duration(int(dur)))
    last = max((s for s, _ in events), default=0)
    bars = n_bars if n_bars is not None else last // bar_len + 1
    if bars < 1 or last >= bars * bar_len:
        raise PipelineError(f"{bars} bars of {ts} cannot hold a note starting at 16th {last}.")
    ids = [BOS] + [TOKEN_ID[control_token(name, controls.get(name))] for name in CONTROL_ORDER]
    ids.append(SEP)
    by_bar: dict[int, list[tuple[int, int, int]]] = {}
    for (start, pitch), dur in sorted(events.items()):
        by_bar.setdefault(start // bar_len, []).append((start % bar_len, pitch, dur))
    for b in range(bars):
        ids += [BAR, TOKEN_ID[f"LEFT_{min(bars - b, MAX_LEFT)}"]]
        pos = -1
        for p, pitch, dur in by_bar.get(b, []):
            if p != pos:
                ids.append(TOKEN_ID[f"POS_{p}"])
                pos = p
            ids += [TOKEN_ID[f"PITCH_{pitch}"], TOKEN_ID[f"DUR_{dur}"]]
    ids.append(EOS)
    return ids


def _split(tok: str) -> tuple[str, str]:
    name, _, value = tok.partition("_")
    return name, value


def decode(ids: Sequence[int]) -> tuple[list[tuple[int, int, int]], dict[str, Any]]:
    """``(notes, controls)`` of a token sequence; stops at ``EOS`` (a sequence without one, e.g.
    cut by a length limit, decodes up to its end). Grammar violations raise PipelineError."""
    toks = [VOCAB[int(i)] for i in ids if int(i) != PAD]
    if not toks or toks[0] != "BOS":
        raise PipelineError("A token sequence must start with BOS.")
    controls: dict[str, Any] = {}
    for k, name in enumerate(CONTROL_ORDER, start=1):
        if k >= len(toks) or _split(toks[k])[0] != name:
            raise PipelineError(f"Token {k} must be the {name} control.")
        value = _split(toks[k])[1]
        if value == "any":
            controls[name] = None
        elif name in ("TS", "MODE"):
            controls[name] = value
        else:
            controls[name] = int(value)
    k = len(CONTROL_ORDER) + 1
    if k >= len(toks) or toks[k] != "SEP":
        raise PipelineError("The controls must be followed by SEP.")
    bar_len = BAR_16THS[controls["TS"]]
    notes: list[tuple[int, int, int]] = []
    bar, pos, pitch = -1, -1, None
    for tok in toks[k + 1 :]:
        kind, value = _split(tok)
        if pitch is not None and kind != "DUR":
            raise PipelineError(f"PITCH_{pitch} must be followed by a DUR token, not {tok}.")
        if tok == "EOS":
            break
        if tok == "BAR":
            bar, pos = bar + 1, -1
        elif kind == "LEFT":
            continue
        elif kind == "POS":
            if bar < 0 or int(value) <= pos or int(value) >= bar_len:
                raise PipelineError(f"{tok} out of order or outside a bar of {controls['TS']}.")
            pos = int(value)
        elif kind == "PITCH":
            if pos < 0 or pitch is not None:
                raise PipelineError(f"{tok} must follow a POS or a DUR token.")
            pitch = int(value)
        elif kind == "DUR":
            if pitch is None:
                raise PipelineError(f"{tok} must follow a PITCH token.")
            notes.append((bar * bar_len + pos, pitch, int(value)))
            pitch = None
        else:
            raise PipelineError(f"Unexpected token {tok} in the bars.")
    return notes, controls


def n_bars_of(ids: Sequence[int]) -> int:
    """Number of ``BAR`` tokens in a sequence."""
    return sum(1 for i in ids if int(i) == BAR)
