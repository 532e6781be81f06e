"""A tiny voice backend built in code, for tests: a formant buzz per letter, with real timings.

Same request, plan, prosody targets, joins, timings, subtitles and checks as the Piper backend
(``synth.finish``); only the sound source is a seeded two-formant buzz instead of a neural voice,
so the studio's voice paths can be tested in milliseconds.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np

from pipelines.base import (
    CancelToken,
    LoadSettings,
    ProgressFn,
    Request,
    check,
    expect_request,
    rng,
)
from pipelines.voice import text
from pipelines.voice.codeswitch import PhonemizedSentence
from pipelines.voice.request import VoiceRequest, plan
from pipelines.voice.synth import Chunk, finish
from pipelines.voice.wordalign import text_words

SR = 16000
_VOWELS = set("aeiouyAEIOUY")
_FORMANTS = {"a": (730, 1090), "e": (530, 1840), "i": (270, 2290), "o": (570, 840), "u": (300, 870)}


class TinyVoiceBackend:
    """Formant buzz (test-only)."""

    name: ClassVar[str] = "tiny"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = VoiceRequest

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        return cls()

    def run(
        self,
        request: VoiceRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Any:
        expect_request(request, VoiceRequest, "voice")
        p = plan(request)
        sentences = text.sentences_of(request.text)
        chunks = []
        for i, sentence in enumerate(sentences):
            check(cancel, progress, 0.85 * i / len(sentences), f"sentence {i + 1}/{len(sentences)}")
            chunks.append(self._sentence(sentence, p.prosody, rng(request.seed, "tiny", i)))
        return finish(request, p, chunks, SR, progress=progress, cancel=cancel)

    def _sentence(self, sentence: str, pr: Any, gen: np.random.Generator) -> Chunk:
        ph = PhonemizedSentence()
        per_char: list[int] = []
        pieces: list[np.ndarray] = []
        unit = int(SR * 0.075 / pr.rate)
        f0 = 120.0 * 2 ** (pr.pitch_shift / 12)
        for word, _ in text_words(sentence):  # the words as the real voice shows them
            if ph.phonemes:
                ph.phonemes.append(" ")
                per_char.append(unit // 2)
                pieces.append(np.zeros(unit // 2, np.float32))
            start = len(ph.phonemes)
            for ch in word.lower():
                ph.phonemes.append(ch)
                per_char.append(unit)
                pieces.append(
                    self._sound(ch, unit, f0 * 2 ** (gen.normal(0, 1) * pr.pitch_range / 12), gen)
                )
            ph.words.append((word, start, len(ph.phonemes)))
        ph.languages.append("en")
        lead = SR // 20
        audio = np.concatenate(
            [np.zeros(lead, np.float32), *pieces, np.zeros(SR // 20, np.float32)]
        )
        return Chunk(sentence, audio, ph, per_char, lead)

    def _sound(self, ch: str, n: int, f0: float, gen: np.random.Generator) -> np.ndarray:
        t = np.arange(n) / SR
        env = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
        if ch in _VOWELS or ch not in "bcdfghjklmnpqrstvwxz":
            f1, f2 = _FORMANTS.get(ch, (500, 1500))
            buzz = sum(
                np.sin(2 * np.pi * k * f0 * t)
                / k
                * (
                    np.exp(-(((k * f0 - f1) / 200) ** 2))
                    + 0.5 * np.exp(-(((k * f0 - f2) / 300) ** 2))
                )
                for k in range(1, 30)
            )
            return (0.3 * env * buzz).astype(np.float32)
        return (0.05 * env * gen.standard_normal(n)).astype(np.float32)
