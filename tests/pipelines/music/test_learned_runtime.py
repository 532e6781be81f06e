"""The learned music decoder (NumPy, KV cache) against a plain, uncached forward pass written
out here from the format's description, on a tiny random checkpoint in the trainer's format."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from emogen_tiny import write_tiny

from pipelines.base import PipelineError
from pipelines.music.learned.checkpoint import load_checkpoint
from pipelines.music.learned.runtime import EmoGenModel, sample


def reference_logits(path: Path, tokens: list[int]) -> np.ndarray:
    """GPT-2 (pre-LN, GELU tanh, learned positions, tied output), one position at a time,
    attention written as loops over heads and earlier positions, in float64."""
    cfg, w64 = load_checkpoint(path)
    w = {k: v.astype(np.float64) for k, v in w64.items()}
    n_head, d = cfg["n_head"], cfg["d_model"]
    hd = d // n_head

    def ln(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (x - x.mean()) / math.sqrt(x.var() + 1e-5) * g + b

    def gelu(x: np.ndarray) -> np.ndarray:
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))

    xs = [w["tok_emb"][t] + w["pos_emb"][i] for i, t in enumerate(tokens)]
    for layer in range(cfg["n_layer"]):
        p = f"l{layer}."
        qkv = [ln(x, w[p + "ln1.w"], w[p + "ln1.b"]) @ w[p + "qkv.w"] + w[p + "qkv.b"] for x in xs]
        new = []
        for i, x in enumerate(xs):
            heads = []
            for h in range(n_head):
                q = qkv[i][h * hd : (h + 1) * hd]
                ks = [qkv[j][d + h * hd : d + (h + 1) * hd] for j in range(i + 1)]
                vs = [qkv[j][2 * d + h * hd : 2 * d + (h + 1) * hd] for j in range(i + 1)]
                s = np.array([q @ k / math.sqrt(hd) for k in ks])
                a = np.exp(s - s.max())
                a /= a.sum()
                heads.append(sum(aj * vj for aj, vj in zip(a, vs, strict=True)))
            x = x + np.concatenate(heads) @ w[p + "out.w"] + w[p + "out.b"]
            hid = gelu(ln(x, w[p + "ln2.w"], w[p + "ln2.b"]) @ w[p + "fc.w"] + w[p + "fc.b"])
            new.append(x + hid @ w[p + "proj.w"] + w[p + "proj.b"])
        xs = new
    return np.stack([ln(x, w["ln_f.w"], w["ln_f.b"]) @ w["tok_emb"].T for x in xs])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny(tmp_path_factory.mktemp("emogen") / "tiny.npz", seed=3, n_layer=2)


def test_whole_sequence_forward_matches_reference(tiny: Path) -> None:
    model = EmoGenModel.load(tiny)
    tokens = [int(t) for t in np.random.default_rng(0).integers(0, len(model.vocab), 20)]
    logits, _ = model.forward(tokens)
    ref = reference_logits(tiny, tokens)
    assert logits.dtype == np.float32
    assert np.abs(logits - ref).max() < 2e-5


def test_cached_batch_steps_match_reference_per_row(tiny: Path) -> None:
    """Three rows with different prompts and lengths, stepped together; one row re-filled
    mid-way (a new context window) — every step's logits equal the reference's."""
    model = EmoGenModel.load(tiny)
    gen = np.random.default_rng(1)
    seqs = [[int(t) for t in gen.integers(0, len(model.vocab), 30)] for _ in range(3)]
    prompts = [5, 1, 9]
    cache = model.new_cache(3)
    first = np.stack([model.fill(cache, r, seqs[r][: prompts[r]]) for r in range(3)])
    worst = max(
        np.abs(first[r] - reference_logits(tiny, seqs[r][: prompts[r]])[-1]).max() for r in range(3)
    )
    got: list[list[np.ndarray]] = [[], [], []]
    for k in range(12):
        if k == 6:  # row 1 starts again from a later window of its sequence
            seqs[1] = seqs[1][4:]
            prompts[1] = 1 + 6 - 4
            model.fill(cache, 1, seqs[1][: prompts[1]])
            got[1] = []
        feed = np.array([seqs[r][prompts[r] + len(got[r])] for r in range(3)])
        logits = model.step(feed, cache)
        for r in range(3):
            got[r].append(logits[r])
    for r in range(3):
        n = len(got[r])
        ref = reference_logits(tiny, seqs[r][: prompts[r] + n])[prompts[r] :]
        worst = max(worst, float(np.abs(np.stack(got[r]) - ref).max()))
    assert worst < 2e-5
    assert cache.length.tolist() == [5 + 12, 3 + 6, 9 + 12]


def test_sampling_respects_mask_top_p_and_seed() -> None:
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]] * 2000))
    allowed = np.ones_like(logits, dtype=bool)
    allowed[:, 0] = False  # renormalised: 0.6, 0.3, 0.1
    pick, logp = sample(logits, allowed, np.random.default_rng(0), top_p=0.85)
    assert set(pick.tolist()) == {1, 2}  # token 3 is outside the nucleus, token 0 masked
    assert abs((pick == 1).mean() - 0.6 / 0.9) < 0.04
    assert np.allclose(np.exp(logp[pick == 1]), 0.6 / 0.9)
    again, _ = sample(logits, allowed, np.random.default_rng(0), top_p=0.85)
    assert (again == pick).all()
    greedy, _ = sample(logits, allowed, np.random.default_rng(5), temperature=0)
    assert (greedy == 1).all()


def test_bad_checkpoints_say_what_is_wrong(tmp_path: Path, tiny: Path) -> None:
    with pytest.raises(PipelineError, match="does not exist"):
        EmoGenModel.load(tmp_path / "missing.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(tiny.read_bytes()[:2000])
    with pytest.raises(PipelineError, match="not a readable"):
        EmoGenModel.load(broken)
