"""Plain media dataclasses shared by every pipeline: audio, video, MIDI, images, text, timings.

Each artifact knows its file suffix, its media length and how to write itself to a path, so the
caller (the studio's generation service) can store any result without knowing the task.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Artifact(Protocol):
    """Anything a result can hand back for storage."""

    @property
    def suffix(self) -> str: ...

    @property
    def media_seconds(self) -> float: ...

    def write(self, path: Path) -> None: ...

    def fingerprint(self) -> str: ...


@dataclass(frozen=True)
class AudioClip:
    """Mono or multi-channel audio held in memory."""

    samples: np.ndarray
    """float32 samples in [-1, 1], shape (n,) or (n, channels)."""
    sample_rate: int
    """Samples per second."""

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {self.sample_rate}")
        arr = np.asarray(self.samples, dtype=np.float32)
        if arr.ndim not in (1, 2):
            raise ValueError(f"audio must be 1-D or 2-D, got shape {arr.shape}")
        object.__setattr__(self, "samples", arr)

    suffix = ".wav"

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return float(self.samples.shape[0]) / self.sample_rate

    @property
    def media_seconds(self) -> float:
        return self.duration

    def write(self, path: Path) -> None:
        """Write 16-bit PCM WAV."""
        import soundfile

        soundfile.write(str(path), np.clip(self.samples, -1.0, 1.0), self.sample_rate, "PCM_16")

    @classmethod
    def read(cls, path: Path) -> AudioClip:
        """Read any format libsndfile knows."""
        import soundfile

        data, sr = soundfile.read(str(path), dtype="float32", always_2d=False)
        return cls(data, int(sr))

    def fingerprint(self) -> str:
        pcm = (np.clip(self.samples, -1.0, 1.0) * 32767).astype("<i2")
        return hashlib.sha256(pcm.tobytes() + str(self.sample_rate).encode()).hexdigest()


@dataclass(frozen=True)
class VideoClip:
    """An encoded video file (H.264 + AAC MP4) that a backend wrote to a temporary path."""

    path: Path
    """Where the encoded file is now; ``write`` copies it to its stored place."""
    fps: float
    """Frames per second."""
    duration: float
    """Length in seconds."""
    width: int = 0
    height: int = 0

    suffix = ".mp4"

    @property
    def media_seconds(self) -> float:
        return self.duration

    def write(self, path: Path) -> None:
        shutil.copyfile(self.path, path)

    def fingerprint(self) -> str:
        return _file_digest(self.path)


@dataclass(frozen=True)
class MidiScore:
    """A Standard MIDI File in memory."""

    data: bytes
    """The .mid file's bytes."""
    duration: float
    """Length in seconds at the file's tempo map."""

    suffix = ".mid"

    @property
    def media_seconds(self) -> float:
        return self.duration

    def write(self, path: Path) -> None:
        path.write_bytes(self.data)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class FileArtifact:
    """Any other file (PNG stills grid, SRT subtitles, JSON report) as bytes with its suffix."""

    data: bytes
    suffix: str
    """File extension including the dot, e.g. ".png"."""

    @property
    def media_seconds(self) -> float:
        return 0.0

    def write(self, path: Path) -> None:
        path.write_bytes(self.data)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class TimedUnit:
    """One phoneme, word or segment with its time span."""

    label: str
    start: float
    """Seconds from the start of the clip."""
    end: float


@dataclass(frozen=True)
class Timings:
    """Phoneme- and word-level time alignment of a clip (for lip sync and subtitles)."""

    phonemes: tuple[TimedUnit, ...] = field(default_factory=tuple)
    words: tuple[TimedUnit, ...] = field(default_factory=tuple)


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
