"""A tiny music backend built in code, for tests: a seeded arpeggio of the emotion's tonic chord
(major for positive valence, minor otherwise) as MIDI and as sine-tone audio. Test-only."""

from __future__ import annotations

import io
import time
from typing import ClassVar, Self

import numpy as np

from pipelines.base import (
    CancelToken,
    LoadSettings,
    ProgressFn,
    Request,
    Result,
    check,
    expect_request,
    rng,
)
from pipelines.media import AudioClip, MidiScore
from pipelines.music.request import MusicRequest


class TinyMusicBackend:
    """Eight seeded notes; valence picks the mode, arousal the tempo."""

    name: ClassVar[str] = "tiny"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = MusicRequest

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        return cls()

    def run(
        self,
        request: MusicRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Result:
        expect_request(request, MusicRequest, "tiny music")
        import pretty_midi

        t0 = time.perf_counter()
        check(cancel, progress, 0.0, "notes")
        v, a, _ = request.emotion.vad()
        tempo = request.tempo or 100 + 40 * a
        third = 4 if (request.mode or ("major" if v >= 0 else "minor")) == "major" else 3
        gen = rng(request.seed, "tiny-music")
        tonic = 60 + int(gen.integers(0, 12))
        beat = 60.0 / tempo
        pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
        inst = pretty_midi.Instrument(program=0, name="Tiny")
        pitches = [tonic + int(gen.choice([0, third, 7, 12])) for _ in range(7)] + [tonic]
        for i, p in enumerate(pitches):
            inst.notes.append(pretty_midi.Note(80, p, i * beat, (i + 0.9) * beat))
        pm.instruments.append(inst)
        check(cancel, progress, 0.5, "audio")
        sr = 16000
        out = np.zeros(int(len(pitches) * beat * sr), dtype=np.float32)
        for n in inst.notes:
            t = np.arange(int((n.end - n.start) * sr)) / sr
            s = int(n.start * sr)
            tone = 0.2 * np.sin(2 * np.pi * pretty_midi.note_number_to_hz(n.pitch) * t)
            out[s : s + len(t)] += tone[: len(out) - s].astype(np.float32)
        buf = io.BytesIO()
        pm.write(buf)
        check(cancel, progress, 1.0, "done")
        audio = AudioClip(out, sr)
        return Result(
            artifacts={"midi": MidiScore(buf.getvalue(), audio.duration), "audio": audio},
            metadata={"tempo": round(tempo, 2), "tonic": tonic},
            media_seconds=audio.duration,
            timings={"compose": time.perf_counter() - t0},
        )
