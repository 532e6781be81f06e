"""Fast unit checks: request validation, audio → mouth, visemes, prosody, the tiny backend."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.base import PipelineError
from pipelines.emotion import EmotionSpec
from pipelines.media import TimedUnit
from pipelines.portrait import animate, motion, mouth
from pipelines.portrait import audio as portrait_audio
from pipelines.portrait.request import PortraitRequest, pack_phonemes


def test_request_round_trip_with_phonemes_and_paths(tmp_path) -> None:
    req = PortraitRequest(
        image=str(tmp_path / "a.png"),
        phonemes=(TimedUnit("h", 0.0, 0.1), ("ə", 0.1, 0.2)),
        emotion="happy:0.7+surprised:0.3@0.8",
        voice_emotion="sad",
        seed=4,
    )
    again = PortraitRequest.from_dict(json.loads(req.to_json()))
    assert again == req
    assert again.phonemes == (("h", 0.0, 0.1), ("ə", 0.1, 0.2))
    assert again.emotion_label == "happy"
    assert PortraitRequest().emotion_label is None


def test_request_errors_are_actionable() -> None:
    with pytest.raises(PipelineError, match="size must be one of"):
        PortraitRequest(size=333)
    with pytest.raises(PipelineError, match="ends"):
        pack_phonemes([("a", 1.0, 0.5)])
    with pytest.raises(PipelineError, match="Unknown emotion"):
        PortraitRequest(emotion="hapy")


def test_mouth_opening_follows_loudness(speech_samples) -> None:
    samples = speech_samples
    n = 75
    track = mouth.from_audio(samples, 16000, 25, n)
    db = mouth.frame_features(samples, 16000, 25, n)[:, 0]
    r = np.corrcoef(track.opening, np.maximum(db, db.max() - 40))[0, 1]
    assert r > 0.8
    assert track.opening.max() <= mouth.MAX_OPEN + 1e-6
    silent = mouth.from_audio(np.zeros(48000, np.float32), 16000, 25, n)
    assert not silent.opening.any()


def test_visemes_close_for_bilabials_and_open_for_vowels() -> None:
    assert mouth.viseme("m")[0] == 0.0
    assert mouth.viseme("ɑː")[0] > 0.8
    assert mouth.viseme("uw")[2] > 0.8  # rounded
    audio = mouth.MouthTrack(*(np.ones(25, np.float32) for _ in range(4)))
    phon = [("m", 0.0, 0.4), ("a", 0.4, 0.8), ("m", 0.8, 1.0)]
    track = mouth.from_phonemes(phon, audio, 25, 25)
    assert track.opening[15] > 3 * track.opening[3]
    assert track.closed is not None and track.closed[3] == 1.0 and track.closed[15] == 0.0
    assert track.opening[3] == 0.0 and track.opening[23] == 0.0  # inside the m's: shut


def test_bilabials_close_the_lips_even_for_a_surprised_resting_jaw(astronaut) -> None:
    """Surprise drops the jaw at rest; an m still presses the lips together."""
    from pipelines.portrait.face import FaceModels, find_face
    from pipelines.portrait.landmark_warp import frame_photo

    pts = find_face(FaceModels.load(), astronaut, "astronaut", [])
    frame, p = frame_photo(astronaut, pts, 256, True)
    prep = animate.prepare(frame, p)
    ones = np.ones(25, np.float32)
    audio = mouth.MouthTrack(ones, ones * 0, ones * 0, ones)
    phon = [("m", 0.0, 0.4), ("a", 0.4, 0.8), ("m", 0.8, 1.0)]
    track = mouth.from_phonemes(phon, audio, 25, 25)
    head = motion.HeadTrack(ones * 0, ones * 0, ones * 0)
    plan = animate.make_plan(prep, EmotionSpec.of("surprised"), track, ones * 0, head)

    def gap(i: int) -> float:
        f = animate.face_points(prep, plan, i)
        return float(np.mean(f[[65, 66, 67], 1] - f[[63, 62, 61], 1]))

    assert gap(3) < 0.005 and gap(23) < 0.005
    assert gap(15) > 0.1


def test_prosody_estimate_is_a_mild_label(speech_samples) -> None:
    spec, facts = portrait_audio.estimate_emotion(speech_samples, 16000)
    assert isinstance(spec, EmotionSpec) and spec.intensity <= 0.6
    assert "pitch_median_hz" in facts and 90 < facts["pitch_median_hz"] < 200


def test_emotion_falls_back_to_the_voice_then_prosody(speech_wav) -> None:
    from pipelines.portrait.landmark_warp import choose_emotion

    samples, sr = portrait_audio.load_audio(speech_wav)
    voiced = PortraitRequest(audio=speech_wav, voice_emotion="sad")
    assert choose_emotion(voiced, samples, sr, False)[:2] == (EmotionSpec.of("sad"), "voice")
    assert choose_emotion(PortraitRequest(audio=speech_wav), samples, sr, False)[1] == (
        "audio prosody"
    )


def test_talking_mouth_shape_follows_the_emotion() -> None:
    from pipelines.portrait import expression

    gain = lambda spec: expression.talk_gain(EmotionSpec.parse(spec))  # noqa: E731
    assert gain("angry") < gain("disgusted") < gain("neutral") == 1.0 < gain("surprised")
    assert gain("angry@0") == 1.0
    assert gain("angry:0.5+surprised:0.5") == pytest.approx((0.85 + 1.2) / 2)


def test_head_turns_and_nods_follow_speech_emphasis(speech_samples) -> None:
    track = mouth.from_audio(speech_samples, 16000, 25, 75)
    head = motion.head_motion(3, track.energy, 25, 1.0)
    assert head.yaw is not None and head.pitch is not None
    assert 1.0 < head.range()["yaw_deg"] < 12 and 1.0 < head.range()["pitch_deg"] < 10
    onsets = np.clip(np.diff(track.energy, prepend=track.energy[:1]), 0, None)
    lagged = np.convolve(onsets, np.ones(5) / 5, mode="same")
    assert np.corrcoef(head.pitch, lagged)[0, 1] > 0.4  # chin dips on stressed onsets
    still = motion.head_motion(3, track.energy, 25, 0.0)
    assert still.range()["yaw_deg"] == 0.0 and still.range()["pitch_deg"] == 0.0


def test_a_turn_moves_the_nose_more_than_the_jaw_and_folds_nothing(astronaut) -> None:
    from pipelines.portrait import warp
    from pipelines.portrait.face import FaceModels, find_face
    from pipelines.portrait.landmark_warp import frame_photo

    pts = find_face(FaceModels.load(), astronaut, "astronaut", [])
    frame, p = frame_photo(astronaut, pts, 256, True)
    prep = animate.prepare(frame, p)
    z = np.zeros(3, np.float32)
    track = mouth.MouthTrack(z + 0.2, z, z, z + 1)
    turns = np.array([0.0, 6.0, -6.0], np.float32)
    head = motion.HeadTrack(z, z, z, turns, -turns)
    for emotion in ("surprised", "sad", "happy"):
        plan = animate.make_plan(prep, EmotionSpec.of(emotion), track, z, head)
        base = animate.frame_points(prep, plan, 0, safe=False)
        for i in (1, 2):
            raw = animate.frame_points(prep, plan, i, safe=False)
            assert warp.folded(prep.mesh, raw) == 0, (emotion, i)
            moved = np.linalg.norm(raw - base, axis=1)
            assert moved[30] > 2 * max(moved[0], moved[16]) and moved[30] > 1.0


def test_a_mirrored_photo_gets_the_mirrored_landmarks(astronaut) -> None:
    """dlib's detector and predictor are not mirror-symmetric on their own (a few pixels apart on
    a flipped photo); the mirror-averaged landmarks are, so a mirrored photo is animated alike."""
    from pipelines.portrait.face import MIRROR, FaceModels, find_face

    models = FaceModels.load()
    pts = find_face(models, astronaut, "astronaut", [])
    flipped = find_face(models, np.ascontiguousarray(astronaut[:, ::-1]), "mirrored", [])
    back = flipped[MIRROR]
    back[:, 0] = astronaut.shape[1] - 1 - back[:, 0]
    assert np.abs(back - pts).max() < 1.5
    plain = models.landmarks(astronaut, models.detect(astronaut)[0][0])
    assert np.abs(plain - pts).mean() < 3.0  # still the same face's points


def test_below_the_jaw_the_warp_bends_smoothly_and_the_face_keeps_its_own(astronaut) -> None:
    """An open jaw moves big jaw-to-outline triangles each linearly: straight edges crossing them
    (a collar) kinked at the seams. Below the jaw the displacement is now smooth (its second
    differences, where the kinks are, several times smaller); inside the face and above the
    jaw's ends (brows, eyes, nose, lips) the warp is exactly the mesh's."""
    import cv2

    from pipelines.portrait import warp
    from pipelines.portrait.face import FaceModels, find_face
    from pipelines.portrait.landmark_warp import frame_photo

    pts = find_face(FaceModels.load(), astronaut, "astronaut", [])
    frame, p = frame_photo(astronaut, pts, 256, True)
    prep = animate.prepare(frame, p)
    z = np.zeros(1, np.float32)
    plan = animate.make_plan(
        prep, EmotionSpec.of("surprised"), mouth.MouthTrack(z + 1, z, z, z + 1), z,
        motion.HeadTrack(z, z, z, z, z),
    )  # fmt: skip
    dst = animate.frame_points(prep, plan, 0, safe=True)
    sharp = warp.backward_maps(prep.mesh, dst)
    smooth = warp.smooth_below(*sharp, dst)
    h, w = sharp[0].shape
    face = np.zeros((h, w), np.uint8)  # brows, eyes, nose, lips and the skin between them
    cv2.fillConvexPoly(face, cv2.convexHull(np.round(dst[17:68]).astype(np.int32)), 1)
    inner = face.astype(bool)
    assert np.allclose(sharp[0][inner], smooth[0][inner], atol=0.05)
    assert np.allclose(sharp[1][inner], smooth[1][inner], atol=0.05)
    chin = dst[8]
    band = (
        slice(int(chin[1]) + 6, min(h, int(chin[1]) + 40)),
        slice(int(dst[4][0]), int(dst[12][0])),
    )

    def kinks(maps: tuple[np.ndarray, np.ndarray]) -> float:
        return max(float(np.abs(cv2.Laplacian(m, cv2.CV_32F))[band].max()) for m in maps)

    assert kinks(smooth) < kinks(sharp) / 2.5, (kinks(smooth), kinks(sharp))
