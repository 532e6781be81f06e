"""Study designs and trial plans: who rates what, in which order (pure, seeded, stable).

A study shows each participant a list of stimulus items. With ``per_participant`` K below the
set size N, lists are balanced: the items are shuffled once (study seed) and dealt round-robin,
so every item is rated by r or r + 1 participants and nobody sees an item twice. Each
participant's order is a permutation seeded by (study seed, participant code): the same on
every reload and after a restart, different between participants.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pipelines.base import PipelineError
from pipelines.emotion import EMOTIONS, EmotionError, EmotionSpec

DESIGNS: dict[str, str] = {
    "emotion-id": "forced choice among the 8 emotions + other",
    "mos": "5-point absolute category rating (ITU-T P.800/P.808)",
    "ab": "A/B preference, -3..+3 (CCR), pair order randomised and the sign corrected",
    "mushra": "several conditions of one content on a page, 0-100 sliders",
    "va": "valence-arousal point in [-1, 1]^2",
    "transcribe": "type what you heard (WER per item)",
}
ID_CHOICES: tuple[str, ...] = (*EMOTIONS, "other")
"""Answers of an emotion-identification trial."""


def check_design(design: str) -> str:
    if design not in DESIGNS:
        raise PipelineError(f"Design must be one of {', '.join(DESIGNS)}, got {design!r}.")
    return design


def _stream(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def assign(
    items: Sequence[int], participants: int, per_participant: int | None, seed: int
) -> list[list[int]]:
    """Each participant's items (unordered), balanced: every item r or r + 1 times."""
    n = len(items)
    if n == 0:
        raise PipelineError("The stimulus set has no included items to rate.")
    if participants < 1:
        raise PipelineError("A study needs at least one participant.")
    k = n if per_participant is None else int(per_participant)
    if not 1 <= k <= n:
        raise PipelineError(f"Items per participant must be 1 to {n} (the set's size), got {k}.")
    deck = [items[i] for i in _stream("deal", seed).permutation(n)]
    return [[deck[(p * k + j) % n] for j in range(k)] for p in range(participants)]


def order(items: Sequence[int], seed: int, participant: str) -> list[int]:
    """A participant's trial order: stable for (study seed, participant code)."""
    perm = _stream("order", seed, participant).permutation(len(items))
    return [items[i] for i in perm]


def truth_of(factors: Mapping[str, Any]) -> str | None:
    """The intended emotion label of an item (its ``emotion`` factor), if it has one."""
    value = factors.get("emotion")
    if not isinstance(value, str):
        return None
    try:
        return EmotionSpec.parse(value).label
    except EmotionError:
        return None


def parse_answer(design: str, raw: object) -> object:
    """A participant's (or an imported) answer, checked for the design."""
    check_design(design)
    if design == "emotion-id":
        label = str(raw).strip().lower()
        aliases = {"fear": "fearful", "surprise": "surprised", "disgust": "disgusted",
                   "anger": "angry", "contempt": "contemptuous", "happiness": "happy",
                   "sadness": "sad", "joy": "happy"}  # fmt: skip
        label = aliases.get(label, label)
        if label not in ID_CHOICES:
            raise PipelineError(f"Answer {raw!r} is not one of {', '.join(ID_CHOICES)}.")
        return label
    if design in ("mos", "ab", "mushra"):
        low, high = {"mos": (1, 5), "ab": (-3, 3), "mushra": (0, 100)}[design]
        try:
            value = float(str(raw).strip())
        except ValueError:
            raise PipelineError(f"Answer {raw!r} is not a number from {low} to {high}.") from None
        if not low <= value <= high:
            raise PipelineError(f"Answer {value:g} is outside {low}..{high}.")
        return value
    if design == "va":
        parts = str(raw).replace(";", ",").split(",")
        try:
            v, a = (float(p) for p in parts)
        except ValueError:
            raise PipelineError(f"Answer {raw!r} is not 'valence,arousal'.") from None
        if not (-1 <= v <= 1 and -1 <= a <= 1):
            raise PipelineError(f"Answer {raw!r} is outside [-1, 1] x [-1, 1].")
        return [v, a]
    return " ".join(str(raw).split())


ATTENTION: dict[str, tuple[str, object]] = {
    "emotion-id": ("Attention check: whatever you hear, please answer “other”.", "other"),
    "mos": ("Attention check: whatever you hear, please answer “1 Bad”.", 1.0),
    "ab": ("Attention check: please answer -3.", -3.0),
    "mushra": ("Attention check: please answer 0.", 0.0),
    "va": ("Attention check: please answer 0,0.", [0.0, 0.0]),
    "transcribe": ("Attention check: please type the word “blue”.", "blue"),
}
"""Per design: what an attention-check trial asks, and the answer it expects."""


def with_attention_checks(
    items: Sequence[int], rate: float, seed: int, participant: str, design: str
) -> tuple[list[int], dict[int, object]]:
    """``items`` with attention-check trials inserted (about ``rate`` × the list, at least one
    when ``rate`` > 0) at seeded places, each replaying one of the participant's own items;
    returns the list and {position: expected answer}."""
    check_design(design)
    if not 0.0 <= rate <= 0.5:
        raise PipelineError(f"Attention-check rate must be 0 to 0.5, got {rate:g}.")
    out = list(items)
    if rate == 0 or not out:
        return out, {}
    count = max(1, round(rate * len(out)))
    gen = _stream("attention", seed, participant)
    places = sorted(int(p) for p in gen.choice(len(out) + count, size=count, replace=False))
    for place in places:
        out.insert(place, out[int(gen.integers(len(out)))])
    expected = ATTENTION[design][1]
    return out, {place: expected for place in places}


def passed_check(design: str, expected: object, answer: object) -> bool:
    """Whether an attention check's answer is the one it asked for."""
    if design == "transcribe":
        return str(answer).strip().lower().strip(".!") == str(expected)
    return answer == expected
