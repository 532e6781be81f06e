"""Parler-TTS voice backend: description-driven speech from a local checkpoint.

Parler-TTS runs in its own environment (:mod:`pipelines.voice.parler_env`), in a worker process
(:mod:`pipelines.voice.parler_worker`, whose docstring documents the JSON-lines protocol) that
``load`` starts once and ``unload`` stops. The request's emotion, accent and controls become a
Parler description through :func:`pipelines.voice.request.plan`; a user's own description goes
through untouched. Long text is spoken sentence by sentence (progress and cancel between
sentences) and joined by :func:`pipelines.voice.synth.finish`, without the piper backend's
prosody DSP or room effects: the model renders those from the description itself. Parler gives
no alignment, so phoneme and word timings are spread evenly over each sentence (approximate).

Options (``LoadSettings.options``): ``parler_checkpoint`` (a directory; a hub id only with
``parler_allow_online``), ``parler_allow_online`` (default False: the worker runs with
``HF_HUB_OFFLINE=1``), ``parler_python`` (a python with parler-tts, instead of the built env),
``envs_dir`` (where ``backends install parler`` put the env), ``parler_dtype``,
``parler_max_new_tokens`` (cap on audio frames per sentence).
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import os
import time
import weakref
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from pipelines.base import (
    CancelToken,
    LoadSettings,
    PipelineError,
    ProgressFn,
    Request,
    check,
    expect_request,
)
from pipelines.base import rng as seeded
from pipelines.voice import codeswitch, text
from pipelines.voice.accents import accent
from pipelines.voice.parler_env import INSTALL_COMMAND, OFFLINE_ENV, env_status
from pipelines.voice.prosody import Prosody
from pipelines.voice.request import VoiceRequest, VoiceResult, plan
from pipelines.voice.synth import Chunk, finish
from pipelines.worker_pipe import WorkerPipe

WORKER = Path(__file__).with_name("parler_worker.py")
CHECKPOINT_HELP = (
    "Put a Parler-TTS checkpoint folder (config.json, model.safetensors and the tokenizer "
    "files, e.g. a local copy of parler-tts-mini-v1) at <model dir>/parler-tts, or point the "
    "option parler_checkpoint at it."
)


class _Worker(WorkerPipe):
    """The Parler-TTS worker process and its pipe; one request at a time."""

    def __init__(self, python: Path, *, online: bool, threads: int) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(PYTHONNOUSERSITE="1", PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
        if not online:
            env.update(OFFLINE_ENV)
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
        super().__init__(
            [str(python), str(WORKER)],
            label="Parler-TTS",
            install_command=INSTALL_COMMAND,
            env=env,
        )


def _is_parler_checkpoint(path: Path) -> bool:
    try:
        cfg = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return cfg.get("model_type") == "parler_tts"


def resolve_checkpoint(settings: LoadSettings) -> str:
    """The checkpoint folder (or, when allowed online, hub id) from the settings."""
    opts = settings.options
    online = bool(opts.get("parler_allow_online", False))
    given = opts.get("parler_checkpoint")
    if given:
        path = Path(str(given)).expanduser()
        if _is_parler_checkpoint(path):
            return str(path.resolve())
        if online and not path.exists() and "/" in str(given):
            return str(given)  # a hub id, fetched by the worker: the user asked for online use
        raise PipelineError(f"{given} is not a Parler-TTS checkpoint folder. {CHECKPOINT_HELP}")
    if settings.model_dir is not None:
        base = Path(settings.model_dir).expanduser()
        for candidate in (base, base / "parler-tts", base / "parler"):
            if _is_parler_checkpoint(candidate):
                return str(candidate.resolve())
    raise PipelineError(f"No Parler-TTS checkpoint found. {CHECKPOINT_HELP}")


def _python(settings: LoadSettings) -> Path:
    opts = settings.options
    if opts.get("parler_python"):
        return Path(str(opts["parler_python"]))
    root = Path(str(opts["envs_dir"])) if opts.get("envs_dir") else None
    status = env_status(root)
    if not status.ready:
        raise PipelineError(
            "The Parler-TTS environment is not installed. Run "
            f"`{INSTALL_COMMAND}` once (an isolated environment of about 1.2 GB at "
            f"{status.path}), then load the backend again."
        )
    return status.python


class ParlerBackend:
    """Parler-TTS in an isolated worker process; see the module docstring."""

    name: ClassVar[str] = "parler"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = VoiceRequest

    def __init__(self, worker: _Worker, info: dict[str, Any], max_new_tokens: int | None) -> None:
        self._worker = worker
        self.info = info
        """The worker's load reply: sampling_rate, checkpoint, versions, parameters."""
        self._max_new_tokens = max_new_tokens
        weakref.finalize(self, worker.close)  # a dropped backend does not leave its worker

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        checkpoint = resolve_checkpoint(settings)
        python = _python(settings)
        online = bool(settings.options.get("parler_allow_online", False))
        worker = _Worker(python, online=online, threads=settings.threads)
        try:
            info = worker.call(
                "load",
                checkpoint=checkpoint,
                device=settings.device,
                threads=settings.threads,
                dtype=str(settings.options.get("parler_dtype", "float32")),
            )
        except BaseException:
            worker.close()
            raise
        cap = settings.options.get("parler_max_new_tokens")
        return cls(worker, info, int(cap) if cap else None)

    @property
    def sample_rate(self) -> int:
        return int(self.info["sampling_rate"])

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs."""
        proc = self._worker.proc
        return proc.pid if proc.poll() is None else None

    def ping(self) -> dict[str, Any]:
        return self._worker.call("ping")

    def unload(self) -> None:
        """Stop the worker and free its memory; ``run`` fails after this until ``load``."""
        self._worker.close()

    close = unload

    def generate(
        self, description: str, sentence: str, seed: int
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """One worker round trip: audio (float32) and the reply's metadata."""
        reply = self._worker.call(
            "generate",
            description=description,
            text=sentence,
            seed=seed,
            max_new_tokens=self._max_new_tokens,
        )
        audio = np.frombuffer(base64.b64decode(reply.pop("audio_b64")), dtype="<f4").copy()
        return audio, reply

    def run(
        self,
        request: VoiceRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> VoiceResult:
        expect_request(request, VoiceRequest, "voice")
        t0 = time.perf_counter()
        p = plan(request)
        sentences = text.sentences_of(request.text)
        acc = accent(p.accent)
        chunks: list[Chunk] = []
        replies: list[dict[str, Any]] = []
        for i, sentence in enumerate(sentences):
            check(cancel, progress, 0.85 * i / len(sentences), f"sentence {i + 1}/{len(sentences)}")
            seed = int(seeded(request.seed, "parler", i).integers(2**31))
            audio, reply = self.generate(p.description, sentence, seed)
            replies.append(reply)
            chunks.append(_evenly_timed(sentence, audio, acc))
        t1 = time.perf_counter()
        # The model renders emotion and room from the description: no DSP on top, but the
        # emotion's pause length between sentences is kept.
        flat = dataclasses.replace(
            p,
            prosody=Prosody(pause=p.prosody.pause),
            controls=dataclasses.replace(p.controls, reverb=None, noise=None),
        )
        result = finish(request, flat, chunks, self.sample_rate, progress=progress, cancel=cancel)
        result.metadata.update(
            backend=self.name,
            checkpoint=self.info["checkpoint"],
            sampling_rate=self.sample_rate,
            worker_description=replies[0]["description"] if replies else p.description,
            chunk_seconds=[r["seconds"] for r in replies],
            timings_approximate=True,
        )
        result.timings.update({"synthesis": t1 - t0, "finishing": time.perf_counter() - t1})
        return result


def _evenly_timed(sentence: str, audio: np.ndarray, acc: Any) -> Chunk:
    """A chunk whose phoneme characters share the audio evenly (Parler gives no alignment)."""
    ph = codeswitch.phonemize_sentence(sentence, acc)
    n = max(1, len(ph.phonemes))
    edges = np.linspace(0, len(audio), n + 1).round().astype(int)
    per_char = [int(b - a) for a, b in itertools.pairwise(edges)]
    return Chunk(sentence, audio.astype(np.float32), ph, per_char[: len(ph.phonemes)], 0)
