"""Where a user's DICE-Talk weights sit (pure Python: the main environment checks a folder with
it before starting the worker, the worker loads from it).

The layout (``--model-dir``, or DICE-Talk's own ``checkpoints/`` folder)::

    <dir>/dice-talk/{unet.pth, audio_linear.pth, emo_model.pth, pose_guider.pth}
    <dir>/dice-talk/emo/<emotion>.npy      (or <dir>/emo/: the 8 emotion priors)
    <dir>/stable-video-diffusion-img2vid-xt/   (diffusers layout: unet/, vae/, image_encoder/,
                                                feature_extractor/, scheduler/)
    <dir>/whisper-tiny/                    (transformers layout: config.json, weights,
                                            preprocessor_config.json)

Folder names match case-insensitively (DICE-Talk's own download is ``DICE-Talk``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DICE_FILES = ("unet.pth", "audio_linear.pth", "emo_model.pth", "pose_guider.pth")
PRIORS = ("angry", "contempt", "disgusted", "fear", "happy", "neutral", "sad", "surprised")
"""DICE-Talk's eight emotion priors, by file stem."""
SVD = "stable-video-diffusion-img2vid-xt"
SVD_PARTS = ("vae/config.json", "image_encoder/config.json", "scheduler/scheduler_config.json")
"""What sampling needs from SVD's folder beyond its UNet (checked by :func:`find_full_layout`)."""
WHISPER_PARTS = ("config.json", "preprocessor_config.json")
LAYOUT_HELP = (
    "Download the weights yourself (DICE-Talk: CC BY-NC-SA 4.0, non-commercial; Stable Video "
    "Diffusion: Stability AI's licence) and lay them out as the README's DICE-Talk section shows."
)


class LayoutError(FileNotFoundError):
    """A file of the layout is missing; the message says which and where it goes."""


@dataclass(frozen=True)
class DiceLayout:
    root: Path
    dice: Path
    svd: Path
    whisper: Path
    priors: Path


def _child(parent: Path, name: str) -> Path | None:
    if (parent / name).is_dir():
        return parent / name
    if parent.is_dir():
        for p in sorted(parent.iterdir()):
            if p.is_dir() and p.name.lower() == name.lower():
                return p
    return None


def find_layout(root: Path) -> DiceLayout:
    """The layout's folders under ``root``; :class:`LayoutError` names what is missing."""
    root = Path(root)
    found = {n: _child(root, n) for n in ("dice-talk", SVD, "whisper-tiny")}
    missing = [f"{root}/{n}/" for n, p in found.items() if p is None]
    if missing:
        raise LayoutError(
            f"Not a DICE-Talk weights folder: missing {', '.join(missing)}. {LAYOUT_HELP}"
        )
    dice, svd, whisper = (found[n] for n in ("dice-talk", SVD, "whisper-tiny"))
    assert dice is not None and svd is not None and whisper is not None
    absent = [str(dice / f) for f in DICE_FILES if not (dice / f).is_file()]
    absent += [str(svd / "unet" / "config.json")] * (not (svd / "unet" / "config.json").is_file())
    absent += [str(whisper / "config.json")] * (not (whisper / "config.json").is_file())
    priors = next(
        (p for p in (_child(dice, "emo"), _child(root, "emo")) if p is not None), dice / "emo"
    )
    absent += [str(priors / f"{e}.npy") for e in PRIORS if not (priors / f"{e}.npy").is_file()]
    if absent:
        raise LayoutError(f"DICE-Talk weights folder {root} lacks: {', '.join(absent)}")
    return DiceLayout(root, dice, svd, whisper, priors)


def find_full_layout(root: Path) -> DiceLayout:
    """:func:`find_layout` plus everything sampling needs (VAE, image encoder, scheduler,
    Whisper's feature extractor)."""
    layout = find_layout(root)
    absent = [str(layout.svd / p) for p in SVD_PARTS if not (layout.svd / p).is_file()]
    absent += [str(layout.whisper / p) for p in WHISPER_PARTS if not (layout.whisper / p).is_file()]
    if absent:
        raise LayoutError(f"DICE-Talk weights folder {layout.root} lacks: {', '.join(absent)}")
    return layout


def locate(base: Path) -> DiceLayout:
    """The complete layout at ``base``, ``base/checkpoints`` (DICE-Talk's own repository) or
    ``base/dice``; the error of the closest candidate when none is complete."""
    first: LayoutError | None = None
    for candidate in (base, base / "checkpoints", base / "dice"):
        try:
            return find_full_layout(candidate)
        except LayoutError as exc:
            if first is None or ("lacks" in str(exc) and "lacks" not in str(first)):
                first = exc
    assert first is not None
    raise first
