"""Study designs and trial plans: who rates what, in which order (pure, seeded, stable).

A study shows each participant a list of stimulus items. With ``per_participant`` K below the
set size N, lists are balanced: the items are shuffled once (study seed) and dealt round-robin,
so every item is rated by r or r + 1 participants and nobody sees an item twice. Each
participant's order is a permutation seeded by (study seed, participant code): the same on
every reload and after a restart, different between participants.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from pipelines.base import PipelineError
from pipelines.emotion import EMOTIONS, EmotionError, EmotionSpec
from pipelines.voice.measure import wer

T = TypeVar("T")

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


def parse_answer(design: str, raw: object, count: int | None = None) -> object:
    """A participant's (or an imported) answer, checked for the design. A MUSHRA page answers
    with ``count`` scores (one per condition shown); an imported MUSHRA row with one."""
    check_design(design)
    if design == "mushra" and isinstance(raw, list | tuple):
        if count is not None and len(raw) != count:
            raise PipelineError(f"Rate all {count} conditions (got {len(raw)} scores).")
        return [parse_answer(design, v) for v in raw]
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


ASK: dict[str, dict[str, str]] = {
    "emotion-id": {
        "intensity": "How intense was the emotion? (1 very weak - 5 very strong)",
        "confidence": "How sure are you of your answer? (1 guessing - 5 certain)",
    },
    "mos": {
        "strength": "How strongly did it express its emotion? (1 not at all - 5 very strongly)"
    },
}
"""Optional 1-5 ratings a design may ask beside its answer (emotion-strength MOS for ACR)."""


def check_ask(design: str, ask: Sequence[str]) -> list[str]:
    """The extra ratings a study asks for, checked against what its design offers."""
    offered = ASK.get(check_design(design), {})
    wanted = list(dict.fromkeys(a.strip() for a in ask if a.strip()))
    unknown = [a for a in wanted if a not in offered]
    if unknown:
        valid = ", ".join(offered) or "none"
        raise PipelineError(
            f"The {design} design cannot also ask {', '.join(unknown)} (it offers: {valid})."
        )
    return wanted


def parse_response(
    design: str, raw: object, count: int | None = None, ask: Sequence[str] = ()
) -> object:
    """An answer, or with extra ratings ``{"answer": …, "<rating>": 1-5, …}``."""
    if not ask:
        return parse_answer(design, raw, count)
    if not isinstance(raw, Mapping) or "answer" not in raw:
        raise PipelineError(f"Give the answer and rate {', '.join(ask)} (1 to 5).")
    out: dict[str, object] = {"answer": parse_answer(design, raw["answer"], count)}
    for key in ask:
        try:
            value = int(str(raw.get(key, "")).strip())
        except ValueError:
            value = 0
        if not 1 <= value <= 5:
            raise PipelineError(f"Rate {key} from 1 to 5.")
        out[key] = value
    return out


def main_answer(response: object) -> object:
    """The design's own answer of a response that may carry extra ratings."""
    if isinstance(response, dict) and "answer" in response:
        return response["answer"]
    return response


ATTENTION: dict[str, tuple[str, object]] = {
    "emotion-id": ("Attention check: whatever you hear, please answer “other”.", "other"),
    "mos": ("Attention check: whatever you hear, please answer “1 Bad”.", 1.0),
    "ab": ("Attention check: please answer -3.", -3.0),
    "mushra": ("Attention check: please set every slider to 0.", 0.0),
    "va": ("Attention check: please answer 0,0.", [0.0, 0.0]),
    "transcribe": ("Attention check: please type the word “blue”.", "blue"),
}
"""Per design: what an attention-check trial asks, and the answer it expects."""


def with_attention_checks(
    items: Sequence[T], rate: float, seed: int, participant: str, design: str
) -> tuple[list[T], dict[int, object]]:
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
    """Whether a quality-control answer is right: an attention check's the one it asked for; a
    gold item's its known answer (for a transcription: at most 25 % word errors)."""
    answer = main_answer(answer)
    if is_gold(expected):
        assert isinstance(expected, dict)
        if design == "transcribe":
            return wer(str(expected["gold"]), str(answer)) <= GOLD_MAX_WER
        return bool(answer == expected["gold"])
    if design == "transcribe":
        return str(answer).strip().lower().strip(".!") == str(expected)
    if design == "mushra" and isinstance(answer, list):
        return all(v == expected for v in answer)
    return answer == expected


