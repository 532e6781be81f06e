"""The default music backend: emotion → attribute targets → seeded rule composer → MIDI, REMI
tokens, audio (soundfont), piano roll, and the attribute-control report in the metadata.

Targets come from the emotion table (:mod:`.mapping`), a reference MIDI's measured attributes
or a labelled corpus (:mod:`.emogen`); explicit overrides in the request win over all three;
:func:`.mapping.relax` then makes them realisable together and says what it changed.
"""

from __future__ import annotations

import dataclasses
import io
import time
from pathlib import Path
from typing import Any, ClassVar, Self

from pipelines.base import (
    CancelToken,
    LoadSettings,
    PipelineError,
    ProgressFn,
    Request,
    Result,
    check,
    expect_request,
)
from pipelines.media import FileArtifact, MidiScore
from pipelines.music import measure
from pipelines.music.attributes import PITCH_NAMES, extract, extract_file
from pipelines.music.compose import BEATS, compose
from pipelines.music.emogen import corpus_targets
from pipelines.music.mapping import (
    AttributeTargets,
    relax,
    targets_for,
    targets_from_attributes,
)
from pipelines.music.request import DEFAULT_BARS, MAX_SECONDS, MusicRequest, tonic_of


def resolve_targets(request: MusicRequest) -> tuple[AttributeTargets, list[str], dict[str, Any]]:
    """The targets a request implies (emotion / reference / corpus, then overrides, relaxed)."""
    notes: list[str] = []
    info: dict[str, Any] = {}
    spec = request.emotion
    if request.reference_midi is not None:
        measured = extract_file(request.reference_midi, "Reference MIDI")
        t, notes = targets_from_attributes(measured, spec, "reference MIDI")
        info["reference_key"] = measured.key
    elif request.corpus is not None:
        t, notes, info = corpus_targets(request.corpus, spec)
    else:
        t = targets_for(spec)
    changes: dict[str, Any] = {}
    for field, name in (
        ("tempo", "tempo"),
        ("mode", "mode"),
        ("density", "note_density"),
        ("register", "register"),
        ("dynamics", "velocity"),
        ("articulation", "articulation"),
    ):
        value = getattr(request, field)
        if value is not None:
            changes[name] = float(value) if name != "mode" else value
    if request.key is not None:
        changes["tonic"] = tonic_of(request.key)
    if request.instruments:
        progs = list(request.instruments) + list(t.instruments[len(request.instruments) :])
        changes["instruments"] = (progs[0], progs[1], progs[2])
    t = dataclasses.replace(t, **changes)
    t, relaxed = relax(t)
    return t, notes + relaxed, info


def length_in_beats(request: MusicRequest, tempo: float) -> int:
    """Beats for the requested length at ``tempo`` (PipelineError beyond the maximum)."""
    if request.seconds is not None:
        beats = max(2, round(request.seconds * tempo / 60.0))
    else:
        beats = (request.bars or DEFAULT_BARS) * BEATS
    seconds = beats * 60.0 / tempo
    if seconds > MAX_SECONDS + 60.0 / tempo:
        raise PipelineError(
            f"{request.bars} bars at {tempo:g} BPM last {seconds / 60:.1f} minutes; the most is "
            f"{MAX_SECONDS / 60:g} minutes — ask for fewer bars or a faster tempo."
        )
    return beats


class RulesBackend:
    """Attribute-following rule composer (EmoGen stage 1 targets → seeded multi-track MIDI)."""

    name: ClassVar[str] = "rules"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = MusicRequest

    def __init__(self, soundfont: Path | None = None) -> None:
        self.soundfont = soundfont

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        from pipelines.music.render import find_soundfont

        return cls(find_soundfont(settings.options.get("soundfont")))

    def run(
        self,
        request: MusicRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Result:
        expect_request(request, MusicRequest, "music")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        check(cancel, progress, 0.0, "attribute targets")
        targets, notes, info = resolve_targets(request)
        n_beats = length_in_beats(request, targets.tempo)
        seconds = n_beats * 60.0 / targets.tempo
        check(cancel, progress, 0.1, "composing")
        pm, plan = compose(targets, seed=request.seed, n_beats=n_beats)
        buf = io.BytesIO()
        pm.write(buf)
        midi = buf.getvalue()
        timings["compose"] = time.perf_counter() - t0

        check(cancel, progress, 0.35, "measuring attributes")
        t1 = time.perf_counter()
        measured = extract(pm)
        programs = tuple(inst.program for inst in pm.instruments)
        checks = measure.compare(
            targets,
            measured,
            tonic=plan["key_tonic"],
            seconds=request.seconds or seconds,
            programs=programs,
        )
        artifacts: dict[str, Any] = {"midi": MidiScore(midi, seconds)}
        timings["measure"] = time.perf_counter() - t1

        check(cancel, progress, 0.45, "REMI tokens")
        t1 = time.perf_counter()
        from pipelines.music.tokens import tokens_json

        artifacts["tokens"] = FileArtifact(tokens_json(midi), ".json")
        timings["tokens"] = time.perf_counter() - t1

        from pipelines.music import render

        if request.render:
            check(cancel, progress, 0.55, "rendering audio")
            t1 = time.perf_counter()
            soundfont = self.soundfont or render.find_soundfont()
            artifacts["audio"] = render.render_audio(
                pm, soundfont, sample_rate=request.sample_rate, duration=seconds, cancel=cancel
            )
            timings["render"] = time.perf_counter() - t1
            info["soundfont"] = soundfont.name
        check(cancel, progress, 0.9, "piano roll")
        t1 = time.perf_counter()
        artifacts["pianoroll"] = FileArtifact(render.piano_roll_png(pm), ".png")
        timings["pianoroll"] = time.perf_counter() - t1
        check(cancel, progress, 1.0, "done")
        metadata: dict[str, Any] = {
            "targets": targets.to_dict(),
            "key": f"{PITCH_NAMES[plan['key_tonic']]} {targets.mode}",
            "plan": plan,
            "measured": measured.to_dict(),
            **measure.report(checks),
            "relaxed": notes,
            **info,
        }
        return Result(
            artifacts=artifacts, metadata=metadata, media_seconds=seconds, timings=timings
        )
