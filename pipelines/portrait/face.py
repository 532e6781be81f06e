"""Photos in, one face out: robust image loading, face detection and 68-point landmarks (dlib).

The models come from the ``face-recognition-models`` package (dlib's HOG frontal detector is built
into dlib; the 68-point shape predictor was trained on iBUG 300-W — non-commercial terms).
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.base import PipelineError

MAX_LOAD_SIDE = 4096
"""Photos larger than this are downscaled on load (an 8000×8000 photo still works)."""
DETECT_SIDE = 1024
MIN_FACE_PX = 60
CONFIDENT = 0.5
"""HOG detector score above which a second face counts as a real face."""
FRONTAL_HINT = "Use a sharp, frontal photo where the face is at least 80 px wide."


def model_dir() -> Path:
    """Where ``face-recognition-models`` keeps its bundled dlib models (no download, ever)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise PipelineError(
            "The face models are missing: install the 'face-recognition-models' and 'dlib-bin' "
            "packages (see README)."
        )
    return Path(spec.origin).parent / "models"


@dataclass
class FaceModels:
    """dlib's face detector, 68-point shape predictor and face descriptor — load once, share."""

    detector: Any
    predictor: Any
    describer: Any = field(default=None)

    @classmethod
    def load(cls, *, with_descriptor: bool = False) -> FaceModels:
        try:
            import dlib
        except ImportError as exc:
            raise PipelineError(
                "dlib is not installed: install the 'dlib-bin' package (see README)."
            ) from exc
        folder = model_dir()
        predictor = dlib.shape_predictor(str(folder / "shape_predictor_68_face_landmarks.dat"))
        describer = None
        if with_descriptor:
            path = folder / "dlib_face_recognition_resnet_model_v1.dat"
            describer = dlib.face_recognition_model_v1(str(path))
        return cls(dlib.get_frontal_face_detector(), predictor, describer)

    def detect(self, rgb: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """Faces as (box x0, y0, x1, y1 in ``rgb`` pixels, score), best first."""
        h, w = rgb.shape[:2]
        scale = min(1.0, DETECT_SIDE / max(h, w))
        small = rgb if scale == 1.0 else _resize(rgb, scale)
        rects, scores, _ = self.detector.run(np.ascontiguousarray(small), 1, 0.0)
        faces = [
            (np.array([r.left(), r.top(), r.right(), r.bottom()], float) / scale, float(s))
            for r, s in zip(rects, scores, strict=True)
        ]
        return sorted(faces, key=lambda f: -f[1])

    def landmarks(self, rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
        """68 (x, y) points for the face in ``box`` (float32, ``rgb`` pixels)."""
        import dlib

        x0, y0, x1, y1 = (round(v) for v in box)
        shape = self.predictor(np.ascontiguousarray(rgb), dlib.rectangle(x0, y0, x1, y1))
        return np.array([(p.x, p.y) for p in shape.parts()], np.float32)

    def landmarks_symmetric(self, rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
        """``landmarks`` averaged with those found on the mirrored photo (mapped back): dlib's
        predictor is not mirror-symmetric (a few pixels apart on a flipped photo), so a photo and
        its mirror image would otherwise be animated from different shapes."""
        w = rgb.shape[1]
        plain = self.landmarks(rgb, box)
        flipped = np.array([w - 1 - box[2], box[1], w - 1 - box[0], box[3]], float)
        back = self.landmarks(np.ascontiguousarray(rgb[:, ::-1]), flipped)[MIRROR]
        back[:, 0] = w - 1 - back[:, 0]
        return ((plain + back) / 2).astype(np.float32)

    def descriptor(self, rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
        """dlib's 128-d identity descriptor (same person: distance < 0.6)."""
        import dlib

        x0, y0, x1, y1 = (round(v) for v in box)
        shape = self.predictor(np.ascontiguousarray(rgb), dlib.rectangle(x0, y0, x1, y1))
        return np.array(self.describer.compute_face_descriptor(np.ascontiguousarray(rgb), shape))


MIRROR = np.array(
    [*range(16, -1, -1), *range(26, 16, -1), 27, 28, 29, 30, 35, 34, 33, 32, 31,
     45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40, *range(54, 47, -1), *range(59, 54, -1),
     64, 63, 62, 61, 60, 67, 66, 65]
)  # fmt: skip
"""The 68-point index each point becomes in the mirror image (left eye ↔ right eye, …)."""


def _resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def load_image(path: Path, notes: list[str]) -> np.ndarray:
    """Any photo as RGB uint8: EXIF-rotated, alpha flattened on white, CMYK/palette/grey/16-bit
    converted, huge photos downscaled (noted). Unreadable files raise ``PipelineError``."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not path.is_file():
        raise PipelineError(f"Photo {path.name} does not exist — choose a photo file.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                full = im.size
                im.draft("RGB", (MAX_LOAD_SIDE, MAX_LOAD_SIDE))
                im = ImageOps.exif_transpose(im)
                if im.mode in ("RGBA", "LA", "PA") or (
                    im.mode == "P" and "transparency" in im.info
                ):
                    rgba = im.convert("RGBA")
                    im = Image.new("RGB", rgba.size, (255, 255, 255))
                    im.paste(rgba, mask=rgba.getchannel("A"))
                elif im.mode.startswith("I;16") or im.mode == "I":
                    arr16 = np.asarray(im, dtype=np.float32)
                    im = Image.fromarray((arr16 / max(1.0, float(arr16.max())) * 255).astype("u1"))
                im = im.convert("RGB")
                if max(im.size) > MAX_LOAD_SIDE:
                    im.thumbnail((MAX_LOAD_SIDE, MAX_LOAD_SIDE), Image.Resampling.LANCZOS)
                rgb = np.asarray(im, dtype=np.uint8).copy()
    except UnidentifiedImageError as exc:
        raise PipelineError(
            f"{path.name} is not a photo this studio can read: it is not an image (PNG/JPEG/"
            "WebP) — choose a photo of a face saved as JPEG, PNG or WebP."
        ) from exc
    except Image.DecompressionBombError as exc:
        raise PipelineError(
            f"{path.name} is too large to open safely ({exc}) — save a smaller copy (e.g. "
            f"{MAX_LOAD_SIDE} px on its longest side) and retry."
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        detail = str(exc).replace(str(path), path.name).strip() or type(exc).__name__
        raise PipelineError(
            f"{path.name} looks damaged and could not be read ({detail}) — save it again as a "
            "JPEG or PNG and retry."
        ) from exc
    if rgb.shape[0] < 32 or rgb.shape[1] < 32:
        raise PipelineError(f"{path.name} is only {full[0]}×{full[1]} px. {FRONTAL_HINT}")
    if max(full) > MAX_LOAD_SIDE:
        notes.append(
            f"The {full[0]}×{full[1]} photo was downscaled to {rgb.shape[1]}×{rgb.shape[0]}."
        )
    return rgb


def find_face(models: FaceModels, rgb: np.ndarray, name: str, notes: list[str]) -> np.ndarray:
    """The 68 landmarks of the largest confident face in ``rgb`` (mirror-averaged); clear errors
    otherwise."""
    faces = models.detect(rgb)
    if not faces:
        raise PipelineError(f"No face found in {name}. {FRONTAL_HINT}")
    best_score = faces[0][1]
    confident = [f for f in faces if f[1] >= min(CONFIDENT, best_score)]
    box, _ = max(confident, key=lambda f: (f[0][2] - f[0][0]) * (f[0][3] - f[0][1]))
    if len(confident) > 1:
        notes.append(f"{len(confident)} faces found in {name}; animating the largest one.")
    width = float(box[2] - box[0])
    if width < MIN_FACE_PX:
        raise PipelineError(
            f"The face in {name} is only {width:.0f} px wide — too small to animate. "
            f"Use a photo where the face is at least {MIN_FACE_PX} px wide (crop closer or use a "
            "larger original)."
        )
    return models.landmarks_symmetric(rgb, _mirror_averaged_box(models, rgb, box))


def _mirror_averaged_box(models: FaceModels, rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    """``box`` averaged with the detector's box for the same face on the mirrored photo (the HOG
    detector is not mirror-symmetric either); ``box`` itself if the mirror finds no such face."""
    w = rgb.shape[1]
    mirrored = [f[0] for f in models.detect(np.ascontiguousarray(rgb[:, ::-1]))]
    flipped = [np.array([w - 1 - b[2], b[1], w - 1 - b[0], b[3]]) for b in mirrored]
    if not flipped:
        return box
    best = max(flipped, key=lambda b: _overlap(b, box))
    return (box + best) / 2 if _overlap(best, box) > 0.5 else box


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
