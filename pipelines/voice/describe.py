"""Voice descriptions in Parler-TTS's vocabulary: text → controls, and controls → text.

``parse_description`` reads a free-text description ("A female speaker with a slightly
low-pitched voice speaks quite fast and sadly, with an Indian accent, in a very noisy room") into
:class:`VoiceControls`. ``resolve`` merges them with the request's own settings and says which
wins where they disagree. ``to_description`` goes the other way, for backends driven by a
description (Parler-TTS): emotion, accent and controls become Parler's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from pipelines.base import PipelineError
from pipelines.emotion import (
    EMPATHETIC_DIALOGUES_LABELS,
    PARLER_EXPRESSIVENESS,
    PARLER_PITCH,
    PARLER_RATE,
    EmotionError,
    EmotionSpec,
    canonical_label,
    from_ed_label,
    to_style_words,
)
from pipelines.voice.accents import ACCENTS, ALIASES, accent

MAX_DESCRIPTION = 1000

NOISE_WORDS = ("very noisy", "noisy", "slightly noisy", "balanced", "slightly clean", "clean",
               "very clean")  # fmt: skip
"""Parler/Data-Speech noise levels, noisy to clean (−3 … +3)."""
REVERB_WORDS = ("very distant-sounding", "distant-sounding", "slightly distant-sounding",
                "moderate reverberation", "slightly close-sounding", "close-sounding",
                "very close-sounding")  # fmt: skip
"""Parler/Data-Speech reverberation levels, distant to close (−3 … +3)."""

_EXTRA: dict[str, dict[str, int]] = {
    "pitch": {"deep": -2, "low-pitched": -2, "low pitched": -2, "high-pitched": 2,
              "high pitched": 2, "squeaky": 3, "slightly low-pitched": -1,
              "slightly high-pitched": 1, "very low-pitched": -3, "very high-pitched": 3,
              "low": -2, "high": 2},
    "rate": {"slow": -2, "quickly": 2, "quick": 2, "rapidly": 3, "fast-paced": 2,
             "leisurely": -2, "hurried": 2, "very slow": -3, "slightly slow": -1},
    "expressiveness": {"flat": -2, "monotonous": -2, "monotone voice": -2, "animated": 1,
                       "expressive": 1, "very expressive": 2, "expressively": 1,
                       "very expressively": 2, "monotonously": -2, "lively": 1, "dramatic": 2},
    "noise": {"noisy": -2, "clean": 2, "clear": 2},
    "reverb": {"echoey": -2, "echo": -2, "reverberant": -2, "distant": -2, "close": 2,
               "confined": 2, "intimate": 2},
}  # fmt: skip
_GENDER = {"female": "female", "woman": "female", "girl": "female", "her": "female",
           "she": "female", "lady": "female", "male": "male", "man": "male", "boy": "male",
           "his": "male", "he": "male", "gentleman": "male"}  # fmt: skip
_SOFT = {"slightly": 0.4, "a bit": 0.4, "a little": 0.4, "somewhat": 0.5, "mildly": 0.4,
         "quite": 0.7, "very": 1.0, "extremely": 1.0, "really": 1.0}  # fmt: skip


def _vocab(words: tuple[str, ...], centre: int) -> dict[str, int]:
    return {w: i - centre for i, w in enumerate(words)}


_LEVELS: dict[str, dict[str, int]] = {
    "pitch": {**_EXTRA["pitch"], **_vocab(PARLER_PITCH, 3)},
    "rate": {**_EXTRA["rate"], **_vocab(PARLER_RATE, 3)},
    "expressiveness": {**_EXTRA["expressiveness"], **_vocab(PARLER_EXPRESSIVENESS, 2)},
    "noise": {**_EXTRA["noise"], **_vocab(NOISE_WORDS, 3)},
    "reverb": {**_EXTRA["reverb"], **_vocab(REVERB_WORDS, 3)},
}


@dataclass(frozen=True)
class VoiceControls:
    """Controls a description sets; None where it says nothing."""

    gender: str | None = None
    pitch: int | None = None
    """−3 (very low) … +3 (very high), :data:`PARLER_PITCH` order."""
    rate: int | None = None
    """−3 (very slowly) … +3 (very fast), :data:`PARLER_RATE` order."""
    expressiveness: int | None = None
    """−2 (very monotone) … +2 (very expressive), :data:`PARLER_EXPRESSIVENESS` order."""
    noise: int | None = None
    """−3 (very noisy) … +3 (very clean)."""
    reverb: int | None = None
    """−3 (very distant-sounding) … +3 (very close-sounding)."""
    accent: str | None = None
    """An accent name from :data:`pipelines.voice.accents.ACCENTS`."""
    emotion: EmotionSpec | None = None


@dataclass(frozen=True)
class DescriptionParse:
    """What a description was read as: the controls, the phrases that set them, and notes."""

    controls: VoiceControls = field(default_factory=VoiceControls)
    matched: tuple[tuple[str, str], ...] = ()
    """(phrase in the description, what it set), in reading order."""
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for the UI, e.g. "pitch: high-pitch (+2) · emotion: sad@0.4"."""
        return " · ".join(meaning for _, meaning in self.matched) or "nothing recognised"


