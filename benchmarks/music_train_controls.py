"""Does a trained music checkpoint use its controls? Held-out loss (NumPy runtime, the trainer's
held-out pieces, first window, untransposed) with the pieces' true controls, with all controls
"any", with all controls taken from another held-out piece (meter kept), and with one control at
a time taken from another piece. A model that follows a control loses more when it is wrong.

    .venv/bin/python benchmarks/music_train_controls.py --checkpoint X.npz --corpus C.npz [--n 100]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pipelines.music.learned import controls as ctl
from pipelines.music.learned import vocab
from pipelines.music.learned.corpus import load_corpus, split_pieces
from pipelines.music.learned.runtime import EmoGenModel

PREFIX = len(vocab.CONTROL_ORDER) + 2


def loss(model: EmoGenModel, ids: list[int]) -> tuple[float, int]:
    ids = ids[: model.max_len]
    logits = model.forward(ids)[0].astype(np.float64)
    logits -= logits.max(1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    targets = np.asarray(ids[PREFIX:])
    return -float(logp[np.arange(PREFIX - 1, len(ids) - 1), targets].sum()), len(targets)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args()
    model = EmoGenModel.load(args.checkpoint)
    if model.config["corpus_sha256"] != load_corpus(args.corpus)[1]["sha256"]:
        raise SystemExit("The checkpoint was trained on another corpus.")
    pieces, _ = load_corpus(args.corpus)
    held = split_pieces(len(pieces))[1][: args.n]
    edges = model.config["bucket_edges"]
    true = [
        ctl.to_tokens(ctl.measure(pieces[i]["notes"], pieces[i]["ts"], pieces[i]["n_bars"]),
                      pieces[i]["ts"], edges)
        for i in held
    ]  # fmt: skip
    other = true[1:] + true[:1]
    variants: dict[str, list[dict]] = {
        "true controls": true,
        "all any": [{"TS": c["TS"], **dict.fromkeys(vocab.CONTROL_ORDER[1:])} for c in true],
        "all shuffled": [{**o, "TS": c["TS"]} for c, o in zip(true, other, strict=True)],
    }
    for name in vocab.CONTROL_ORDER[1:]:
        variants[f"{name} shuffled"] = [
            {**c, name: o[name]} for c, o in zip(true, other, strict=True)
        ]
    print(f"{len(held)} held-out pieces; loss per token (nats):")
    for label, cs in variants.items():
        total = count = 0.0
        for i, c in zip(held, cs, strict=True):
            p = pieces[i]
            ids = vocab.encode(p["notes"].tolist(), c, n_bars=p["n_bars"])
            s, n = loss(model, ids)
            total, count = total + s, count + n
        print(f"  {label:<18} {total / count:.4f}")


if __name__ == "__main__":
    main()
