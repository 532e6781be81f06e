"""Expression fidelity judged by an independent FER2013 CNN (``fer_judge``) on real warp renders:
the smiling bundled photo's neutral must not read happy, and the clearest emotions must read as
themselves. Figures for all photos: ``benchmarks/portrait_expression.py``."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.portrait.face import FaceModels, find_face
from pipelines.portrait.landmark_warp import frame_photo
from pipelines.portrait.neutral import mouth_opening_mask
from tests.pipelines.portrait.fer_judge import (
    HELD_OUT,
    TUNED,
    ExpressionJudge,
    photo_set,
    render_still,
)


@pytest.fixture(scope="module")
def judge() -> ExpressionJudge:
    return ExpressionJudge.load()


@pytest.fixture(scope="module")
def models() -> FaceModels:
    return FaceModels.load()


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    return photo_set()


def top(probs: dict[str, float] | None) -> str:
    assert probs is not None, "the judge found no face in the render"
    return max(probs, key=lambda k: probs[k])


def test_judge_reads_the_smiling_source_as_happy(judge, photos):
    """The judge works: the bundled photo itself is a broad smile."""
    probs = judge.probabilities(photos["bundled"])
    assert top(probs) == "happy" and probs["happy"] > 0.9


def test_neutral_of_a_smiling_photo_is_not_happy(judge, models, photos):
    for name in ("bundled", "zoomed"):
        probs = judge.probabilities(render_still(models, photos[name], "neutral"))
        assert top(probs) != "happy", (name, probs)
        assert probs["happy"] < 0.5, (name, probs)


JUDGED = ("neutral", "happy", "sad", "angry", "fearful", "surprised", "disgusted")


@pytest.mark.slow
@pytest.mark.parametrize("name", [*TUNED, *HELD_OUT])
def test_most_emotions_read_as_themselves_on_every_photo(judge, models, photos, name):
    """Silent stills: top-1 right for at least 5 of the 7 FER2013 classes on each photo, the
    tuned ones and those held out (at the time of writing bundled 6, mirrored 7, zoomed 5,
    tilted 6, reframed 6, shifted 6; the misses are neutral or disgust, FER2013's rarest
    class)."""
    tops = {e: top(judge.probabilities(render_still(models, photos[name], e))) for e in JUDGED}
    hits = [e for e in JUDGED if tops[e] == e]
    assert len(hits) >= 5, tops
    assert {"happy", "surprised", "fearful"} <= set(hits), tops


def test_sad_reads_sadder_than_neutral(judge, models, photos):
    neutral = judge.probabilities(render_still(models, photos["bundled"], "neutral"))
    sad = judge.probabilities(render_still(models, photos["bundled"], "sad"))
    assert sad["sad"] > neutral["sad"] + 0.1 and sad["happy"] < 0.2, (neutral, sad)


def test_source_teeth_are_painted_over_in_the_closed_mouth(models, photos):
    """The smiling photo shows teeth; the silent neutral render keeps none of them."""
    import cv2

    rgb = photos["bundled"]
    frame, pts = frame_photo(rgb, find_face(models, rgb, "photo", []), 512, True)
    opening = mouth_opening_mask(frame, pts)
    assert opening.sum() / 255 > 200  # the source's teeth are found
    out = render_still(models, rgb, "neutral")
    lips = np.zeros(out.shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(pts[48:60]).astype(np.int32)], 1)

    def teeth_like(img: np.ndarray) -> int:
        lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
        score = lab[..., 0] - 3 * np.abs(lab[..., 1] - 128) - 1.5 * np.abs(lab[..., 2] - 128)
        return int(((score > 170) & (lips > 0)).sum())

    before, after = teeth_like(frame), teeth_like(out)
    assert after < 0.15 * before, (before, after)
