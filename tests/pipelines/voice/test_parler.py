"""The Parler-TTS backend for real: isolated env, tiny checkpoint built in it, worker process.

The env build is a one-off (cached under the envs root, keyed by the pins); the tests skip only
when the package index is unreachable while building it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from parler_tiny import SAMPLING_RATE, build_env_or_skip, build_tiny_checkpoint

from pipelines.base import Cancelled, CancelToken, LoadSettings, PipelineError
from pipelines.media import AudioClip
from pipelines.voice.parler import ParlerBackend
from pipelines.voice.request import VoiceRequest, plan

pytestmark = pytest.mark.slow

OWN_DESCRIPTION = (
    "A female speaker with a slightly low-pitched voice delivers her words quite expressively, "
    "in a very confined sounding environment."
)


@pytest.fixture(scope="session")
def parler_python() -> Path:
    return build_env_or_skip()


@pytest.fixture(scope="session")
def tiny_checkpoint(parler_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(parler_python, tmp_path_factory.mktemp("parler-tiny"))


def _settings(checkpoint: Path, python: Path) -> LoadSettings:
    return LoadSettings(
        options={"parler_checkpoint": str(checkpoint), "parler_python": str(python)}
    )


@pytest.fixture(scope="module")
def backend(tiny_checkpoint: Path, parler_python: Path) -> Iterator[ParlerBackend]:
    b = ParlerBackend.load(_settings(tiny_checkpoint, parler_python))
    yield b
    b.unload()


def _audio(backend: ParlerBackend, req: VoiceRequest) -> AudioClip:
    clip = backend.run(req).artifacts["audio"]
    assert isinstance(clip, AudioClip)
    return clip


def test_generates_float_audio_at_the_models_rate(backend: ParlerBackend) -> None:
    seen: list[float] = []
    t0 = time.perf_counter()
    result = backend.run(VoiceRequest.example(seed=1), progress=lambda f, _s: seen.append(f))
    elapsed = time.perf_counter() - t0
    clip = result.artifacts["audio"]
    assert isinstance(clip, AudioClip)
    assert backend.sample_rate == SAMPLING_RATE == clip.sample_rate
    assert clip.samples.dtype == np.float32 and clip.samples.size > 1000
    assert np.all(np.isfinite(clip.samples)) and np.abs(clip.samples).max() > 0
    assert result.media_seconds > 0 and seen == sorted(seen)
    assert {"timings", "subtitles", "f0_plot"} <= set(result.artifacts)
    meta = result.metadata
    assert meta["backend"] == "parler" and meta["timings_approximate"] is True
    assert meta["sampling_rate"] == SAMPLING_RATE
    print(f"tiny Parler run: {elapsed:.2f} s for {result.media_seconds:.2f} s of audio")


def test_same_seed_same_audio_other_seed_differs(backend: ParlerBackend) -> None:
    req = VoiceRequest(text="Good morning.", emotion="sad", seed=11)
    a, b = _audio(backend, req), _audio(backend, req)
    c = _audio(backend, req.replace(seed=12))
    assert np.array_equal(a.samples, b.samples)
    assert a.samples.shape != c.samples.shape or not np.array_equal(a.samples, c.samples)


def test_own_description_goes_through_untouched(backend: ParlerBackend) -> None:
    req = VoiceRequest(text="Namaste, let us talk.", description=OWN_DESCRIPTION)
    assert backend.run(req).metadata["worker_description"] == OWN_DESCRIPTION


def test_settings_become_a_description(backend: ParlerBackend) -> None:
    req = VoiceRequest(text="Hello.", emotion="angry", accent="indian")
    used = backend.run(req).metadata["worker_description"]
    assert used == plan(req).description
    assert "Indian" in used and "angry" in used.lower()


def test_cancel_between_sentences_leaves_the_worker_usable(backend: ParlerBackend) -> None:
    token = CancelToken()
    stages: list[str] = []

    def progress(_fraction: float, stage: str) -> None:
        stages.append(stage)
        if stage == "sentence 2/3":
            token.cancel()

    req = VoiceRequest(text="One is here. Two is there. Three is gone.", seed=2)
    with pytest.raises(Cancelled):
        backend.run(req, progress=progress, cancel=token)
    assert stages == ["sentence 1/3", "sentence 2/3"]
    assert backend.ping()["loaded"] is True
    assert backend.run(req.replace(text="Still here.")).metadata["sentences"] == 1


def test_runs_from_two_threads_share_the_worker(backend: ParlerBackend) -> None:
    req = VoiceRequest(text="Same words twice.", seed=5)
    out: list[AudioClip] = []
    threads = [threading.Thread(target=lambda: out.append(_audio(backend, req))) for _ in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 2 and np.array_equal(out[0].samples, out[1].samples)


def test_protocol_errors_become_pipeline_errors(backend: ParlerBackend) -> None:
    with pytest.raises(PipelineError, match="unknown op"):
        backend._worker.call("dance")


def test_unload_ends_the_worker(tiny_checkpoint: Path, parler_python: Path) -> None:
    # the way the studio loads it: the model dir holds the checkpoint, the env is found by pins
    b = ParlerBackend.load(LoadSettings(model_dir=tiny_checkpoint))
    assert b.info["versions"]["transformers"] == "4.46.1"
    pid = b.pid
    pong = b.ping()
    assert pid is not None and pong["pid"] == pid
    assert pong["offline"] is True, "the worker must run with HF_HUB_OFFLINE=1 by default"
    b.unload()
    assert b.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(PipelineError, match="load the backend again"):
        b.run(VoiceRequest.example())


def test_missing_checkpoint_says_where_it_goes(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="parler_checkpoint") as info:
        ParlerBackend.load(LoadSettings())
    assert "<model dir>/parler-tts" in str(info.value)
    with pytest.raises(PipelineError, match="not a Parler-TTS checkpoint"):
        ParlerBackend.load(LoadSettings(options={"parler_checkpoint": str(tmp_path / "none")}))
    with pytest.raises(PipelineError, match="No Parler-TTS checkpoint"):
        ParlerBackend.load(LoadSettings(model_dir=tmp_path))


def test_missing_env_says_how_to_install(tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text('{"model_type": "parler_tts"}', encoding="utf-8")
    settings = LoadSettings(model_dir=ckpt, options={"envs_dir": str(tmp_path / "envs")})
    with pytest.raises(PipelineError, match=r"python launch\.py backends install parler"):
        ParlerBackend.load(settings)
