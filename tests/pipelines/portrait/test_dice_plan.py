"""DICE-Talk port, the studio's side (main env, no torch): emotions → DICE-Talk's priors and
emotion guidance, the frame timeline (generated frames, interpolated frames, audio windows),
the model's frame size, the face box, and how an incomplete weights folder is reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipelines.emotion import EMOTIONS, EmotionSpec
from pipelines.portrait.dice import plan
from pipelines.portrait.dice.backend import face_box, model_frame
from pipelines.portrait.dice.layout import PRIORS, LayoutError, locate


def test_every_studio_emotion_has_its_own_prior() -> None:
    assert sorted(plan.PRIOR_OF[e] for e in EMOTIONS) == sorted(PRIORS)
    assert plan.prior_weights(EmotionSpec.of("fearful")) == {"fear": 1.0}
    assert plan.prior_weights(EmotionSpec.of("contemptuous")) == {"contempt": 1.0}


def test_blends_mix_priors_and_intensity_scales_emotion_guidance() -> None:
    spec = EmotionSpec.parse("happy:0.75+surprised:0.25@0.4")
    assert plan.prior_weights(spec) == {"happy": 0.75, "surprised": 0.25}
    assert plan.emotion_scale(spec, 6.0) == pytest.approx(2.4)
    assert plan.emotion_scale(EmotionSpec.of("sad"), 6.0) == 6.0
    vad = EmotionSpec.from_vad(-0.6, -0.3, -0.3)  # a VAD point counts as its nearest label
    assert plan.prior_weights(vad) == {"sad": 1.0}


@pytest.mark.parametrize(("fps", "step"), [(12, 1), (15, 1), (24, 2), (25, 2), (30, 2)])
def test_every_output_frame_comes_from_generated_frames(fps: int, step: int) -> None:
    assert plan.frame_step(fps) == step
    for frames in (1, 2, 49, 50, 51):
        count = plan.generated_frames(frames, step)
        sources = plan.output_sources(frames, step)
        assert len(sources) == frames
        assert max(b for _, b, _ in sources) == count - 1  # every generated frame is used
        for j, (a, b, w) in enumerate(sources):
            assert 0 <= a <= b < count and 0 <= w < 1
            assert (a + w * (b - a)) * step == pytest.approx(j)  # at the output frame's time


def test_audio_windows_follow_dice_talks_timing() -> None:
    # 25 fps: generated frame i is DICE-Talk's 12.5 fps frame i, heard through Whisper steps
    # [4i - 4, 4i + 6)
    assert plan.audio_window_starts(4, 2, 25) == [-4, 0, 4, 8]
    assert plan.audio_window_starts(3, 1, 12) == [-4, round(50 / 12) - 4, round(100 / 12) - 4]


def test_model_frame_has_sides_in_64s_and_keeps_the_box_in_place() -> None:
    frame = np.zeros((330, 200, 3), np.uint8)
    small, box = model_frame(frame, (50.0, 66.0, 150.0, 165.0), 512)
    assert small.shape == (320, 192, 3)  # short side 200 → 192; 330 × 0.96 → 320
    assert box == pytest.approx((48.0, 64.0, 144.0, 160.0))
    capped, _ = model_frame(np.zeros((1024, 1024, 3), np.uint8), (0, 0, 1, 1), 512)
    assert capped.shape == (512, 512, 3)


def test_face_box_covers_the_landmarks_and_the_forehead() -> None:
    points = np.array([[10, 40], [90, 40], [50, 140], [30, 30], [70, 30]], np.float32)
    x0, y0, x1, y1 = face_box(points)
    assert (x0, x1, y1) == (10, 90, 140) and y0 == pytest.approx(30 - 0.2 * 110)


def test_incomplete_folders_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="Not a DICE-Talk weights folder"):
        locate(tmp_path)
    for sub in ("DICE-Talk", "stable-video-diffusion-img2vid-xt/unet", "whisper-tiny"):
        (tmp_path / "checkpoints" / sub).mkdir(parents=True)
    with pytest.raises(LayoutError, match=r"lacks: .*unet\.pth.*emo/angry\.npy"):
        locate(tmp_path)
