"""Grammar-constrained sampling of pieces from the learned decoder (vocabulary: :mod:`.vocab`).

Every step masks the logits to the tokens the grammar allows next, so each candidate is a
well-formed piece of exactly the planned length: after ``SEP`` comes ``BAR``; after ``BAR`` the
only legal ``LEFT_n`` is the planned count of bars left; positions rise within a bar and stay
inside the meter's bar (the last bar may be shorter); ``PITCH`` is always followed by ``DUR``,
and pitches of one position rise (at most ``voices`` of them); ``EOS`` is legal only in the last
bar once it holds a note, and ``BAR`` only before it. The n candidates of one request are
decoded together (one batch); when a row's context is full, the row goes on from a new window:
its controls and its latest bars.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipelines.base import CancelToken, PipelineError, rng
from pipelines.music.learned import vocab as V
from pipelines.music.learned.runtime import EmoGenModel, sample

_POS0 = V.TOKEN_ID["POS_0"]
_PITCH0 = V.TOKEN_ID[f"PITCH_{V.PITCH_MIN}"]
_N_PITCH = V.PITCH_MAX - V.PITCH_MIN + 1
_DUR = [V.TOKEN_ID[f"DUR_{d}"] for d in V.DURATIONS]
_KIND = {i: V.VOCAB[i].partition("_")[0] for i in range(len(V.VOCAB))}


@dataclass(frozen=True)
class Plan:
    """The shape every candidate must have."""

    meter: str
    bars: int
    last_bar: int
    """16ths of the last bar that may hold onsets (the piece ends after them)."""
    voices: int = 1
    """Most pitches per position (1: a monophonic line)."""

    def __post_init__(self) -> None:
        bar = V.BAR_16THS[self.meter]
        if self.bars < 1 or not 1 <= self.last_bar <= bar or not 1 <= self.voices <= 4:
            raise PipelineError(f"Impossible plan {self}.")


@dataclass
class Grammar:
    """Which tokens may come next in one row (see the module docstring)."""

    plan: Plan
    bar: int = -1
    pos: int = -1
    pitch: int = -1
    """The last pitch at the current position (-1: none yet)."""
    voices_here: int = 0
    events_in_bar: int = 0
    expect: str = "BAR"
    """"BAR", "LEFT", "free" (after LEFT or DUR), "PITCH" (after POS), "DUR", "done"."""

    def allowed(self) -> np.ndarray:
        mask = np.zeros(len(V.VOCAB), dtype=bool)
        p = self.plan
        if self.expect == "done":
            mask[V.EOS] = True
        elif self.expect == "BAR":
            mask[V.BAR] = True
        elif self.expect == "LEFT":
            mask[V.TOKEN_ID[f"LEFT_{min(p.bars - self.bar, V.MAX_LEFT)}"]] = True
        elif self.expect == "PITCH":
            mask[_PITCH0 : _PITCH0 + _N_PITCH] = True
        elif self.expect == "DUR":
            mask[_DUR] = True
        else:
            last = self.bar == p.bars - 1
            limit = p.last_bar if last else V.BAR_16THS[p.meter]
            mask[_POS0 + self.pos + 1 : _POS0 + limit] = True
            if self.pos >= 0 and self.voices_here < p.voices:
                lo = self.pitch + 1 - V.PITCH_MIN
                mask[_PITCH0 + lo : _PITCH0 + _N_PITCH] = True
            if not last:
                mask[V.BAR] = True
            elif self.events_in_bar:
                mask[V.EOS] = True
        return mask

    def push(self, tok: int) -> None:
        kind = _KIND[tok]
        if kind == "BAR":
            self.bar, self.pos, self.events_in_bar, self.expect = self.bar + 1, -1, 0, "LEFT"
        elif kind == "LEFT":
            self.expect = "free"
        elif kind == "POS":
            self.pos = int(V.VOCAB[tok][4:])
            self.pitch, self.voices_here, self.expect = -1, 0, "PITCH"
            self.events_in_bar += 1
        elif kind == "PITCH":
            self.pitch = int(V.VOCAB[tok][6:])
            self.voices_here += 1
            self.expect = "DUR"
        elif kind == "DUR":
            self.expect = "free"
        elif kind == "EOS":
            self.expect = "done"
        else:
            raise PipelineError(f"Token {V.VOCAB[tok]} is not part of the bars.")


@dataclass
class Candidate:
    """One sampled piece."""

    tokens: list[int]
    """The whole sequence: BOS, controls, SEP, bars, EOS."""
    logprob: float = 0.0
    """Sum of the sampled tokens' log-probabilities (forced tokens add 0)."""
    notes: list[tuple[int, int, int]] = field(default_factory=list)
    """(start 16th, pitch, duration 16ths), from :func:`.vocab.decode`."""


def prompt_ids(controls: Mapping[str, Any]) -> list[int]:
    """BOS, the control tokens in order, SEP."""
    ids = [V.BOS] + [V.TOKEN_ID[V.control_token(n, controls.get(n))] for n in V.CONTROL_ORDER]
    return [*ids, V.SEP]