def _emotion_word(word: str) -> str | None:
    for cand in (word, re.sub(r"ily$", "y", word), re.sub(r"ly$", "", word)):
        try:
            return canonical_label(cand)
        except EmotionError:
            if cand in EMPATHETIC_DIALOGUES_LABELS:
                return cand
    return None


def parse_description(text: str) -> DescriptionParse:
    """Read a Parler-style description into controls (unknown words are ignored)."""
    if not isinstance(text, str):
        raise PipelineError(f"A voice description must be text, got {text!r}.")
    if len(text) > MAX_DESCRIPTION:
        raise PipelineError(
            f"The voice description is {len(text)} characters; keep it under {MAX_DESCRIPTION}."
        )
    low = " " + re.sub(r"[^\w\s'-]", " ", text.lower()) + " "
    found: list[tuple[int, str, str, object]] = []  # (position, kind, phrase, value)
    taken = [False] * len(low)
    for kind, vocab in _LEVELS.items():
        for phrase in sorted(vocab, key=len, reverse=True):
            for m in re.finditer(rf"(?<=[\s]){re.escape(phrase)}(?=[\s])", low):
                if not any(taken[m.start() : m.end()]):
                    taken[m.start() : m.end()] = [True] * (m.end() - m.start())
                    found.append((m.start(), kind, phrase, vocab[phrase]))
    for m in re.finditer(r"[a-z][a-z'-]*", low):
        word, pos = m.group(), m.start()
        if any(taken[m.start() : m.end()]):
            continue
        prev = low[max(0, pos - 12) : pos].split()
        if word in _GENDER:
            found.append((pos, "gender", word, _GENDER[word]))
        elif word in ACCENTS or word in ALIASES:
            found.append((pos, "accent", word, accent(word).name))
        elif (label := _emotion_word(word)) and not (prev and prev[-1] in ("not", "never")):
            spec = (
                from_ed_label(label) if label in EMPATHETIC_DIALOGUES_LABELS else None
            ) or EmotionSpec.of(label)
            soft = next((v for k, v in _SOFT.items() if low[:pos].rstrip().endswith(k)), None)
            if soft is not None:
                spec = replace(spec, intensity=min(spec.intensity, soft))
            found.append((pos, "emotion", word, spec))
    return _collect(sorted(found, key=lambda f: f[0]))


def _collect(found: list[tuple[int, str, str, object]]) -> DescriptionParse:
    values: dict[str, object] = {}
    matched: list[tuple[str, str]] = []
    notes: list[str] = []
    emotions: list[EmotionSpec] = []
    for _, kind, phrase, value in found:
        if kind == "emotion" and isinstance(value, EmotionSpec):
            if all(e.label != value.label for e in emotions):
                emotions.append(value)
                matched.append((phrase, f"emotion: {value}"))
            continue
        if values.get(kind) == value:
            continue
        if kind in values and values[kind] != value:
            notes.append(f"The description says {phrase!r} after another {kind}; the first wins.")
            continue
        values.setdefault(kind, value)
        shown = f"{value:+d}" if isinstance(value, int) else str(value)
        matched.append((phrase, f"{kind}: {phrase} ({shown})"))
    emotion = None
    if emotions:
        weights = {e.label: 1.0 for e in emotions}
        intensity = max(e.intensity for e in emotions)
        emotion = EmotionSpec.blend(weights, intensity=intensity)
    controls = VoiceControls(emotion=emotion, **values)  # type: ignore[arg-type]
    return DescriptionParse(controls, tuple(matched), tuple(notes))


def to_description(
    emotion: EmotionSpec | str,
    accent_name: str = "us",
    controls: VoiceControls | None = None,
    gender: str = "male",
) -> str:
    """A Parler-TTS description of the request: explicit control levels win over the
    emotion's words (for backends driven by descriptions)."""
    c = controls or VoiceControls()
    words = to_style_words(emotion)
    pitch = PARLER_PITCH[c.pitch + 3] if c.pitch is not None else words.pitch
    rate = PARLER_RATE[c.rate + 3] if c.rate is not None else words.speaking_rate
    expr = (
        PARLER_EXPRESSIVENESS[c.expressiveness + 2]
        if c.expressiveness is not None
        else words.expressiveness
    )
    styled = replace(words, pitch=pitch, speaking_rate=rate, expressiveness=expr)
    who = c.gender or gender
    title = accent(c.accent or accent_name).title
    noise = NOISE_WORDS[c.noise + 3] if c.noise is not None else "very clean"
    reverb = REVERB_WORDS[c.reverb + 3] if c.reverb is not None else "very close-sounding"
    return (
        (
            f"A {who} speaker with an {title} accent {styled.phrase()}. "
            f"The recording is {reverb} with {noise} audio."
        )
        .replace("an British", "a British")
        .replace("an Scottish", "a Scottish")
    )
