"""DICE-Talk port end to end on the CPU: the ``dice`` Portrait backend, its worker in the
isolated env, and a tiny random checkpoint folder in DICE-Talk's own layout built by the test
(``dice_checkpoint.py``): real speech (the bundled sentence, 2.0 s) and the bundled photo →
an MP4 with exactly the audio's frame count, frames that follow the emotion prior and the seed,
progress per window, cancel between windows; and the messages for a folder that is missing or
incomplete or holds another part's weights, and for a missing environment (every kind of
mismatched weights: ``test_dice_weights.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile

from pipelines import registry
from pipelines.base import Cancelled, CancelToken, LoadSettings, PipelineError
from pipelines.portrait.request import SAMPLE_SPEECH, PortraitRequest
from pipelines.portrait.video import read_frames
from tests.pipelines.portrait.dice_env import run_in_dice_env

pytestmark = pytest.mark.slow

SECONDS, FPS = 2.0, 25
OPTIONS = {"dice_steps": 2, "dice_window": 13, "dice_overlap": 3, "dice_max_side": 64}
"""Tiny sampler settings: the model at 64 × 64 px (the video at 128), 26 generated frames in
windows at 0, 10 and 13, 2 Euler steps."""
BUILD = (
    "import json, sys\n"
    "from pathlib import Path\n"
    "from tests.pipelines.portrait.dice_checkpoint import build\n"
    "print('REPORT ' + json.dumps({'root': str(build(Path(sys.argv[1])))}))\n"
)


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dice-e2e") / "models"
    report, _ = run_in_dice_env(BUILD, str(root))
    return Path(report["root"])


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled spoken sentence (1.8 s, 22.05 kHz) padded with silence to exactly 2.0 s."""
    samples, sr = soundfile.read(str(SAMPLE_SPEECH), dtype="float32")
    out = np.zeros(round(SECONDS * sr), np.float32)
    out[: min(len(out), len(samples))] = samples[: len(out)]
    path = tmp_path_factory.mktemp("dice-audio") / "speech.wav"
    soundfile.write(str(path), out, sr, "PCM_16")
    return path


@pytest.fixture(scope="module")
def backend(weights: Path) -> Any:
    cls = registry.backend_class("portrait", "dice")
    loaded = cls.load(LoadSettings(model_dir=weights, threads=1, options=OPTIONS))
    yield loaded
    loaded.unload()


def _request(speech: Path, emotion: str, seed: int = 3) -> PortraitRequest:
    return PortraitRequest(
        audio=speech, emotion=emotion, size=128, fps=FPS, seed=seed, emotion_check=False
    )


@pytest.fixture(scope="module")
def runs(backend: Any, speech: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, emotion in (("happy", "happy"), ("sad", "sad"), ("again", "happy")):
        stages: list[str] = []
        result = backend.run(
            _request(speech, emotion), progress=lambda f, s, st=stages: st.append(s)
        )
        frames = np.stack(list(read_frames(result.video.path)))
        out[key] = {"result": result, "frames": frames, "stages": stages}
    return out


def test_mp4_has_exactly_the_audios_frames_with_its_audio(runs: dict[str, Any]) -> None:
    result = runs["happy"]["result"]
    path = result.video.path
    counted, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert counted == round(SECONDS * FPS) == result.metadata["frames"]
    assert seconds == pytest.approx(SECONDS, abs=0.05)
    audio, sr = soundfile.read(_audio_of(path))
    assert len(audio) / sr == pytest.approx(SECONDS, abs=0.06) and np.abs(audio).max() > 0.05
    frames = runs["happy"]["frames"]
    assert frames.shape == (50, 128, 128, 3)
    assert frames.std() > 5 and np.isfinite(frames.astype(np.float32)).all()
    assert len({f.tobytes() for f in frames}) > 25  # moving frames, not one still repeated
    dice = result.metadata["dice"]
    assert dice["generated_frames"] == 26 and dice["frame_step"] == 2
    assert result.metadata["licence"].startswith("Weights are the user's own download")


def _audio_of(path: Path) -> str:
    """The MP4's audio track as a WAV beside it (ffmpeg from imageio-ffmpeg)."""
    import subprocess

    wav = path.with_name(path.stem + "-audio.wav")
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(path), "-vn", str(wav)], check=True)
    return str(wav)


def test_emotion_prior_changes_the_frames_and_the_seed_repeats_them(
    runs: dict[str, Any],
) -> None:
    happy, sad, again = (runs[k]["frames"].astype(np.int16) for k in ("happy", "sad", "again"))
    assert np.abs(happy - sad).mean() > 1.0
    assert np.array_equal(happy, again)
    paths = [runs[k]["result"].video.path for k in ("happy", "again")]
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert runs["sad"]["result"].metadata["priors"] == {"sad": 1.0}


