"""A tiny backend built in code, for tests: one seeded tone per word, shaped by the emotion.

It exercises the whole contract (seeded output, progress, cancellation, validation, artifacts)
in milliseconds, and it is emotional in the simplest way: valence raises the pitch, arousal
shortens the notes and adds loudness. It is registered as test-only and never shown to users.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from pipelines.base import (
    CancelToken,
    LoadSettings,
    PipelineError,
    ProgressFn,
    Request,
    Result,
    check,
    coerce_emotion,
    expect_request,
    require,
    require_number,
    rng,
)
from pipelines.emotion import EmotionSpec
from pipelines.media import AudioClip, FileArtifact

MAX_TEXT = 500


@dataclass(frozen=True)
class TinyRequest(Request):
    """Text + emotion → a short tone sequence."""

    task: ClassVar[str] = "tiny"
    text: str = "hello world"
    """One note per word."""
    emotion: EmotionSpec = EmotionSpec()
    """Valence → pitch, arousal → note length and loudness."""
    sample_rate: int = 16000
    step_delay: float = 0.0
    """Seconds to sleep per note, so tests can cancel a job while it runs."""
    fail: str = ""
    """If set, ``run`` raises ``PipelineError(fail)`` half-way (for failure-path tests)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "emotion", coerce_emotion(self.emotion))
        require(isinstance(self.text, str), "Text must be a string.")
        require(bool(self.text.split()), "Text is empty — type at least one word.")
        require(
            len(self.text) <= MAX_TEXT,
            f"Text is {len(self.text)} characters; the tiny backend takes at most {MAX_TEXT}.",
        )
        require(self.sample_rate in (8000, 16000, 22050), "sample_rate must be 8000/16000/22050.")
        require_number("step_delay", self.step_delay, 0.0, 5.0)

    @classmethod
    def example(cls, seed: int = 0) -> Self:
        return cls(text="a tiny happy tune", emotion=EmotionSpec.of("happy"), seed=seed)

    @classmethod
    def bad_examples(cls) -> list[dict[str, Any]]:
        return [
            {"text": ""},
            {"text": "x" * (MAX_TEXT + 1)},
            {"emotion": "hapy"},
            {"seed": -1},
            {"sample_rate": 12345},
            {"nonsense_field": 1},
        ]


class TinyBackend:
    """Reference implementation of ``pipelines.base.Backend``."""

    name: ClassVar[str] = "tiny"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = TinyRequest

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        return cls()

    def run(
        self,
        request: TinyRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Result:
        expect_request(request, TinyRequest, "tiny")
        t0 = time.perf_counter()
        v, a, _ = request.emotion.vad()
        gen = rng(request.seed, "tiny")
        sr = request.sample_rate
        words = request.text.split()
        note_s = 0.30 - 0.12 * a
        base_hz = 220.0 * 2.0 ** (0.5 * v)
        notes: list[dict[str, float]] = []
        chunks: list[np.ndarray] = []
        for i, word in enumerate(words):
            check(cancel, progress, i / len(words), f"note {i + 1}/{len(words)}")
            if request.fail and i >= len(words) // 2:
                raise PipelineError(request.fail)
            if request.step_delay:
                time.sleep(request.step_delay)
            hz = base_hz * 2.0 ** (float(gen.integers(0, 5)) * 2.0 / 12.0 + len(word) % 3 / 12.0)
            t = np.arange(int(note_s * sr)) / sr
            env = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
            amp = 0.25 + 0.15 * a
            chunks.append((amp * env * np.sin(2 * np.pi * hz * t)).astype(np.float32))
            notes.append({"word_index": i, "hz": round(hz, 3), "start": i * note_s})
        check(cancel, progress, 1.0, "done")
        audio = AudioClip(np.concatenate(chunks), sr)
        report = json.dumps({"notes": notes}, indent=1).encode()
        return Result(
            artifacts={"audio": audio, "notes": FileArtifact(report, ".json")},
            metadata={"base_hz": round(base_hz, 3), "note_seconds": round(note_s, 4)},
            media_seconds=audio.duration,
            timings={"synthesis": time.perf_counter() - t0},
        )
