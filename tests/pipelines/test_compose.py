"""Compose on the real default backends: one MP4 whose speech, face and music share an emotion."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipelines.base import LoadSettings, PipelineError
from pipelines.compose import MIX_RATE, ComposeBackend, ComposeRequest, duck_gain
from pipelines.media import AudioClip
from pipelines.voice import measure as voice_measure

TEXT = "The weather is nice today so we can walk to the park. I will call my mother after dinner."


@pytest.fixture(scope="module")
def composed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    backend = ComposeBackend.load(LoadSettings())
    out: dict[str, Any] = {}
    folder = tmp_path_factory.mktemp("compose")
    for key, req in {
        "happy": ComposeRequest(text=TEXT, emotion="happy", size=256),
        "sad": ComposeRequest(text=TEXT, emotion="sad", size=256),
        "dry": ComposeRequest(text=TEXT, emotion="happy", size=256, music=False),
    }.items():
        res = backend.run(req)
        path = folder / f"{key}.mp4"
        res.artifacts["video"].write(path)
        out[key] = (res, path)
    return out


def _audio(path: Path) -> np.ndarray:
    import imageio_ffmpeg

    raw = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-vn",
         "-f", "f32le", "-ac", "1", "-ar", str(MIX_RATE), "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype="<f4")


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-12))


def test_one_mp4_with_the_speech_framed_by_music(composed: dict[str, Any]) -> None:
    res, path = composed["happy"]
    audio = _audio(path)
    speech = res.metadata["speech_seconds"]
    assert abs(len(audio) / MIX_RATE - (speech + 2 * res.metadata["speech_offset"])) < 0.15
    assert res.media_seconds == pytest.approx(speech + 2.0, abs=0.1)
    dry = _audio(composed["dry"][1])
    # Over the music the speech is understood about as well as without it (19 words: one word
    # is 5 %); only the speech's span is transcribed (on music alone the recogniser invents).
    offset = res.metadata["speech_offset"]
    span = slice(int((offset - 0.1) * MIX_RATE), int((offset + speech + 0.1) * MIX_RATE))
    heard = voice_measure.transcribe(AudioClip(audio[span], MIX_RATE))
    heard_dry = voice_measure.transcribe(AudioClip(dry[span], MIX_RATE))
    assert voice_measure.wer(TEXT, heard_dry) <= 0.3, heard_dry
    assert voice_measure.wer(TEXT, heard) <= voice_measure.wer(TEXT, heard_dry) + 0.16, heard
    # Music in the first half second (before the voice), silence there without music.
    assert _db(audio[: MIX_RATE // 2]) > -50
    assert _db(dry[: MIX_RATE // 2]) < -70


def test_music_sits_under_the_voice_and_ducks(composed: dict[str, Any]) -> None:
    meta = composed["happy"][0].metadata
    req = ComposeRequest(text=TEXT)
    assert meta["music_vs_speech_db"] == pytest.approx(req.music_db - req.duck_db, abs=4.0)
    assert meta["ducking_db"] > req.duck_db / 2
    assert "ducking_db" not in composed["dry"][0].metadata


def test_the_emotion_reaches_voice_face_and_music(composed: dict[str, Any]) -> None:
    from pipelines.portrait import measure
    from pipelines.portrait.face import FaceModels
    from pipelines.portrait.video import read_frames

    happy, sad = composed["happy"][0], composed["sad"][0]
    assert happy.metadata["music"]["targets"]["mode"] == "major"
    assert sad.metadata["music"]["targets"]["mode"] == "minor"
    assert (
        happy.metadata["voice_measures"]["f0_median_hz"]
        > sad.metadata["voice_measures"]["f0_median_hz"]
    )
    models = FaceModels.load()
    corners = {}
    for key in ("happy", "sad"):
        lm = measure.track(models, read_frames(composed[key][1]))
        corners[key] = float(np.nanmedian(measure.features(lm)["corner_lift"]))
    assert corners["happy"] > corners["sad"] + 0.02, corners


def test_ducking_follows_the_voice() -> None:
    sr = 1000
    speech = np.zeros(3 * sr, np.float32)
    speech[sr : 2 * sr] = 0.3 * np.sin(np.arange(sr) * 0.3)
    gain, speaking = duck_gain(speech, sr, music_db=-16.0, duck_db=10.0)
    assert speaking[sr + 100 : 2 * sr - 100].all() and not speaking[: sr - 10].any()
    quiet = 20 * np.log10(gain[int(1.8 * sr)])
    loud = 20 * np.log10(gain[int(0.5 * sr)])
    assert loud - quiet == pytest.approx(10.0, abs=0.5)


@pytest.mark.parametrize(
    "fields",
    [{"text": ""}, {"text": "Hi.", "accent": "martian"}, {"text": "Hi.", "pad": -1}],
)
def test_bad_requests_say_what_is_wrong(fields: dict[str, Any]) -> None:
    with pytest.raises(PipelineError) as err:
        ComposeRequest.from_dict(fields)
    assert str(err.value)


@pytest.mark.parametrize("image", ["/etc/passwd", "/no/such/photo.jpg", "../../etc/passwd"])
def test_a_bad_photo_is_refused_before_any_work(image: str) -> None:
    backend = ComposeBackend.load(LoadSettings())
    steps: list[str] = []
    with pytest.raises(PipelineError, match=r"(?i)image|photo|picture|file"):
        backend.run(
            ComposeRequest(text="Hi.", image=Path(image)), progress=lambda f, m: steps.append(m)
        )
    assert not steps  # refused before the voice stage


def test_a_text_too_long_for_one_video_is_refused_up_front() -> None:
    with pytest.raises(PipelineError, match="at most 1000"):
        ComposeRequest(text="word " * 5000)
    assert ComposeRequest(text="word " * 1000).text


def test_cancel_after_the_portrait_leaves_no_video_behind() -> None:
    from pipelines.base import Cancelled, CancelToken
    from pipelines.compose import TinyComposeBackend

    backend = TinyComposeBackend.load(LoadSettings())
    made: list[Path] = []
    portrait_run = backend._portrait.run

    def portrait_and_note_its_file(request: Any, **kw: Any) -> Any:
        res = portrait_run(request, **kw)
        made.append(res.artifacts["video"].path)
        return res

    backend._portrait.run = portrait_and_note_its_file
    token = CancelToken()

    def progress(fraction: float, message: str) -> None:
        if fraction >= 0.9:  # the portrait is done; the music is being written
            token.cancel()

    with pytest.raises(Cancelled):
        backend.run(ComposeRequest.example(), progress=progress, cancel=token)
    assert len(made) == 1 and made[0].suffix == ".mp4"
    assert not made[0].exists()
    assert not made[0].with_name(made[0].stem + "-composed.mp4").exists()


def test_subtitles_follow_the_words_in_the_video(composed: dict[str, Any]) -> None:
    import imageio_ffmpeg

    res, path = composed["happy"]
    srt = res.artifacts["subtitles"].data.decode("utf-8")
    first = srt.splitlines()[1]  # "00:00:01,0xx --> …": the words start after the pad
    start = int(first[6:8]) + int(first[9:12]) / 1000
    assert res.metadata["speech_offset"] <= start < res.metadata["speech_offset"] + 0.5
    assert "weather" in srt.lower() and "dinner" in srt.lower()
    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True, text=True,
    ).stderr  # fmt: skip
    assert "Subtitle: mov_text" in probe and "Audio: aac" in probe and "Video: h264" in probe


def test_a_photo_given_as_text_becomes_a_path() -> None:
    req = ComposeRequest(text="Hi.", image="me.jpg")  # type: ignore[arg-type]
    assert req.image == Path("me.jpg")
    assert ComposeRequest.from_dict(req.to_dict()) == req