def test_progress_per_window_and_step(runs: dict[str, Any]) -> None:
    stages = [s for s in runs["happy"]["stages"] if s.startswith("step")]
    assert stages == [f"step {s}/2, window {w}/3" for s in (1, 2) for w in (1, 2, 3)]


def test_cancel_between_windows_then_the_backend_still_works(
    backend: Any, speech: Path, runs: dict[str, Any]
) -> None:
    token = CancelToken()
    seen: list[str] = []

    def progress(fraction: float, stage: str) -> None:
        seen.append(stage)
        if stage == "step 1/2, window 2/3":
            token.cancel()

    with pytest.raises(Cancelled):
        backend.run(_request(speech, "happy"), progress=progress, cancel=token)
    assert seen[-1] == "step 1/2, window 2/3"
    blend = backend.run(_request(speech, "happy:0.5+sad:0.5@0.5"))
    assert blend.metadata["priors"] == {"happy": 0.5, "sad": 0.5}
    assert blend.metadata["emotion_scale"] == 3.0 and blend.metadata["dice"]["rows"] == 4
    frames = np.stack(list(read_frames(blend.video.path))).astype(np.int16)
    assert len(frames) == 50 and np.abs(frames - runs["happy"]["frames"]).mean() > 1.0


def test_missing_or_broken_weights_are_explained(weights: Path, tmp_path: Path) -> None:
    cls = registry.backend_class("portrait", "dice")
    with pytest.raises(PipelineError, match="--model-dir"):
        cls.load(LoadSettings())
    with pytest.raises(PipelineError, match="does not exist"):
        cls.load(LoadSettings(model_dir=tmp_path / "nowhere"))
    with pytest.raises(PipelineError, match=r"missing .*dice-talk/.*whisper-tiny/"):
        cls.load(LoadSettings(model_dir=tmp_path))
    broken = tmp_path / "checkpoints"  # DICE-Talk's own repository keeps them there
    shutil.copytree(weights, broken)
    (broken / "stable-video-diffusion-img2vid-xt" / "vae" / "config.json").unlink()
    with pytest.raises(PipelineError, match=r"lacks: .*vae/config\.json"):
        cls.load(LoadSettings(model_dir=tmp_path))
    (broken / "stable-video-diffusion-img2vid-xt" / "vae" / "config.json").write_text(
        (weights / "stable-video-diffusion-img2vid-xt" / "vae" / "config.json").read_text()
    )
    dice = broken / "DICE-Talk"
    shutil.copy(dice / "pose_guider.pth", dice / "audio_linear.pth")  # weights of another part
    with pytest.raises(PipelineError, match=r"load failed: .*audio_linear\.pth.*proj1\.weight"):
        cls.load(LoadSettings(model_dir=tmp_path, threads=1))
    with pytest.raises(PipelineError, match="backends install dice"):
        cls.load(LoadSettings(model_dir=weights, options={"envs_dir": str(tmp_path / "envs")}))
    spec = registry.backend_spec("portrait", "dice")
    assert spec.needs_setup and "CC BY-NC-SA 4.0" in spec.description


def test_float16_weights_and_dice_talks_own_windows_make_a_clip(weights: Path) -> None:
    """``dice_fp16`` (the default on CUDA) loads every model in float16 but SVD's VAE; on the
    CPU it runs the dtype plumbing the GPU path uses (1 s of silence, kept short: float16 is
    slow on a CPU). Measured once on the 2 s speech: float16 frames differ from float32 ones by
    3.4 levels on average, another seed by 22. The same clip uses ``dice_windows="dice"``,
    DICE-Talk's own window scheme (its parity: ``test_dice_sampling.py``)."""
    cls = registry.backend_class("portrait", "dice")
    options = {**OPTIONS, "dice_fp16": True, "dice_windows": "dice"}
    half = cls.load(LoadSettings(model_dir=weights, threads=1, options=options))
    try:
        assert half.info["dtype"] == "float16"
        request = PortraitRequest(silence=1.0, size=128, fps=FPS, emotion_check=False)
        result = half.run(request)
    finally:
        half.unload()
    frames = np.stack(list(read_frames(result.video.path)))
    assert frames.shape == (25, 128, 128, 3) and frames.std() > 5
    dice = result.metadata["dice"]
    # 13 generated frames + a padding window of 13: two shifted windows
    assert dice["generated_frames"] == 13 and dice["windows"] == 2
