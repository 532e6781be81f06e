"""The learned music backend ``music/emogen`` (EmoGen stage 2): emotion → attribute targets (the
rule backend's) → control tokens → n candidate lines from the trained decoder (NumPy, grammar-
masked, exact length) → the performance layer → the candidate whose measured attributes best
meet the targets (:mod:`pipelines.music.measure`; ties broken by how well the line itself follows
its controls, a natural tonic ending, then likelihood) → MIDI, tokens, audio, piano roll.

Controls from targets (bucket edges from the checkpoint): ``KEY``/``MODE`` the planned key
(the rule backend's seeded tonic when none is asked for); ``TS_4/4`` (the rule composer's meter);
``VOICES_1`` (the line is a melody, the accompaniment comes from the rule composer's figures);
``DENS`` the melody's share of the density target, 45 % of the notes per beat (at least one note
per beat is left to the accompaniment); ``REG`` the melody centre that, with the accompaniment
and bass under it, gives the register target; ``TRIAD_any`` (a one-voice line has no triads: the
accompaniment's chords carry the major/minor colour); ``INTV`` the corpus quantile
0.5 + 0.3·arousal (calm lines move by step, aroused ones leap; the extreme quantiles are Bach
basses and arpeggios, not melodies). While
sampling, pitches outside the key's scale lose :data:`SCALE_BIAS` nats (soft key steering: a
line in the parallel major over minor chords was the common miss without it); in the last bar,
tonic notes and an EOS right after one are favoured (:data:`CADENCE`).

The checkpoint is ``options["emogen_checkpoint"]`` (a user's own, e.g. from
``launch.py music-train``), else the model directory when it names an ``.npz`` file (``launch.py
music --backend emogen --model-dir mine.npz``), else the first ``emogen*.npz`` in the model
directory, else the shipped :data:`SHIPPED`. A request's ``model`` (e.g. a model trained on
the user's own MIDI in the Music tab) picks another checkpoint for that request.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
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
    expect_request,
    rng,
)
from pipelines.media import FileArtifact, MidiScore
from pipelines.music import measure
from pipelines.music.attributes import PITCH_NAMES, extract
from pipelines.music.compose import BEATS
from pipelines.music.learned import controls as C
from pipelines.music.learned import vocab as V
from pipelines.music.learned.decode import Candidate, Plan, generate, scale_bias
from pipelines.music.learned.perform import STEPS, Performed, melody_plan, perform
from pipelines.music.learned.runtime import EmoGenModel
from pipelines.music.mapping import AttributeTargets
from pipelines.music.request import MusicRequest
from pipelines.music.rules import length_in_beats, resolve_targets

SHIPPED = Path(__file__).with_name("emogen_small.npz")
SCALE_BIAS = 3.0
"""Nats taken from out-of-key pitches while sampling (0: the model's own choice)."""
CADENCE = 2.0
"""Nats of the last bar's steering toward a tonic ending (:func:`.decode.generate`)."""
INTV_SLOPE = 0.3
"""INTV asks for the corpus quantile 0.5 + INTV_SLOPE × arousal (0.2-0.8: melodies' own range)."""
LINE_SCORED = ("KEY", "MODE", "DENS", "REG", "INTV")
"""Controls whose hit by the line itself breaks ties between equally accurate candidates."""
OPTION = "emogen_checkpoint"
KEPT_MODELS = 2
"""Other checkpoints (requests' ``model``) kept loaded besides the default one."""
CANDIDATES = 4


def find_checkpoint(settings: LoadSettings) -> Path:
    """The checkpoint file the settings point to (see the module docstring)."""
    given = settings.options.get(OPTION)
    if given:
        path = Path(str(given)).expanduser()
        if not path.is_file():
            raise PipelineError(
                f"The music/emogen checkpoint {path} does not exist — give the .npz file that "
                "`launch.py music-train` wrote."
            )
        return path
    if settings.model_dir is not None:
        base = Path(settings.model_dir).expanduser()
        if base.suffix == ".npz" and base.is_file():
            return base
        found = sorted([*base.glob("emogen*.npz"), *base.glob("emogen/*.npz")])
        if found:
            return found[0]
    if SHIPPED.is_file():
        return SHIPPED
    raise PipelineError(
        f"The learned music backend (music/emogen) is unavailable: no checkpoint at {SHIPPED}. "
        "Train one with `python3 launch.py music-train --corpus bundled --out mine.npz` and "
        "pass it with --model-dir mine.npz (or put an emogen*.npz in the model folder), or "
        "use the rules backend."
    )


def controls_for(
    targets: AttributeTargets, tonic: int, edges: Mapping[str, list[float]]
) -> dict[str, Any]:
    """The control dict of :func:`.vocab.encode` for the targets (module docstring)."""
    melody, centre = melody_plan(targets)
    k = V.N_BUCKETS["INTV"]
    q = float(np.clip(0.5 + INTV_SLOPE * targets.arousal, 0.0, 0.999))
    return {
        "TS": "4/4",
        "KEY": int(tonic),
        "MODE": targets.mode,
        "DENS": V.bucket(melody, edges["DENS"]),
        "REG": V.bucket(centre, edges["REG"]),
        "VOICES": 1,
        "TRIAD": None,  # a one-voice line has no triads of its own: the chords carry them
        "INTV": int(q * k),
    }


def plan_for(n_beats: int) -> Plan:
    """4/4 bars for ``n_beats``; the last bar holds 2-5 beats (like the rule composer's)."""
    bars = max(1, math.ceil((n_beats - 1) / BEATS))
    last = n_beats - BEATS * (bars - 1)
    return Plan("4/4", bars, min(BEATS, last) * STEPS, voices=1)


def line_controls(c: Candidate, plan: Plan, edges: Mapping[str, list[float]]) -> dict[str, Any]:
    """The control tokens the candidate line itself measures as (:mod:`.controls`)."""
    raw = C.measure(c.notes, plan.meter, plan.bars)
    return C.to_tokens(raw, plan.meter, edges)


@contextlib.contextmanager
def _blas_threads(threads: int) -> Iterator[None]:
    """BLAS limited to ``threads`` while decoding: the products are small and memory-bound, and
    a second thread mostly waits (one thread is 2-8x faster on 2 shared cores, measured)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


class EmoGenBackend:
    """Learned attribute-conditioned line + the rule composer's performance and accompaniment."""

    name: ClassVar[str] = "emogen"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = MusicRequest

    def __init__(
        self,
        model: EmoGenModel | None,
        checkpoint: Path | None,
        soundfont: Path | None = None,
        *,
        candidates: int = CANDIDATES,
        temperature: float = 1.0,
        top_p: float = 0.95,
        threads: int = 1,
        scale_bias: float = SCALE_BIAS,
        cadence: float = CADENCE,
        unavailable: str = "",
    ) -> None:
        self._model = model
        self.unavailable = unavailable
        """Why there is no default checkpoint ("" when there is one)."""
        self.cadence = cadence
        self.scale_bias = scale_bias
        self.threads = threads
        self.checkpoint = checkpoint
        self.soundfont = soundfont
        self.candidates = candidates
        self.temperature = temperature
        self.top_p = top_p
        self.edges: dict[str, list[float]] = dict(model.config["bucket_edges"]) if model else {}
        self._others: dict[Path, EmoGenBackend] = {}
        self._others_lock = threading.Lock()

    def with_checkpoint(self, path: Path) -> EmoGenBackend:
        """This backend with another checkpoint (a request's ``model``; the last few are kept
        loaded)."""
        path = Path(path).expanduser()
        if self.checkpoint is not None and path.resolve() == self.checkpoint.resolve():
            return self
        if not path.is_file():
            raise PipelineError(
                f"The music model {path} does not exist — train one in the Music tab (Your own "
                "style) or with `launch.py music-train`."
            )
        with self._others_lock:
            other = self._others.get(path)
            if other is None:
                other = EmoGenBackend(
                    EmoGenModel.load(path), path, self.soundfont,
                    candidates=self.candidates, temperature=self.temperature, top_p=self.top_p,
                    threads=self.threads, scale_bias=self.scale_bias, cadence=self.cadence,
                )  # fmt: skip
                self._others[path] = other
                while len(self._others) > KEPT_MODELS:
                    self._others.pop(next(iter(self._others)))
        return other

    @property
    def model(self) -> EmoGenModel:
        """The default checkpoint's model (PipelineError when there is none)."""
        if self._model is None:
            raise PipelineError(self.unavailable)
        return self._model

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        from pipelines.music.render import find_soundfont

        opts = settings.options
        try:
            path: Path | None = find_checkpoint(settings)
        except PipelineError as exc:
            if opts.get(OPTION):
                raise  # a checkpoint was named and is missing: say so at once
            path, unavailable = None, str(exc)  # requests naming their own model still work
        else:
            unavailable = ""
        return cls(
            EmoGenModel.load(path) if path is not None else None,
            path,
            find_soundfont(opts.get("soundfont")),
            candidates=int(opts.get("emogen_candidates", CANDIDATES)),
            temperature=float(opts.get("emogen_temperature", 1.0)),
            top_p=float(opts.get("emogen_top_p", 0.95)),
            threads=settings.threads or 1,
            scale_bias=float(opts.get("emogen_scale_bias", SCALE_BIAS)),
            cadence=float(opts.get("emogen_cadence", CADENCE)),
            unavailable=unavailable,
        )

    def compose(
        self,
        targets: AttributeTargets,
        *,
        seed: int,
        n_beats: int,
        seconds: float,
        n: int | None = None,
        controls: Mapping[str, Any] | None = None,
        cancel: CancelToken | None = None,
        progress: ProgressFn | None = None,
    ) -> dict[str, Any]:
        """Best of ``n`` performed candidates: its performance, checks, and every candidate's
        accuracy. ``controls`` overrides the ones the targets imply (for experiments)."""
        tonic = targets.tonic if targets.tonic is not None else int(rng(seed, "key").integers(12))
        ctrl = dict(controls) if controls is not None else controls_for(targets, tonic, self.edges)
        plan = plan_for(n_beats)

        def step(fraction: float) -> None:
            if progress is not None:
                progress(0.05 + 0.45 * fraction, "generating")

        with _blas_threads(self.threads):
            cands = generate(
                self.model, ctrl, plan, n=n or self.candidates, seed=seed,
                temperature=self.temperature, top_p=self.top_p, cancel=cancel, progress=step,
                bias=scale_bias(tonic, targets.mode, self.scale_bias) if self.scale_bias else None,
                cadence=(tonic, self.cadence) if self.cadence else None,
            )  # fmt: skip
        _, centre = melody_plan(targets)
        scored: list[tuple[float, int, Performed, Any, list[measure.Check]]] = []
        for i, c in enumerate(cands):
            if not c.notes:
                continue  # unreachable: the grammar puts a note in the last bar
            perf = perform(
                sorted(c.notes), targets, tonic=tonic, n_beats=n_beats, seed=seed,
                melody_centre=centre,
            )  # fmt: skip
            measured = extract(perf.pm)
            programs = tuple(inst.program for inst in perf.pm.instruments)
            checks = measure.compare(
                targets, measured, tonic=tonic, seconds=seconds, programs=programs
            )
            own = line_controls(c, plan, self.edges)
            follows = np.mean([own[k] == ctrl[k] for k in LINE_SCORED if ctrl[k] is not None])
            score = measure.accuracy(checks) + 0.05 * float(follows)
            score += 0.02 * (not perf.tonic_forced) + 0.001 * c.logprob / max(1, len(c.tokens))
            scored.append((score, i, perf, measured, checks))
        score, best, perf, measured, checks = max(scored, key=lambda s: (s[0], -s[1]))
        return {
            "tonic": tonic,
            "controls": ctrl,
            "plan": plan,
            "candidate": cands[best],
            "performed": perf,
            "measured": measured,
            "checks": checks,
            "candidates": [
                {"index": i, "accuracy": round(measure.accuracy(ch), 4), "chosen": i == best}
                for _, i, _, _, ch in scored
            ],
        }

    def run(
        self,
        request: MusicRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Result:
        expect_request(request, MusicRequest, "music/emogen")
        if request.model is not None:
            other = self.with_checkpoint(request.model)
            if other is not self:
                return other.run(request, progress=progress, cancel=cancel)
        model = self.model  # the unavailable message when there is no default checkpoint
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        check(cancel, progress, 0.0, "attribute targets")
        targets, notes, info = resolve_targets(request)
        n_beats = length_in_beats(request, targets.tempo)
        seconds = n_beats * 60.0 / targets.tempo
        out = self.compose(
            targets, seed=request.seed, n_beats=n_beats, seconds=request.seconds or seconds,
            cancel=cancel, progress=progress,
        )  # fmt: skip
        perf: Performed = out["performed"]
        cand: Candidate = out["candidate"]
        buf = io.BytesIO()
        perf.pm.write(buf)
        midi = buf.getvalue()
        timings["compose"] = time.perf_counter() - t0
        artifacts: dict[str, Any] = {"midi": MidiScore(midi, seconds)}

        check(cancel, progress, 0.6, "tokens")
        t1 = time.perf_counter()
        from pipelines.music.tokens import tokens_json

        doc = json.loads(tokens_json(midi))
        doc["emogen_tokens"] = [V.VOCAB[i] for i in cand.tokens]
        artifacts["tokens"] = FileArtifact(json.dumps(doc, ensure_ascii=False).encode(), ".json")
        timings["tokens"] = time.perf_counter() - t1

        from pipelines.music import render

        if request.render:
            check(cancel, progress, 0.7, "rendering audio")
            t1 = time.perf_counter()
            soundfont = self.soundfont or render.find_soundfont()
            artifacts["audio"] = render.render_audio(
                perf.pm, soundfont, sample_rate=request.sample_rate, duration=seconds,
                cancel=cancel,
            )  # fmt: skip
            timings["render"] = time.perf_counter() - t1
            info["soundfont"] = soundfont.name
        check(cancel, progress, 0.9, "piano roll")
        artifacts["pianoroll"] = FileArtifact(render.piano_roll_png(perf.pm), ".png")
        check(cancel, progress, 1.0, "done")
        plan: Plan = out["plan"]
        facts = model.config
        metadata: dict[str, Any] = {
            "targets": targets.to_dict(),
            "key": f"{PITCH_NAMES[out['tonic']]} {targets.mode}",
            "controls": [V.control_token(k, out["controls"].get(k)) for k in V.CONTROL_ORDER],
            "plan": {
                "key_tonic": out["tonic"],
                "mode": targets.mode,
                "bars": plan.bars,
                "beats": n_beats,
                "chords": perf.chords,
                "accompaniment": perf.patterns,
            },
            "line_controls": line_controls(cand, plan, self.edges),
            "tonic_forced": perf.tonic_forced,
            "octave_shift": perf.octave_shift,
            "candidates": out["candidates"],
            "measured": out["measured"].to_dict(),
            **measure.report(out["checks"]),
            "relaxed": notes,
            "checkpoint": {
                "file": self.checkpoint.name if self.checkpoint else "",
                **{k: facts.get(k) for k in ("corpus_sha256", "tokens_seen", "pieces", "licence")},
            },
            **info,
        }
        return Result(
            artifacts=artifacts, metadata=metadata, media_seconds=seconds, timings=timings
        )
