"""The Portrait task's request and result: one photo + speech + emotion → a talking portrait."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from pipelines.base import Request, Result, coerce_emotion, require, require_number
from pipelines.emotion import EmotionSpec
from pipelines.media import FileArtifact, TimedUnit, VideoClip

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "portraits"
DEFAULT_IMAGE = ASSETS / "astronaut.jpg"
"""The bundled default portrait (NASA photo of Eileen Collins, public domain; via scikit-image)."""
SAMPLE_SPEECH = ASSETS / "sample_speech.wav"
"""A short bundled spoken sentence (espeak-ng), used by ``PortraitRequest.example``."""

MAX_AUDIO_SECONDS = 600.0
AUTO_FULL_RATIO = 2.0
"""framing "auto" keeps the whole photo while its short side is at most this × the face crop."""
FRAMINGS = ("auto", "full", "face")
SIZES = (128, 160, 192, 256, 320, 384, 448, 512, 576, 640, 720, 768, 1024)

Phoneme = tuple[str, float, float]
"""(label, start seconds, end seconds) — a JSON-able ``TimedUnit``."""


def pack_phonemes(units: Iterable[TimedUnit | Phoneme]) -> tuple[Phoneme, ...]:
    """Phoneme timings (``TimedUnit`` or tuples, e.g. from a Voice result) as request tuples."""
    out: list[Phoneme] = []
    for u in units:
        if isinstance(u, TimedUnit):
            label, start, end = u.label, u.start, u.end
        else:
            require(len(u) == 3, f"A phoneme timing must be (label, start, end), got {u!r}.")
            label, start, end = u
        require(isinstance(label, str), f"A phoneme label must be text, got {label!r}.")
        s = require_number("Phoneme start", start, 0.0, MAX_AUDIO_SECONDS)
        e = require_number("Phoneme end", end, 0.0, MAX_AUDIO_SECONDS)
        require(e >= s, f"Phoneme {label!r} ends ({e:g} s) before it starts ({s:g} s).")
        out.append((label, s, e))
    return tuple(out)


@dataclass(frozen=True)
class PortraitRequest(Request):
    """A photo that speaks an audio track with a chosen emotion."""

    task: ClassVar[str] = "portrait"
    image: Path | None = None
    """The portrait photo (any size, JPEG/PNG/WebP/…); None = the bundled default portrait."""
    audio: Path | None = None
    """Speech to lip-sync (WAV, FLAC, OGG, MP3, M4A …, ≤ 10 min); None = ``silence`` seconds of
    a still, breathing portrait."""
    silence: float = 3.0
    """Clip length in seconds when there is no audio."""
    emotion: EmotionSpec | None = None
    """The expression; None = the voice's emotion (``voice_emotion``) or one estimated from the
    audio's prosody."""
    voice_emotion: EmotionSpec | None = None
    """The emotion the audio was generated with, when it came from a Voice generation."""
    phonemes: tuple[Phoneme, ...] = ()
    """Phoneme timings of the audio (from the Voice pipeline) → visemes; () = audio-driven."""
    size: int = 512
    """Output size in pixels on the short side (even)."""
    fps: int = 25
    framing: str = "auto"
    """"full" = the whole photo (aspect kept) with the animated face in place; "face" = a square
    crop around the head (like DICE-Talk's); "auto" = full for photos up to twice the face
    crop's size, else face."""
    crop: bool | None = None
    """Older requests' switch: True = framing "face", False = "full" (None = use ``framing``)."""
    head_motion: float = 1.0
    """0 = still head, 1 = natural, 2 = lively."""
    blink_rate: float = 17.0
    """Blinks per minute on average (0 = never; people blink ~15-20 times a minute)."""
    idle: float = 0.0
    """Seconds of idle (listening) motion added before and after the speech."""
    emotion_check: bool = True
    """Also render a neutral reference and measure the result (the tab's "emotion check")."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("image", "audio"):
            value = getattr(self, name)
            if isinstance(value, str):
                require(bool(value.strip()), f"The {name} path is empty.")
                object.__setattr__(self, name, Path(value))
            else:
                require(
                    value is None or isinstance(value, Path),
                    f"{name} must be a file path, got {value!r}.",
                )
                require(value is None or str(value) != ".", f"The {name} path is empty.")
        for name in ("emotion", "voice_emotion"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, coerce_emotion(value))
        object.__setattr__(self, "phonemes", pack_phonemes(self.phonemes))
        require_number("silence", self.silence, 0.2, MAX_AUDIO_SECONDS)
        require(
            self.size in SIZES,
            f"size must be one of {', '.join(map(str, SIZES))}, got {self.size}.",
        )
        require(self.fps in (12, 15, 24, 25, 30), f"fps must be 12/15/24/25/30, got {self.fps}.")
        require(self.crop is None or isinstance(self.crop, bool), "crop must be true or false.")
        require(
            self.framing in FRAMINGS,
            f"framing must be one of {', '.join(FRAMINGS)}, got {self.framing!r}.",
        )
        require(isinstance(self.emotion_check, bool), "emotion_check must be true or false.")
        require_number("head_motion", self.head_motion, 0.0, 2.0)
        require_number("blink_rate", self.blink_rate, 0.0, 60.0)
        require_number("idle", self.idle, 0.0, 10.0)

    @property
    def image_path(self) -> Path:
        """The photo to animate (the bundled default when none is given)."""
        return self.image if self.image is not None else DEFAULT_IMAGE

    def framing_for(self, photo_side: float, face_crop_side: float) -> str:
        """ "full" or "face" for a photo whose short side is ``photo_side`` px and whose face crop
        would be ``face_crop_side`` px."""
        if self.crop is not None:
            return "face" if self.crop else "full"
        if self.framing != "auto":
            return self.framing
        return "full" if photo_side <= AUTO_FULL_RATIO * face_crop_side else "face"

    @classmethod
    def example(cls, seed: int = 0) -> Self:
        return cls(
            audio=SAMPLE_SPEECH,
            emotion=EmotionSpec.of("happy"),
            size=160,
            emotion_check=False,
            seed=seed,
        )

    @classmethod
    def bad_examples(cls) -> list[dict[str, Any]]:
        return [
            {"emotion": "hapy"},
            {"size": 333},
            {"fps": 1000},
            {"framing": "wide"},
            {"head_motion": 5},
            {"blink_rate": -1},
            {"silence": 0},
            {"seed": -1},
            {"phonemes": [["a", 1.0, 0.5]]},
            {"image": ""},
            {"nonsense_field": 1},
        ]


@dataclass
class PortraitResult(Result):
    """Artifacts ``video`` (H.264 + AAC MP4) and ``stills`` (PNG grid); metadata has the face
    box, the emotion used and where it came from, notes on the input and the emotion check."""

    @property
    def video(self) -> VideoClip:
        art = self.artifacts["video"]
        assert isinstance(art, VideoClip)
        return art

    @property
    def stills(self) -> FileArtifact:
        art = self.artifacts["stills"]
        assert isinstance(art, FileArtifact)
        return art