GOLD_MAX_WER = 0.25
GOLD_DESIGNS = ("emotion-id", "transcribe")
"""Designs whose items carry a known answer (the intended emotion; the spoken text)."""


def is_gold(check: object) -> bool:
    """Whether a trial's quality-control expectation marks a gold item."""
    return isinstance(check, dict) and "gold" in check


def gold_answer(design: str, factors: Mapping[str, Any]) -> object:
    """The known answer of an item used as a gold item."""
    if design not in GOLD_DESIGNS:
        raise PipelineError(
            f"Gold items need a known answer; the {design} design has none (use attention "
            f"checks, or a {' or '.join(GOLD_DESIGNS)} study)."
        )
    answer = truth_of(factors) if design == "emotion-id" else factors.get("text")
    if not answer:
        what = "an emotion factor" if design == "emotion-id" else "a text"
        raise PipelineError(f"A gold item needs {what}; this item has none.")
    return answer


def with_gold(
    trials: Sequence[T], gold: Sequence[tuple[T, object]], seed: int, participant: str
) -> tuple[list[T], dict[int, object]]:
    """``trials`` with every gold item (its trial and known answer) inserted at seeded places;
    returns the list and {position: {"gold": answer}}."""
    out: list[T] = list(trials)
    gen = _stream("gold", seed, participant)
    marks: list[object | None] = [None] * len(out)
    for trial, answer in gold:
        place = int(gen.integers(len(out) + 1))
        out.insert(place, trial)
        marks.insert(place, {"gold": answer})
    return out, {i: m for i, m in enumerate(marks) if m is not None}


MULTI = ("ab", "mushra")
"""Designs whose trials show several conditions of one content."""
CONTENT_FREE = ("seed",)


def compared_factor(factors: Sequence[Mapping[str, Any]], compare: str | None) -> str:
    """The factor whose values are the conditions of an A/B or MUSHRA study: ``compare``, or
    the one factor (other than text and seed) that varies across the set."""
    names = sorted({k for f in factors for k in f})
    if compare:
        if compare not in names:
            raise PipelineError(f"The set has no factor {compare!r}; it has {', '.join(names)}.")
        return compare
    varying = [
        k for k in names
        if k not in ("text", *CONTENT_FREE)
        and len({json.dumps(f.get(k), sort_keys=True) for f in factors}) > 1
    ]  # fmt: skip
    if len(varying) != 1:
        raise PipelineError(
            "Say which factor the conditions differ in (compare): the set varies in "
            f"{', '.join(varying) or 'nothing but its text'}."
        )
    return varying[0]


def comparison_units(
    items: Sequence[tuple[int, Mapping[str, Any]]], design: str, factor: str
) -> tuple[list[str], list[tuple[int, ...]]]:
    """The condition values (in the set's order) and the trials' units: for MUSHRA each
    content's items, one per condition, in condition order; for A/B every pair of conditions
    within a content. A content is all the other factors' values (text and seed included)."""
    values: list[str] = []
    groups: dict[str, dict[str, int]] = {}
    for item_id, factors in items:
        value = str(factors.get(factor))
        if value not in values:
            values.append(value)
        rest = {k: v for k, v in factors.items() if k != factor}
        groups.setdefault(json.dumps(rest, sort_keys=True, default=str), {})[value] = item_id
    ranked = [[g[v] for v in values if v in g] for g in groups.values()]
    ranked = [g for g in ranked if len(g) >= 2]
    if not ranked:
        raise PipelineError(
            f"No content has two {factor} conditions to compare; the {design} design needs them."
        )
    if design == "mushra":
        return values, [tuple(g) for g in ranked]
    return values, [(a, b) for g in ranked for i, a in enumerate(g) for b in g[i + 1 :]]


def shown_order(unit: Sequence[int], seed: int, participant: str, place: int) -> tuple[int, ...]:
    """The order a participant sees a unit's conditions in (A/B: which one is A), seeded."""
    perm = _stream("shown", seed, participant, place, *unit).permutation(len(unit))
    return tuple(unit[i] for i in perm)
