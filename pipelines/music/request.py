"""The music task's request: an emotion (→ attribute targets), a length, optional overrides."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from pipelines.base import PipelineError, Request, coerce_emotion, require, require_number
from pipelines.emotion import EmotionSpec
from pipelines.music.attributes import PITCH_NAMES
from pipelines.music.mapping import LIMITS, MODES

MIN_SECONDS = 2.0
MAX_SECONDS = 600.0
MAX_BARS = 256
DEFAULT_BARS = 8
SAMPLE_RATES = (22050, 32000, 44100, 48000)
KEY_ALIASES = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb"}


def tonic_of(key: str) -> int:
    """Pitch class of a tonic name such as "C", "F#", "Bb" (PipelineError otherwise)."""
    name = key.strip()
    name = name[:1].upper() + name[1:].lower() if name else name
    name = KEY_ALIASES.get(name, name)
    if name not in PITCH_NAMES:
        raise PipelineError(f"Unknown key {key!r}. Valid tonics: {', '.join(PITCH_NAMES)}.")
    return PITCH_NAMES.index(name)


@dataclass(frozen=True)
class MusicRequest(Request):
    """Emotion → musical attributes → a multi-track MIDI piece (+ audio, piano roll, tokens).

    Every ``None`` override means "from the emotion" (or from ``reference_midi`` when given).
    """

    task: ClassVar[str] = "music"
    emotion: EmotionSpec = EmotionSpec()
    """Label, blend or VAD point; its intensity scales the distance from neutral."""
    seconds: float | None = None
    """Length in seconds (2-600), met to within one beat. Give this or ``bars``."""
    bars: int | None = None
    """Length in 4/4 bars (1-256); default 8 when neither is given."""
    tempo: float | None = None
    """Beats per minute (30-240)."""
    mode: str | None = None
    """"major" or "minor"."""
    key: str | None = None
    """Tonic such as "C", "F#", "Bb"; None lets the seed choose."""
    density: float | None = None
    """Pitched notes per second (0.2-40)."""
    register: float | None = None
    """Mean MIDI pitch of all notes (45-80; 60 is middle C)."""
    dynamics: float | None = None
    """Mean MIDI velocity (20-120)."""
    articulation: float | None = None
    """Sounding ÷ notated note length: 1 legato … 0.3 very staccato."""
    instruments: tuple[int, ...] = ()
    """General MIDI programs 0-127 for (melody, accompaniment, bass); empty = per emotion."""
    reference_midi: Path | None = None
    """A MIDI file whose measured attributes are used instead of the emotion's."""
    corpus: Path | None = None
    """A labelled MIDI folder (EMOPIA-style Q1..Q4 or emotion-label subfolders or name
    prefixes): targets come from the real piece nearest the emotion's quadrant centre (EmoGen)."""
    model: Path | None = None
    """A learned-music checkpoint (``.npz``) for the emogen backend, e.g. one trained on your
    own MIDI in the Music tab; None = the backend's default. Other backends ignore it."""
    render: bool = True
    """Also render audio (WAV) with a General MIDI soundfont."""
    sample_rate: int = 44100
    """Audio sample rate."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "emotion", coerce_emotion(self.emotion))
        require(
            self.seconds is None or self.bars is None,
            "Give the length in seconds or in bars, not both.",
        )
        if self.seconds is not None:
            require_number("Length in seconds", self.seconds, MIN_SECONDS, MAX_SECONDS)
        if self.bars is not None:
            require(
                isinstance(self.bars, int) and not isinstance(self.bars, bool),
                f"Bars must be a whole number, got {self.bars!r}.",
            )
            require(1 <= self.bars <= MAX_BARS, f"Bars must be 1-{MAX_BARS}, got {self.bars}.")
        for name, key in (
            ("tempo", "tempo"),
            ("density", "density"),
            ("register", "register"),
            ("dynamics", "dynamics"),
            ("articulation", "articulation"),
        ):
            value = getattr(self, name)
            if value is not None:
                lo, hi = LIMITS[key]
                require_number(name.capitalize(), value, lo, hi)
        if self.mode is not None:
            require(self.mode in MODES, f"Mode must be 'major' or 'minor', got {self.mode!r}.")
        if self.key is not None:
            require(isinstance(self.key, str), f"Key must be text like 'F#', got {self.key!r}.")
            tonic_of(self.key)
        require(
            isinstance(self.instruments, tuple) and len(self.instruments) <= 3,
            "Instruments must be up to 3 General MIDI programs (melody, accompaniment, bass).",
        )
        for p in self.instruments:
            require(
                isinstance(p, int) and not isinstance(p, bool) and 0 <= p <= 127,
                f"Instrument programs must be General MIDI numbers 0-127, got {p!r}.",
            )
        for name in ("reference_midi", "corpus", "model"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, Path(value))
        if self.model is not None:
            require(
                isinstance(self.model, Path) and self.model.suffix == ".npz",
                f"The model must be a learned-music checkpoint (.npz), got {self.model!r}.",
            )
        require(isinstance(self.render, bool), "render must be true or false.")
        require(
            self.sample_rate in SAMPLE_RATES,
            f"Sample rate must be one of {', '.join(map(str, SAMPLE_RATES))}.",
        )

    @classmethod
    def example(cls, seed: int = 0) -> Self:
        return cls(emotion=EmotionSpec.of("happy"), bars=2, seed=seed, sample_rate=22050)

    @classmethod
    def bad_examples(cls) -> list[dict[str, Any]]:
        return [
            {"emotion": "hapy"},
            {"seconds": 0, "bars": None},
            {"seconds": 7200, "bars": None},
            {"bars": 0},
            {"bars": 4, "seconds": 10},
            {"tempo": 500},
            {"mode": "dorian"},
            {"key": "H"},
            {"instruments": [200]},
            {"sample_rate": 12345},
            {"model": "notes.txt"},
            {"nonsense_field": 1},
        ]
