"""The voice task: ``VoiceRequest``, ``VoiceResult`` and ``plan`` (request → what to say how).

``plan`` is shared by every voice backend: it reads the description, settles disagreements
between the description and the request's own settings (and says which won), and turns the
emotion into prosody. A description-driven backend (Parler-TTS) takes ``plan(req).description``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from pipelines.base import Request, Result, coerce_emotion, require, require_number
from pipelines.emotion import EmotionSpec
from pipelines.media import Timings
from pipelines.voice.accents import accent
from pipelines.voice.describe import (
    DescriptionParse,
    VoiceControls,
    parse_description,
    to_description,
)
from pipelines.voice.prosody import VOICE_PRESETS, Prosody, prosody_for
from pipelines.voice.text import MAX_CHARS, validate

DEFAULT_ACCENT = "us"
DEFAULT_VOICE = "joe"


@dataclass(frozen=True)
class VoiceRequest(Request):
    """Text → emotional, accented speech."""

    task: ClassVar[str] = "voice"
    text: str = "Hello there."
    """What to say: English (Latin script), Hindi (Devanagari) or both mixed."""
    emotion: EmotionSpec = EmotionSpec()
    """Label, blend or VAD point with intensity; neutral lets a description choose."""
    accent: str = DEFAULT_ACCENT
    """One of ``pipelines.voice.accents.ACCENTS`` (aliases such as "British" accepted)."""
    voice: str = DEFAULT_VOICE
    """A speaker preset of the backend ("joe", "joe-light")."""
    description: str = ""
    """Optional Parler-style voice description; see ``plan`` for what wins."""
    rate: float = 1.0
    """Speed factor on top of the emotion's (0.5-2)."""
    pitch: float = 0.0
    """Semitones on top of the emotion's (-12..12)."""
    check_intelligibility: bool = False
    """Also transcribe the result with pocketsphinx and report the word error rate, and rate its
    naturalness with DNSMOS (SIG/BAK/OVRL/P.808) when ``speechmos`` is installed."""
    auto_emotion: bool = False
    """Read the emotion and its intensity from the text (the dialogue understanding model,
    :mod:`pipelines.voice.auto`) instead of ``emotion``, which must then stay neutral."""

    def __post_init__(self) -> None:
        super().__post_init__()
        problem = validate(self.text)
        require(not problem, problem)
        object.__setattr__(self, "emotion", coerce_emotion(self.emotion))
        require(isinstance(self.accent, str), f"Accent must be a name, got {self.accent!r}.")
        object.__setattr__(self, "accent", accent(self.accent).name)
        require(
            self.voice in VOICE_PRESETS,
            f"Unknown voice {self.voice!r}. Valid voices: {', '.join(VOICE_PRESETS)}.",
        )
        require(isinstance(self.description, str), "The description must be text.")
        parse_description(self.description)  # raises on a too-long description
        object.__setattr__(self, "rate", require_number("Rate", self.rate, 0.5, 2.0))
        object.__setattr__(self, "pitch", require_number("Pitch", self.pitch, -12.0, 12.0))
        require(
            isinstance(self.check_intelligibility, bool),
            "check_intelligibility must be true or false.",
        )
        require(isinstance(self.auto_emotion, bool), "auto_emotion must be true or false.")
        require(
            not self.auto_emotion or self.emotion == EmotionSpec(),
            f"Choose an emotion or 'auto' (read from the text), not both (got {self.emotion}).",
        )

    @classmethod
    def example(cls, seed: int = 0) -> Self:
        return cls(text="Hello there, how are you?", emotion=EmotionSpec.of("happy"), seed=seed)

    @classmethod
    def bad_examples(cls) -> list[dict[str, Any]]:
        return [
            {"text": ""},
            {"text": "?! ... 🙂🎉"},
            {"text": "word " * (MAX_CHARS // 4)},
            {"text": "你好 world"},
            {"accent": "klingon"},
            {"emotion": "hapy"},
            {"voice": "nobody"},
            {"rate": 5},
            {"pitch": 40},
            {"description": "x" * 2000},
            {"seed": -1},
            {"auto_emotion": True, "emotion": "happy"},
            {"nonsense_field": 1},
        ]


@dataclass
class VoiceResult(Result):
    """Audio plus its phoneme and word timings."""

    alignment: Timings = field(default_factory=Timings)


@dataclass(frozen=True)
class Plan:
    """What a backend does with a request, after the description is settled."""

    emotion: EmotionSpec
    accent: str
    voice: str
    prosody: Prosody
    controls: VoiceControls
    parse: DescriptionParse
    notes: tuple[str, ...]
    description: str
    """The Parler description: the user's own, untouched, or one built from the settings."""
    reading: dict[str, Any] | None = None
    """For emotion "auto": what the understanding model read from the text."""

    def metadata(self) -> dict[str, Any]:
        extra = {} if self.reading is None else {"emotion_read": self.reading}
        return {
            **extra,
            "emotion": str(self.emotion),
            "accent": self.accent,
            "voice": self.voice,
            "prosody": self.prosody.to_dict(),
            "description_parse": [list(m) for m in self.parse.matched],
            "description_summary": self.parse.summary(),
            "notes": list(self.notes),
            "description": self.description,
        }


def plan(req: VoiceRequest) -> Plan:
    """Settle emotion, accent and voice between the settings and the description.

    Rule: a setting left at its default (neutral emotion, US accent, voice "joe") yields to the
    description; a setting the user changed wins, and the notes say so.
    """
    parse = parse_description(req.description) if req.description.strip() else DescriptionParse()
    c = parse.controls
    notes = list(parse.notes)
    emotion, accent_name, voice = req.emotion, req.accent, req.voice
    reading = None
    if req.auto_emotion:
        from pipelines.voice.auto import describe, read_emotion

        emotion, reading = read_emotion(req.text)
        notes.append(describe(reading))
    if c.emotion is not None:
        if emotion == EmotionSpec():
            emotion = c.emotion
            notes.append(f"Emotion from the description: {c.emotion}.")
        elif c.emotion.label != emotion.label:
            notes.append(
                f"The description says {c.emotion.label!r} but the emotion setting is "
                f"{emotion.label!r}: the emotion setting wins."
            )
    if c.accent is not None and c.accent != req.accent:
        if req.accent == DEFAULT_ACCENT:
            accent_name = c.accent
            notes.append(f"Accent from the description: {accent(c.accent).title}.")
        else:
            notes.append(
                f"The description asks for {accent(c.accent).title} but the accent setting is "
                f"{accent(req.accent).title}: the accent setting wins."
            )
    if c.gender == "female" and req.voice == DEFAULT_VOICE:
        voice = "joe-light"
        notes.append(
            "The bundled voice is male; for 'female' the lighter preset joe-light is used: "
            "the male voice shifted up (formants +12 %, pitch +7 semitones)."
        )
    elif c.gender == "male" and req.voice == "joe-light":
        notes.append("The description says male but the voice joe-light was chosen: it wins.")
    prosody, more = prosody_for(emotion, c, pitch=req.pitch, rate=req.rate, voice=voice)
    notes.extend(more)
    text = req.description.strip() or to_description(emotion, accent_name, c)
    return Plan(emotion, accent_name, voice, prosody, c, parse, tuple(notes), text, reading)