def scale_bias(tonic: int, mode: str, strength: float) -> np.ndarray:
    """Logit bias (V,): ``-strength`` on the PITCH tokens outside the key's scale (in minor the
    natural minor plus the leading tone), 0 elsewhere — soft steering toward the key."""
    steps = (0, 2, 4, 5, 7, 9, 11) if mode == "major" else (0, 2, 3, 5, 7, 8, 10, 11)
    scale = {(tonic + x) % 12 for x in steps}
    out = np.zeros(len(V.VOCAB), dtype=np.float32)
    for m in range(V.PITCH_MIN, V.PITCH_MAX + 1):
        if m % 12 not in scale:
            out[_PITCH0 + m - V.PITCH_MIN] = -strength
    return out


def _cadence(g: Grammar, tonic: int, nats: float) -> np.ndarray:
    out = np.zeros(len(V.VOCAB), dtype=np.float32)
    if g.bar != g.plan.bars - 1 or g.expect not in ("free", "PITCH"):
        return out
    for m in range(V.PITCH_MIN + (tonic - V.PITCH_MIN) % 12, V.PITCH_MAX + 1, 12):
        out[_PITCH0 + m - V.PITCH_MIN] = nats / 2
    if g.expect == "free" and g.events_in_bar:
        out[V.EOS] = nats if g.pitch % 12 == tonic else -nats
    return out


def _window(prompt: list[int], bars: list[int], room: int) -> list[int]:
    """The prompt and the latest whole bars of ``bars`` that fit half of ``room`` (at least
    the current bar)."""
    starts = [i for i, t in enumerate(bars) if t == V.BAR]
    for s in starts:
        if len(prompt) + len(bars) - s <= room // 2:
            return prompt + bars[s:]
    tail = prompt + bars[starts[-1] :]
    if len(tail) >= room:
        raise PipelineError("One bar does not fit the model's context.")
    return tail


def generate(
    model: EmoGenModel,
    controls: Mapping[str, Any],
    plan: Plan,
    *,
    n: int,
    seed: int,
    temperature: float = 1.0,
    top_p: float = 0.95,
    bias: np.ndarray | None = None,
    cadence: tuple[int, float] | None = None,
    cancel: CancelToken | None = None,
    progress: Callable[[float], None] | None = None,
) -> list[Candidate]:
    """``n`` grammatical pieces for ``controls`` and ``plan``, decoded as one batch; seeded.
    ``bias`` (V,) is added to every step's logits (e.g. :func:`scale_bias`). ``cadence``
    (tonic pitch class, nats) steers the last bar toward ending on the tonic: its tonic pitches
    gain half the nats, and EOS gains them after a tonic and loses them after any other note."""
    if model.vocab != V.VOCAB:
        raise PipelineError(
            f"{model.name} was trained with another token vocabulary than this version of the "
            "studio reads; train it again with `launch.py music-train`."
        )
    if controls.get("TS") != plan.meter:
        raise PipelineError(f"The meter control {controls.get('TS')} differs from the plan.")
    gen = rng(seed, "emogen-sample")
    prompt = prompt_ids(controls)
    cache = model.new_cache(n)
    first = model.fill(cache, 0, prompt)
    for r in range(1, n):
        cache.k[:, r], cache.v[:, r] = cache.k[:, 0], cache.v[:, 0]
    cache.length[:] = len(prompt)
    logits = np.repeat(first[None], n, axis=0)
    grammars = [Grammar(plan) for _ in range(n)]
    bars: list[list[int]] = [[] for _ in range(n)]
    logprob = np.zeros(n)
    steps = 0
    while True:
        allowed = np.stack([g.allowed() for g in grammars])
        live = np.array([g.expect != "done" for g in grammars])
        if bias is not None:
            logits = logits + bias
        if cadence is not None:
            logits = logits + np.stack([_cadence(g, *cadence) for g in grammars])
        pick, lp = sample(logits, allowed, gen, temperature=temperature, top_p=top_p)
        logprob += np.where(live, lp, 0.0)
        for r in np.flatnonzero(live).tolist():
            grammars[r].push(int(pick[r]))
            bars[r].append(int(pick[r]))
        if all(g.expect == "done" for g in grammars):
            break
        steps += 1
        if steps % 32 == 0:
            if cancel is not None:
                cancel.raise_if_cancelled()
            if progress is not None:
                progress(max(g.bar for g in grammars) / plan.bars)
        for r in range(n):
            if grammars[r].expect == "done":
                cache.length[r] = min(int(cache.length[r]), cache.room - 1)  # idle row
            elif cache.length[r] >= cache.room:
                model.fill(cache, r, _window(prompt, bars[r][:-1], cache.room))
        logits = model.step(pick, cache)
    out = []
    for r in range(n):
        tokens = prompt + bars[r]
        notes, _ = V.decode(tokens)
        out.append(Candidate(tokens, float(logprob[r]), notes))
    return out
