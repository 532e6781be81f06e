"""Smoke train through the real CLI and env: ``launch.py music-train`` on ~60 items of the
bundled corpus (a tiny model, well under two minutes) → an ``.npz`` the NumPy runtime loads,
whose held-out loss beats the untrained model's, then ``--resume`` continues from its state."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipelines import envs
from pipelines.music.learned import controls as ctl
from pipelines.music.learned import vocab
from pipelines.music.learned.corpus import ESSEN, load_corpus, split_pieces
from pipelines.music.learned.runtime import EmoGenModel
from pipelines.music.learned.train_env import SPEC

ROOT = Path(__file__).resolve().parents[3]
PREFIX = len(vocab.CONTROL_ORDER) + 2


def _cli(*args: str, data: Path) -> str:
    env = {**os.environ, "AFFECT_STUDIO_DATA_DIR": str(data), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "launch.py", "music-train", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _numpy_heldout_loss(model: EmoGenModel, corpus: Path) -> float:
    """The runtime's loss on the trainer's held-out pieces (full controls, first window)."""
    pieces, _ = load_corpus(corpus)
    edges = model.config["bucket_edges"]
    total, count = 0.0, 0
    for i in split_pieces(len(pieces))[1]:
        p = pieces[i]
        raw = ctl.measure(p["notes"], p["ts"], p["n_bars"])
        ids = vocab.encode(
            p["notes"].tolist(), ctl.to_tokens(raw, p["ts"], edges), n_bars=p["n_bars"]
        )
        ids = ids[: model.max_len]
        logits = model.forward(ids)[0].astype(np.float64)
        logp = logits - logits.max(1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(1, keepdims=True))
        targets = np.asarray(ids[PREFIX:])
        total -= float(logp[np.arange(PREFIX - 1, len(ids) - 1), targets].sum())
        count += len(targets)
    return total / count


@pytest.mark.slow
def test_smoke_train_beats_untrained_and_resumes(tmp_path: Path) -> None:
    try:
        envs.ensure_env(SPEC)
    except envs.EnvBuildError as exc:
        if exc.network:
            pytest.skip(f"music-train env not built: the package index is unreachable ({exc})")
        raise
    out = tmp_path / "smoke.npz"
    common = ["--corpus", "bundled", "--limit", "60", "--size", "tiny", "--out", str(out)]
    log = _cli(*common, "--minutes", "0.5", data=tmp_path / "data")
    corpus = Path(re.findall(r"corpus: (?:cached at |.*→ )(\S+\.npz)", log)[-1])
    model = EmoGenModel.load(out)
    cfg = model.config
    assert cfg["vocab"] == list(vocab.VOCAB) and cfg["max_len"] == 256
    assert cfg["tokens_seen"] > 50_000 and 40 <= cfg["pieces"] <= 60
    assert not any(ESSEN in s for s in cfg["sources"]) and "without the Essen" in cfg["licence"]
    assert cfg["initial_heldout_loss"] == pytest.approx(math.log(len(vocab.VOCAB)), abs=0.3)
    assert cfg["heldout_loss"] < cfg["initial_heldout_loss"] - 1.0  # real learning, 3 pieces
    # the exported layout is what the runtime computes: its loss matches the trainer's
    assert _numpy_heldout_loss(model, corpus) == pytest.approx(cfg["heldout_loss"], abs=0.05)

    first = cfg["tokens_seen"]
    log = _cli(*common, "--resume", "--tokens", str(first + 20_000), data=tmp_path / "data")
    assert f"resuming at {first} tokens" in log and "cached at" in log
    again = EmoGenModel.load(out).config
    assert first + 20_000 <= again["tokens_seen"] < first + 60_000
    assert again["initial_heldout_loss"] == cfg["initial_heldout_loss"]
