"""The one emotion vocabulary of Affect Studio: labels, VAD points, blends and their mappings.

Every tab, request, database column and test takes its emotion names from here (DESIGN.md §5).
An :class:`EmotionSpec` is a label, a weighted blend of labels or a raw valence-arousal-dominance
point, with an intensity 0-1. Mappings turn it into EMOPIA quadrants (music), Plutchik-8 (text
emotion models), EmpatheticDialogues labels (dialogue) and Parler/Expresso style words (speech).
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import ItemsView, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Self

Vad = tuple[float, float, float]

EMOTIONS: tuple[str, ...] = (
    "neutral", "happy", "sad", "angry", "fearful", "surprised", "disgusted", "contemptuous",
)  # fmt: skip
"""The 8 MEAD emotions (neutral plus MEAD's 7 acted emotions), in display order."""

VAD: Mapping[str, Vad] = MappingProxyType({
    "neutral": (0.0, 0.0, 0.0),
    "happy": (0.81, 0.51, 0.46),  # PELD "joy"
    "sad": (-0.63, -0.27, -0.33),
    "angry": (-0.51, 0.59, 0.25),
    "fearful": (-0.62, 0.82, -0.43),
    "surprised": (0.40, 0.67, -0.13),
    "disgusted": (-0.60, 0.35, 0.11),
    # Not in PELD - our estimate: as negative as disgust, cooler (lower arousal) than anger or
    # disgust, and the most dominant negative emotion (contempt is felt superiority), so it
    # stays distinct from both of its Plutchik parents.
    "contemptuous": (-0.55, 0.25, 0.45),
})  # fmt: skip
"""Valence, arousal, dominance anchors in [-1, 1]: PELD's, except contempt (our estimate)."""

SYNONYMS: Mapping[str, str] = MappingProxyType({
    "joy": "happy", "joyful": "happy", "happiness": "happy", "sadness": "sad", "anger": "angry",
    "fear": "fearful", "afraid": "fearful", "scared": "fearful", "surprise": "surprised",
    "disgust": "disgusted", "contempt": "contemptuous",
})  # fmt: skip
"""Words accepted for a label when parsing (PELD/MEAD/Plutchik spellings), mapped to it."""

SYNTAX = (
    "Write an emotion as a label ('happy'), a mood word ('calm', 'tense', 'nostalgic'), a blend "
    "('happy:0.7+surprised:0.3' or "
    "'happy+surprised' for equal parts) or a point 'vad:0.5,0.6,0.1' (valence,arousal,dominance "
    "in -1..1), optionally with an intensity 0-1 after '@', e.g. 'sad@0.5'."
)
"""The text syntax of :meth:`EmotionSpec.parse`, quoted in every parse error."""

_SCALE = 1_000_000  # weights are stored in millionths, so that str/parse round-trips exactly


class EmotionError(ValueError):
    """An invalid emotion label, blend, VAD point or intensity; the message says what is valid."""


def _unknown(kind: str, name: object, valid: Sequence[str], aliases: Mapping[str, str]) -> str:
    key = str(name).strip().lower()
    close = difflib.get_close_matches(key, [*valid, *aliases], n=1, cutoff=0.6)
    hint = f" — did you mean {aliases.get(close[0], close[0])!r}?" if close else "."
    return f"Unknown {kind} {name!r}{hint} Valid: {', '.join(valid)}."


def canonical_label(name: str) -> str:
    """The core label for ``name`` (case- and space-insensitive, synonyms accepted)."""
    key = name.strip().lower() if isinstance(name, str) else ""
    if key in VAD:
        return key
    if key in SYNONYMS:
        return SYNONYMS[key]
    raise EmotionError(
        _unknown("emotion", name, EMOTIONS, SYNONYMS)
        + " Mood words (calm, tender, tense, triumphant, nostalgic, ...) work as points too."
    )


def _is_mood_word(label: str) -> bool:
    return label not in VAD and label not in SYNONYMS and label in MOOD_WORDS


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise EmotionError(f"{what} must be a number, got {value!r}.")
    x = float(value)
    if not math.isfinite(x):
        raise EmotionError(f"{what} must be a finite number, got {value!r}.")
    return x


def _vad3(values: object, what: str = "A VAD point", limit: float | None = None) -> Vad:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise EmotionError(f"{what} must be 3 numbers (valence, arousal, dominance).")
    items = list(values)
    if len(items) != 3:
        raise EmotionError(f"{what} needs 3 numbers (valence, arousal, dominance), got {items}.")
    v, a, d = (_number(x, f"{what} value") for x in items)
    if limit is not None and not all(-limit <= x <= limit for x in (v, a, d)):
        raise EmotionError(f"{what} must lie in -1..1 on each axis, got ({v:g}, {a:g}, {d:g}).")
    return (v, a, d)


def _fmt(x: float) -> str:
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _dist2(p: Sequence[float], q: Sequence[float]) -> float:
    return sum((a - b) ** 2 for a, b in zip(p, q, strict=True))


def _normalise(pairs: Iterable[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    merged: dict[str, float] = {}
    try:
        for label, weight in pairs:
            w = _number(weight, f"The weight of {label!r}")
            if w < 0:
                raise EmotionError(
                    f"Emotion weights must be 0 or more, got {label}:{_fmt(w)}. "
                    "Example: 'happy:0.7+surprised:0.3'."
                )
            key = canonical_label(label)
            merged[key] = merged.get(key, 0.0) + w
    except (TypeError, ValueError) as exc:
        if isinstance(exc, EmotionError):
            raise
        raise EmotionError("Emotion weights must be (label, weight) pairs.") from exc
    total = sum(merged.values())
    if not total > 0 or not math.isfinite(total):
        raise EmotionError(
            "At least one emotion weight must be above 0 (and all finite), "
            "e.g. 'happy' or 'happy:0.7+sad:0.3'."
        )
    # Integer millionths summing exactly to 1: normalising twice changes nothing.
    units = {k: round(w / total * _SCALE) for k, w in merged.items()}
    top = max(units, key=lambda k: (units[k], -EMOTIONS.index(k)))
    units[top] += _SCALE - sum(units.values())
    ordered = sorted(
        (kv for kv in units.items() if kv[1] > 0), key=lambda kv: (-kv[1], EMOTIONS.index(kv[0]))
    )
    return tuple((k, n / _SCALE) for k, n in ordered)


def _parse_number(token: str, what: str, text: str) -> float:
    try:
        x = float(token)
    except ValueError:
        raise EmotionError(
            f"{what} must be a number, got {token!r} in {text!r}. {SYNTAX}"
        ) from None
    if not math.isfinite(x):
        raise EmotionError(f"{what} must be a finite number, got {token!r} in {text!r}.")
    return x


_DEFAULT_WEIGHTS: tuple[tuple[str, float], ...] = (("neutral", 1.0),)


@dataclass(frozen=True)
class EmotionSpec:
    """An emotion: a label or a blend of labels, or a raw VAD point, at an intensity 0-1."""

    weights: tuple[tuple[str, float], ...] = _DEFAULT_WEIGHTS
    """(label, weight) pairs; normalised to sum 1, merged, sorted by weight then EMOTIONS order.
    Empty for a VAD-point spec."""
    vad_point: tuple[float, float, float] | None = None
    """A raw (valence, arousal, dominance) point in [-1, 1] instead of labels."""
    intensity: float = 1.0
    """0-1; scales the distance from neutral (0 is neutral whatever the labels)."""

    def __post_init__(self) -> None:
        intensity = _number(self.intensity, "Emotion intensity")
        if not 0.0 <= intensity <= 1.0:
            raise EmotionError(
                f"Emotion intensity must be between 0 and 1 (e.g. 'sad@0.5'), got {intensity:g}."
            )
        object.__setattr__(self, "intensity", intensity)
        if self.vad_point is None:
            object.__setattr__(self, "weights", _normalise(self.weights))
            return
        if self.weights not in ((), _DEFAULT_WEIGHTS):
            raise EmotionError("Give an emotion as labels or as a VAD point, not both.")
        object.__setattr__(self, "weights", ())
        object.__setattr__(self, "vad_point", _vad3(self.vad_point, "A VAD point", limit=1.0))

    @classmethod
    def of(cls, label: str, intensity: float = 1.0) -> Self:
        """A single label, e.g. ``EmotionSpec.of("sad", 0.5)``."""
        return cls(weights=((label, 1.0),), intensity=intensity)

    @classmethod
    def blend(cls, weights: Mapping[str, float], intensity: float = 1.0) -> Self:
        """A blend, e.g. ``EmotionSpec.blend({"happy": 0.7, "surprised": 0.3})``."""
        if not isinstance(weights, Mapping):
            raise EmotionError(f"A blend must map labels to weights, got {weights!r}.")
        return cls(weights=tuple(weights.items()), intensity=intensity)

    @classmethod
    def from_vad(cls, v: float, a: float, d: float, intensity: float = 1.0) -> Self:
        """A raw valence, arousal, dominance point, each in [-1, 1]."""
        return cls(vad_point=(v, a, d), intensity=intensity)

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse the :data:`SYNTAX` forms: ``happy``, ``happy:0.7+surprised:0.3``, ``vad:…@0.5``."""
        if not isinstance(text, str):
            raise EmotionError(f"An emotion must be text, got {text!r}. {SYNTAX}")
        body = "".join(text.split()).lower()
        if not body:
            raise EmotionError(f"Empty emotion. {SYNTAX}")
        intensity = 1.0
        if "@" in body:
            body, _, tail = body.partition("@")
            if "@" in tail or not body:
                raise EmotionError(f"Cannot read {text!r}. {SYNTAX}")
            intensity = _parse_number(tail, "The intensity", text)
        if body.startswith("vad:"):
            parts = body[4:].split(",")
            if len(parts) != 3:
                raise EmotionError(
                    f"A VAD point needs 3 numbers (valence,arousal,dominance), got {text!r}. "
                    f"{SYNTAX}"
                )
            v, a, d = (_parse_number(p, "A VAD value", text) for p in parts)
            return cls.from_vad(v, a, d, intensity=intensity)
        terms = [t.partition(":") for t in body.split("+")]
        if any(not label for label, _, _ in terms):
            raise EmotionError(f"Cannot read {text!r}: an empty label. {SYNTAX}")
        if len({bool(sep) for _, sep, _ in terms}) > 1:
            raise EmotionError(f"Give every part of {text!r} a weight, or none. {SYNTAX}")
        if any(_is_mood_word(label) for label, _, _ in terms):
            return cls._from_words(terms, intensity, text)
        pairs = [
            (
                canonical_label(label),
                _parse_number(w, f"The weight of {label!r}", text) if s else 1.0,
            )
            for label, s, w in terms
        ]
        return cls(weights=tuple(pairs), intensity=intensity)

    @classmethod
    def _from_words(
        cls, terms: Sequence[tuple[str, str, str]], intensity: float, text: str
    ) -> Self:
        """Mood words (and labels mixed with them) as the weighted mean of their VAD points."""
        total, point = 0.0, [0.0, 0.0, 0.0]
        for label, sep, w in terms:
            weight = _parse_number(w, f"The weight of {label!r}", text) if sep else 1.0
            vad = MOOD_WORDS[label] if _is_mood_word(label) else VAD[canonical_label(label)]
            total += weight
            point = [p + weight * x for p, x in zip(point, vad, strict=True)]
        if total <= 0:
            raise EmotionError(f"The weights of {text!r} must add up to more than 0. {SYNTAX}")
        v, a, d = (round(x / total, 4) for x in point)
        return cls.from_vad(v, a, d, intensity=intensity)

    def to_string(self) -> str:
        """The canonical text form; ``EmotionSpec.parse(spec.to_string()) == spec``."""
        if self.vad_point is not None:
            body = "vad:" + ",".join(_fmt(x) for x in self.vad_point)
        elif len(self.weights) == 1:
            body = self.weights[0][0]
        else:
            body = "+".join(f"{label}:{_fmt(w)}" for label, w in self.weights)
        return body if self.intensity == 1.0 else f"{body}@{_fmt(self.intensity)}"

    def __str__(self) -> str:
        return self.to_string()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; :meth:`from_dict` rebuilds an equal spec."""
        point = None if self.vad_point is None else list(self.vad_point)
        return {"weights": dict(self.weights), "vad_point": point, "intensity": self.intensity}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from :meth:`to_dict` output, or from a plain blend ``{"happy": 0.7, …}``."""
        if not isinstance(data, Mapping):
            raise EmotionError(f"An emotion dict must be a mapping, got {data!r}.")
        fields = ("weights", "vad_point", "intensity")
        if not set(fields) & set(data):
            return cls.blend(data)
        extra = sorted(str(k) for k in set(data) - set(fields))
        if extra:
            raise EmotionError(f"Unknown emotion field(s) {extra}; valid: {', '.join(fields)}.")
        point, weights = data.get("vad_point"), data.get("weights")
        if weights is None:
            weights = () if point is not None else _DEFAULT_WEIGHTS
        if isinstance(weights, Mapping):
            weights = weights.items()
        if not isinstance(weights, list | tuple | ItemsView):
            raise EmotionError(f"Emotion weights must map labels to numbers, got {weights!r}.")
        pairs = tuple(weights)
        return cls(
            weights=pairs,
            vad_point=None if point is None else _vad3(point, "A VAD point", limit=1.0),
            intensity=data.get("intensity", 1.0),
        )

    def label_weights(self) -> tuple[tuple[str, float], ...]:
        """The label weights; a VAD-point spec counts as its nearest label."""
        if self.vad_point is not None:
            return ((nearest_label(self.vad_point), 1.0),)
        return self.weights

    @property
    def label(self) -> str:
        """The dominant label (the nearest label for a VAD-point spec)."""
        return self.label_weights()[0][0]

    @property
    def is_blend(self) -> bool:
        """Whether the spec mixes two or more labels."""
        return len(self.weights) > 1

    def vad(self) -> Vad:
        """The weighted mean of the labels' anchors (or the raw point), times intensity."""
        if self.vad_point is not None:
            point: Sequence[float] = self.vad_point
        else:
            point = [sum(w * VAD[k][i] for k, w in self.weights) for i in range(3)]
        v, a, d = (self.intensity * x for x in point)
        return (v, a, d)


def coerce(value: str | EmotionSpec | Mapping[str, Any]) -> EmotionSpec:
    """An :class:`EmotionSpec` from a spec (unchanged), its text form or a dict."""
    if isinstance(value, EmotionSpec):
        return value
    if isinstance(value, str):
        return EmotionSpec.parse(value)
    if isinstance(value, Mapping):
        return EmotionSpec.from_dict(value)
    raise EmotionError(
        f"An emotion must be text, a dict or an EmotionSpec, got {value!r}. {SYNTAX}"
    )


def label_choices() -> list[tuple[str, str]]:
    """(display name, value) pairs for dropdowns, e.g. ("Happy", "happy")."""
    return [(label.capitalize(), label) for label in EMOTIONS]


def nearest_label(vad: Sequence[float], *, exclude_neutral: bool = False) -> str:
    """The label whose anchor is nearest (Euclidean) to ``vad``; ties go to the earlier label.

    The origin is neutral, so a point close to it is ``"neutral"`` unless excluded.
    """
    point = _vad3(vad)
    labels = [e for e in EMOTIONS if not (exclude_neutral and e == "neutral")]
    return min(labels, key=lambda e: _dist2(point, VAD[e]))


def _vad_of(value: EmotionSpec | str | Sequence[float]) -> Vad:
    if isinstance(value, EmotionSpec | str):
        return coerce(value).vad()
    return _vad3(value)


# --- music: EMOPIA's Russell quadrants --------------------------------------------------------

EMOPIA_QUADRANTS: Mapping[str, str] = MappingProxyType({
    "Q1": "positive valence, high arousal: happy, excited",
    "Q2": "negative valence, high arousal: tense, angry",
    "Q3": "negative valence, low arousal: sad",
    "Q4": "positive valence, low arousal: calm",
})  # fmt: skip
"""EMOPIA's four Russell quadrants (Hung et al. 2021), as used by EmoGen."""


def emopia_quadrant(spec_or_vad: EmotionSpec | str | Sequence[float]) -> str:
    """The EMOPIA quadrant "Q1".."Q4" from the signs of the scaled valence and arousal.

    Ties: valence >= 0 counts as positive, arousal > 0 as high, so exact neutral (or any
    emotion at intensity 0) is Q4, calm.
    """
    v, a, _ = _vad_of(spec_or_vad)
    if a > 0:
        return "Q1" if v >= 0 else "Q2"
    return "Q4" if v >= 0 else "Q3"


# --- text emotion models: Plutchik's 8 basic emotions -----------------------------------------

PLUTCHIK8: tuple[str, ...] = (
    "joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation",
)  # fmt: skip
"""Plutchik's eight basic emotions, in his wheel's order (e.g. the ``nade`` text emotion model)."""

_TO_PLUTCHIK: Mapping[str, tuple[tuple[str, float], ...]] = MappingProxyType({
    "neutral": (), "happy": (("joy", 1.0),), "sad": (("sadness", 1.0),),
    "angry": (("anger", 1.0),), "fearful": (("fear", 1.0),), "surprised": (("surprise", 1.0),),
    "disgusted": (("disgust", 1.0),),
    "contemptuous": (("disgust", 0.5), ("anger", 0.5)),  # Plutchik's dyad: contempt
})  # fmt: skip


def to_plutchik(spec: EmotionSpec | str) -> dict[str, float]:
    """Scores over :data:`PLUTCHIK8`: label weight x intensity; neutral adds nothing (the rest
    of the mass to 1), contempt splits evenly into disgust and anger (Plutchik's dyad)."""
    spec = coerce(spec)
    scores = dict.fromkeys(PLUTCHIK8, 0.0)
    for label, weight in spec.label_weights():
        for name, share in _TO_PLUTCHIK[label]:
            scores[name] += weight * share * spec.intensity
    return scores


def from_plutchik(scores: Mapping[str, float]) -> EmotionSpec:
    """A spec from Plutchik-8 scores (any scale >= 0); intensity = min(1, sum of scores).

    joy, sadness, fear, surprise map to their labels. The shared part of anger and disgust,
    min(anger, disgust), becomes contempt (half taken from each). trust (no MEAD face) is a
    mild happy: 0.6 happy + 0.4 neutral; anticipation is an alert, positive expectancy
    (Plutchik's optimism = anticipation + joy): 0.4 happy + 0.3 surprised + 0.3 neutral.
    All zero gives neutral.
    """
    if not isinstance(scores, Mapping):
        raise EmotionError(f"Plutchik scores must map emotions to numbers, got {scores!r}.")
    s = dict.fromkeys(PLUTCHIK8, 0.0)
    for name, value in scores.items():
        key = name.strip().lower() if isinstance(name, str) else ""
        if key not in s:
            raise EmotionError(_unknown("Plutchik emotion", name, PLUTCHIK8, {}))
        x = _number(value, f"The score of {name!r}")
        if x < 0:
            raise EmotionError(f"Plutchik scores must be 0 or more, got {name}={x:g}.")
        s[key] += x
    total = sum(s.values())
    if total <= 0:
        return EmotionSpec()
    shared = min(s["anger"], s["disgust"])
    mass = {
        "happy": s["joy"] + 0.6 * s["trust"] + 0.4 * s["anticipation"],
        "neutral": 0.4 * s["trust"] + 0.3 * s["anticipation"],
        "surprised": s["surprise"] + 0.3 * s["anticipation"],
        "sad": s["sadness"],
        "fearful": s["fear"],
        "angry": s["anger"] - shared / 2,
        "disgusted": s["disgust"] - shared / 2,
        "contemptuous": shared,
    }
    return EmotionSpec(weights=tuple(mass.items()), intensity=min(1.0, round(total, 6)))


# --- dialogue: the 32 EmpatheticDialogues labels ----------------------------------------------

EMPATHETIC_DIALOGUES_LABELS: tuple[str, ...] = (
    "surprised", "excited", "annoyed", "proud", "angry", "sad", "grateful", "lonely",
    "impressed", "afraid", "disgusted", "confident", "terrified", "hopeful", "anxious",
    "disappointed", "joyful", "prepared", "guilty", "furious", "nostalgic", "jealous",
    "anticipating", "embarrassed", "content", "devastated", "sentimental", "caring", "trusting",
    "ashamed", "apprehensive", "faithful",
)  # fmt: skip
"""The 32 emotion labels of EmpatheticDialogues (Rashkin et al. 2019), in the dataset's order."""

ED_VAD: Mapping[str, Vad] = MappingProxyType({
    "surprised": VAD["surprised"], "excited": (0.75, 0.80, 0.40),
    "annoyed": (-0.45, 0.40, 0.05), "proud": (0.70, 0.40, 0.65), "angry": VAD["angry"],
    "sad": VAD["sad"], "grateful": (0.75, 0.20, 0.20), "lonely": (-0.60, -0.40, -0.45),
    "impressed": (0.55, 0.55, 0.0), "afraid": VAD["fearful"], "disgusted": VAD["disgusted"],
    "confident": (0.60, 0.30, 0.70), "terrified": (-0.80, 0.95, -0.65),
    "hopeful": (0.55, 0.25, 0.10), "anxious": (-0.45, 0.65, -0.35),
    "disappointed": (-0.45, -0.15, -0.25), "joyful": VAD["happy"],
    "prepared": (0.35, 0.20, 0.50), "guilty": (-0.55, 0.0, -0.40),
    "furious": (-0.75, 0.90, 0.45), "nostalgic": (-0.15, -0.30, -0.20),
    "jealous": (-0.50, 0.45, -0.05), "anticipating": (0.35, 0.55, 0.20),
    "embarrassed": (-0.50, 0.40, -0.45), "content": (0.60, -0.30, 0.30),
    "devastated": (-0.85, -0.20, -0.55), "sentimental": (0.25, -0.15, -0.05),
    "caring": (0.60, 0.05, 0.25), "trusting": (0.55, -0.10, 0.15), "ashamed": (-0.60, 0.0, -0.55),
    "apprehensive": (-0.35, 0.45, -0.30), "faithful": (0.45, -0.05, 0.30),
})  # fmt: skip
"""Our VAD estimates for the ED labels, placed around the anchors: the six that name a core
emotion sit on its anchor; intense variants lie further out (furious, terrified, devastated);
mild ones nearer the origin (annoyed, disappointed); content and trusting are calm positives."""

ED_CORE: Mapping[str, str] = MappingProxyType({
    "surprised": "surprised", "excited": "happy", "annoyed": "angry", "proud": "happy",
    "angry": "angry", "sad": "sad", "grateful": "happy", "lonely": "sad",
    "impressed": "surprised", "afraid": "fearful", "disgusted": "disgusted",
    "confident": "happy", "terrified": "fearful", "hopeful": "happy", "anxious": "fearful",
    "disappointed": "sad", "joyful": "happy", "prepared": "happy", "guilty": "sad",
    "furious": "angry", "nostalgic": "sad", "jealous": "angry", "anticipating": "happy",
    "embarrassed": "fearful", "content": "happy", "devastated": "sad", "sentimental": "happy",
    "caring": "happy", "trusting": "happy", "ashamed": "sad", "apprehensive": "fearful",
    "faithful": "happy",
})  # fmt: skip
"""The core label each ED label is shown as (our reading; contempt and neutral have no ED label)."""

MUSIC_MOODS: Mapping[str, Vad] = MappingProxyType({
    "calm": (0.45, -0.60, 0.20), "relaxed": (0.55, -0.55, 0.25), "peaceful": (0.60, -0.60, 0.25),
    "serene": (0.60, -0.65, 0.25), "soothing": (0.55, -0.55, 0.15), "tender": (0.55, -0.35, -0.05),
    "gentle": (0.45, -0.45, 0.0), "dreamy": (0.40, -0.45, -0.10), "romantic": (0.65, 0.10, 0.10),
    "cheerful": (0.80, 0.45, 0.35), "playful": (0.70, 0.55, 0.30), "lively": (0.65, 0.70, 0.35),
    "uplifting": (0.75, 0.55, 0.35), "energetic": (0.55, 0.85, 0.45),
    "triumphant": (0.80, 0.75, 0.75), "heroic": (0.60, 0.70, 0.70), "epic": (0.45, 0.80, 0.60),
    "majestic": (0.55, 0.35, 0.70), "tense": (-0.45, 0.65, -0.10), "nervous": (-0.45, 0.60, -0.35),
    "aggressive": (-0.55, 0.85, 0.60), "eerie": (-0.45, 0.45, -0.35), "dark": (-0.50, 0.20, 0.10),
    "mysterious": (-0.05, 0.30, -0.15), "melancholic": (-0.50, -0.40, -0.25),
    "melancholy": (-0.50, -0.40, -0.25), "gloomy": (-0.60, -0.45, -0.30),
    "sombre": (-0.45, -0.40, 0.0), "somber": (-0.45, -0.40, 0.0), "solemn": (-0.10, -0.35, 0.25),
    "bittersweet": (0.0, -0.20, -0.10), "bored": (-0.35, -0.65, -0.15),
    "sleepy": (0.05, -0.80, -0.20),
})  # fmt: skip
"""Words people use for music's mood, as VAD points (our estimates, placed in Russell's
quadrants by the music-emotion associations: calm/tender = +valence −arousal, tense = −valence
+arousal, triumphant = +valence +arousal +dominance, melancholic = −valence −arousal)."""

MOOD_WORDS: Mapping[str, Vad] = MappingProxyType({**ED_VAD, **MUSIC_MOODS})
"""Every word :meth:`EmotionSpec.parse` takes as a VAD point: the 32 EmpatheticDialogues labels
and :data:`MUSIC_MOODS` (core labels and their synonyms stay labels)."""

_ED_NEUTRAL_RADIUS = 0.1  # a VAD point this close to the origin reads as "content"


def to_ed_label(spec: EmotionSpec | str) -> str:
    """The ED label nearest the spec's VAD among those shown as its leading non-neutral label.

    Full-intensity labels give their namesakes (happy → "joyful", fearful → "afraid"), lower
    intensities milder ones (angry@0.5 → "annoyed"). Contempt, which no ED label is shown as,
    picks among the disgusted and angry ones ("disgusted" at full intensity). ED has no neutral
    label: neutral, or a point within 0.1 of the origin, gives "content".
    """
    spec = coerce(spec)
    point = spec.vad()
    lead = next((k for k, _ in spec.label_weights() if k != "neutral"), "neutral")
    if lead == "neutral" or _dist2(point, (0.0, 0.0, 0.0)) < _ED_NEUTRAL_RADIUS**2:
        return "content"
    cores = ("disgusted", "angry") if lead == "contemptuous" else (lead,)
    pool = [e for e in EMPATHETIC_DIALOGUES_LABELS if ED_CORE[e] in cores]
    return min(pool, key=lambda e: _dist2(point, ED_VAD[e]))


def from_ed_label(label: str) -> EmotionSpec:
    """The ED label's core label (:data:`ED_CORE`) at an intensity from its VAD point.

    Intensity = the point's projection on the core anchor / the anchor's length, clamped to
    [0.1, 1] and rounded to 2 decimals (furious → angry@1, annoyed → angry@0.71).
    """
    key = label.strip().lower() if isinstance(label, str) else ""
    if key not in ED_VAD:
        raise EmotionError(
            _unknown("EmpatheticDialogues label", label, EMPATHETIC_DIALOGUES_LABELS, {})
        )
    core = ED_CORE[key]
    anchor, point = VAD[core], ED_VAD[key]
    ratio = sum(p * q for p, q in zip(point, anchor, strict=True)) / _dist2(anchor, (0, 0, 0))
    return EmotionSpec.of(core, round(min(1.0, max(0.1, ratio)), 2))


# --- speech: Parler-TTS description words and Expresso styles ---------------------------------

EXPRESSO_STYLES: tuple[str, ...] = (
    "default", "happy", "sad", "confused", "laughing", "whisper", "enunciated", "emphasis",
)  # fmt: skip
"""Expresso's read-speech styles that the Parler-TTS Expresso fine-tune knows; "default" is none."""

PARLER_PITCH: tuple[str, ...] = (
    "very low-pitch", "low-pitch", "slightly low-pitch", "moderate pitch", "slightly high-pitch",
    "high-pitch", "very high-pitch",
)  # fmt: skip
"""Parler-TTS / Data-Speech pitch words, 7 levels, low to high."""

PARLER_RATE: tuple[str, ...] = (
    "very slowly", "slowly", "slightly slowly", "moderate speed", "slightly fast", "fast",
    "very fast",
)  # fmt: skip
"""Parler-TTS / Data-Speech speaking-rate words, 7 levels, slow to fast."""

PARLER_EXPRESSIVENESS: tuple[str, ...] = (
    "very monotone", "monotone", "slightly expressive and animated", "expressive and animated",
    "very expressive and animated",
)  # fmt: skip
"""Parler-TTS / Data-Speech expressiveness words (its "utterance_level_std" bins): 5 levels,
not 7 - these are the words Parler was trained on, monotone to animated."""

_ADJECTIVES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "neutral": ("neutral", "even"), "happy": ("happy", "bright"), "sad": ("sad", "subdued"),
    "angry": ("angry", "tense"), "fearful": ("fearful", "shaky"),
    "surprised": ("surprised", "lively"), "disgusted": ("disgusted", "grim"),
    "contemptuous": ("contemptuous", "cold"),
})  # fmt: skip
_EXPRESSO_FOR: Mapping[str, str] = MappingProxyType({"happy": "happy", "sad": "sad"})


@dataclass(frozen=True)
class StyleWords:
    """Words for a speech description (Parler-TTS) and the nearest Expresso style."""

    expresso_style: str
    """One of :data:`EXPRESSO_STYLES`; "default" where none fits."""
    adjectives: tuple[str, ...]
    """Tone words, e.g. ("angry", "tense")."""
    pitch: str
    """One of :data:`PARLER_PITCH`."""
    speaking_rate: str
    """One of :data:`PARLER_RATE`."""
    expressiveness: str
    """One of :data:`PARLER_EXPRESSIVENESS`."""

    def phrase(self) -> str:
        """A description fragment, e.g. "speaks fast with a happy, bright tone, high-pitch, …"."""
        rate = (
            "at a moderate speed" if self.speaking_rate == "moderate speed" else self.speaking_rate
        )
        article = "an" if self.adjectives[0][0] in "aeiou" else "a"
        tone = ", ".join(self.adjectives)
        return f"speaks {rate} with {article} {tone} tone, {self.pitch}, {self.expressiveness}"


def _level(score: float, vocab: Sequence[str], steps: Sequence[float]) -> str:
    """The word for a score around 0: the middle word, one step per threshold passed."""
    n = sum(abs(score) >= t for t in steps)
    return vocab[len(vocab) // 2 + (n if score > 0 else -n)]


def to_style_words(spec: EmotionSpec | str) -> StyleWords:
    """Parler/Expresso words from the spec's (intensity-scaled) VAD, following speech research:
    pitch rises with arousal and valence and falls with dominance; rate rises with arousal and
    valence; expressiveness rises with arousal (sad is flatter than neutral).
    """
    spec = coerce(spec)
    v, a, d = spec.vad()
    ranked = [k for k, _ in spec.label_weights()]
    words = list(_ADJECTIVES[ranked[0]])
    if spec.is_blend and ranked[1] != "neutral" and spec.weights[1][1] >= 0.25:
        words.append(_ADJECTIVES[ranked[1]][0])
    if spec.intensity < 0.5 and ranked[0] != "neutral":
        words[0] = f"slightly {words[0]}"
    strong = spec.intensity >= 0.3
    return StyleWords(
        expresso_style=_EXPRESSO_FOR.get(ranked[0], "default") if strong else "default",
        adjectives=tuple(words),
        pitch=_level(0.5 * a + 0.3 * v - 0.2 * d, PARLER_PITCH, (0.08, 0.25, 0.5)),
        speaking_rate=_level(0.5 * a + 0.2 * v, PARLER_RATE, (0.08, 0.25, 0.5)),
        expressiveness=_level(0.8 * a + 0.2 * abs(v), PARLER_EXPRESSIVENESS, (0.08, 0.45)),
    )
