"""Framing: "full" keeps the whole photo (aspect ratio, pixels outside the face), "face" crops
around the head, "auto" picks full for photos up to twice the face crop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipelines.base import PipelineError
from pipelines.emotion import EmotionSpec
from pipelines.portrait import animate
from pipelines.portrait.face import find_face
from pipelines.portrait.landmark_warp import face_crop_side, frame_photo, plan_clip
from pipelines.portrait.request import PortraitRequest
from pipelines.portrait.warp import _outline


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Mean SSIM (grey, 7-px Gaussian windows) over the pixels where ``mask`` is true."""
    import cv2

    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    blur = lambda v: cv2.GaussianBlur(v, (7, 7), 1.5)  # noqa: E731
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(s[mask].mean())


@pytest.fixture(scope="module")
def wide_photo(astronaut: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16:9 photo: the bundled portrait in a wider scene (reflected sides)."""
    from PIL import Image

    h, w = astronaut.shape[:2]
    pad = (round(h * 16 / 9) - w) // 2
    wide = np.pad(astronaut, ((0, 0), (pad, pad), (0, 0)), mode="reflect")
    path = tmp_path_factory.mktemp("framing") / "wide.png"
    Image.fromarray(wide).save(path)
    return path


def test_framing_is_validated_and_auto_chooses_by_size():
    with pytest.raises(PipelineError, match="framing"):
        PortraitRequest(framing="wide")
    req = PortraitRequest()
    assert req.framing_for(800, 400) == "full"
    assert req.framing_for(801, 400) == "face"
    assert PortraitRequest(framing="face").framing_for(500, 400) == "face"
    assert PortraitRequest(crop=False).framing_for(4000, 400) == "full"  # older requests


def test_full_framing_keeps_the_aspect_ratio(warp_backend, wide_photo):
    res = warp_backend.run(
        PortraitRequest(image=wide_photo, framing="full", silence=0.4, size=160,
                        emotion=EmotionSpec.of("happy"), emotion_check=False)
    )  # fmt: skip
    assert res.metadata["framing"] == "full"
    assert (res.video.height, res.video.width) == (160, 284)  # 16:9, even sides
    face = warp_backend.run(
        PortraitRequest(image=wide_photo, framing="face", silence=0.4, size=160,
                        emotion_check=False)
    )  # fmt: skip
    assert (face.video.height, face.video.width) == (160, 160)
    assert face.metadata["framing"] == "face"


def test_full_framing_leaves_the_photo_outside_the_face(warp_backend, wide_photo):
    """A real frame (emotion, talking mouth, head motion) against the photo it came from:
    outside the head outline the pixels match the source (SSIM ≥ 0.98)."""
    import cv2
    from PIL import Image

    rgb = np.asarray(Image.open(wide_photo).convert("RGB"))
    points = find_face(warp_backend.models, rgb, "wide", [])
    # the bundled portrait's short side is ~2.5 face crops: "auto" keeps today's crop for it
    assert PortraitRequest().framing_for(min(rgb.shape[:2]), face_crop_side(points)) == "face"
    frame, pts = frame_photo(rgb, points, 512, False)
    prep = animate.prepare(frame, pts)
    req = PortraitRequest(image=wide_photo, emotion=EmotionSpec.of("surprised"))
    samples = np.zeros(16000, np.float32)
    plan, n, _ = plan_clip(req, prep, samples, 16000, EmotionSpec.of("surprised"))
    out = animate.render_frame(prep, plan, n // 2)
    assert out.shape == frame.shape and frame.shape[1] / frame.shape[0] == pytest.approx(
        16 / 9, 0.01
    )
    outline, _ = _outline(pts)
    head = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(head, [np.round(outline).astype(np.int32)], 1)
    outside = cv2.dilate(head, np.ones((15, 15), np.uint8)) == 0
    assert outside.mean() > 0.5
    assert ssim(out, frame, outside) >= 0.98
    assert ssim(out, frame, head > 0) < 0.995  # the face itself did change
