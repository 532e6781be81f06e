"""Real renders, measured on their output frames: expression directions, lip sync, duration,
blinks, and meshes that never fold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipelines.emotion import EMOTIONS, EmotionSpec
from pipelines.portrait import animate, expression, motion, mouth, warp
from pipelines.portrait.request import PortraitRequest
from pipelines.portrait.video import read_frames


def _check(backend: Any, image: Path | None, audio: Path, emotion: str) -> dict[str, Any]:
    req = PortraitRequest(image=image, audio=audio, emotion=emotion, size=256, seed=3)
    return backend.run(req).metadata["emotion_check"]


@pytest.fixture(scope="module")
def smiling(warp_backend, speech_wav) -> dict[str, dict[str, Any]]:
    """The default photo smiles with an open mouth: every emotion must still read."""
    labels = ("happy", "sad", "angry", "surprised")
    return {e: _check(warp_backend, None, speech_wav, e) for e in labels}


@pytest.fixture(scope="module")
def neutral_photo(warp_backend, tmp_path_factory) -> Path:
    """A photo that starts out neutral: a still of the default photo rendered neutral."""
    from PIL import Image

    res = warp_backend.run(
        PortraitRequest(emotion="neutral", silence=0.4, head_motion=0, blink_rate=0, size=512)
    )
    frame = next(read_frames(res.video.path))
    path = tmp_path_factory.mktemp("photos") / "neutral.png"
    Image.fromarray(frame).save(path)
    return path


def test_happy_lifts_lip_corners(smiling) -> None:
    assert smiling["happy"]["vs_neutral"]["corner_lift"] > 0.02


def test_sad_raises_inner_brows_and_lowers_corners(smiling) -> None:
    sad = smiling["sad"]["vs_neutral"]
    assert sad["inner_brow"] > 0.03
    assert sad["corner_lift"] < -0.02


def test_surprised_raises_brows_and_opens_eyes(smiling) -> None:
    s = smiling["surprised"]["vs_neutral"]
    assert s["inner_brow"] > 0.03 and s["outer_brow"] > 0.03
    assert s["eye_open"] > 0.01


def test_angry_lowers_brows(smiling) -> None:
    assert smiling["angry"]["vs_neutral"]["inner_brow"] < -0.03


def test_smiling_photo_can_look_sad(smiling) -> None:
    # the photo's own smile (corner height above the lip line) is gone, the corners drop
    assert smiling["sad"]["vs_photo"]["smile"] < -0.05
    assert smiling["sad"]["absolute"]["smile"] < smiling["happy"]["absolute"]["smile"] - 0.05


def test_lip_sync_follows_loudness(smiling) -> None:
    for report in smiling.values():
        assert report["lip_sync_r"] >= 0.8
        assert abs(report["lip_sync_lag_frames"]) <= 2


def test_directions_also_hold_on_a_neutral_photo(warp_backend, neutral_photo, speech_wav) -> None:
    happy = _check(warp_backend, neutral_photo, speech_wav, "happy")["vs_neutral"]
    sad = _check(warp_backend, neutral_photo, speech_wav, "sad")["vs_neutral"]
    angry = _check(warp_backend, neutral_photo, speech_wav, "angry")["vs_neutral"]
    assert happy["corner_lift"] > 0.02
    assert sad["inner_brow"] > 0.03 and sad["corner_lift"] < -0.02
    assert angry["inner_brow"] < -0.03


def test_duration_matches_audio_and_blinks_happen(warp_backend, speech_wav) -> None:
    import imageio_ffmpeg
    import soundfile

    req = PortraitRequest(audio=speech_wav, emotion="neutral", size=320, blink_rate=40, seed=5)
    res = warp_backend.run(req)
    audio_s = soundfile.info(str(speech_wav)).duration
    frames, video_s = imageio_ffmpeg.count_frames_and_secs(str(res.video.path))
    assert abs(video_s - audio_s) <= 1 / 25 + 1e-6
    assert abs(res.video.duration - audio_s) <= 1 / 25
    assert frames == res.metadata["frames"]
    assert res.metadata["emotion_check"]["blinks"] >= 1
    assert res.metadata["emotion_check"]["head_range"]["roll_deg"] > 0.5


def test_no_folded_triangles_at_the_extremes(astronaut) -> None:
    from pipelines.portrait.face import FaceModels, find_face
    from pipelines.portrait.landmark_warp import frame_photo

    models = FaceModels.load()
    pts = find_face(models, astronaut, "astronaut", [])
    frame, p = frame_photo(astronaut, pts, 256, True)
    prep = animate.prepare(frame, p)
    n = 4
    opening = np.array([0, mouth.MAX_OPEN, mouth.MAX_OPEN, 0], np.float32)
    ones = np.ones(n, np.float32)
    track = mouth.MouthTrack(opening, ones, ones * 0, ones)
    head = motion.HeadTrack(np.array([-5, 5, -5, 5], np.float32), ones * 0.05, ones * 0.08)
    specs = [EmotionSpec.of(e) for e in EMOTIONS]
    specs.append(EmotionSpec.blend({"surprised": 0.5, "fearful": 0.5}))
    specs.append(EmotionSpec.blend({"happy": 0.5, "disgusted": 0.5}))
    for spec in specs:
        plan = animate.make_plan(prep, spec, track, np.array([0, 1, 0.5, 1], np.float32), head)
        for i in range(n):
            raw = animate.frame_points(prep, plan, i, safe=False)
            assert warp.folded(prep.mesh, raw) == 0, (str(spec), i)


def test_deformation_units_are_mirror_symmetric() -> None:
    happy, _ = expression.emotion_offsets(EmotionSpec.of("happy"))
    assert happy[48, 0] < 0 < happy[54, 0]  # corners pulled outwards
    assert happy[48, 1] == pytest.approx(happy[54, 1])
    contempt, _ = expression.emotion_offsets(EmotionSpec.of("contemptuous"))
    assert contempt[54, 1] < contempt[48, 1]  # one-sided
