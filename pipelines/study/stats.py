"""Statistics for listening/viewing studies (ITU-T P.800/P.808, MUSHRA, emotion identification).

Plain functions over NumPy arrays — no store, no UI — so the report, the tests and any notebook
compute the same numbers. Missing ratings are ``NaN`` where a function allows them.

- :func:`mos` — mean opinion score with a t-based 95 % CI (clipped to the scale, and flagged).
- :func:`confusion`, :func:`unbiased_hit_rates` (Wagner 1993), :func:`binomial_vs_chance`.
- :func:`fleiss_kappa` (Fleiss 1971), :func:`krippendorff_alpha` (nominal / interval / ordinal-
  free; missing ratings allowed).
- :func:`ccc` (Lin 1989) and :func:`ccc_each_vs_rest` for valence–arousal ratings.
- :func:`holm` and :func:`wilcoxon_holm` for paired A/B and MUSHRA comparisons.
- :func:`soft_labels` — each item's vote distribution and agreement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np


@dataclass(frozen=True)
class Mos:
    """A mean opinion score and its 95 % confidence interval."""

    mean: float
    ci95: tuple[float, float]
    n: int
    sd: float
    clipped: bool
    """True when the interval ran past the scale and was cut to it (few votes, or a mean near
    an end of the scale): report it with care."""


def mos(ratings: Sequence[float] | np.ndarray, low: float = 1.0, high: float = 5.0) -> Mos:
    """MOS ± t₀.₉₇₅,ₙ₋₁ · s/√n (ITU-T P.800/P.808), NaNs ignored; the CI is NaN below 2 votes."""
    from scipy import stats

    x = np.asarray(ratings, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return Mos(math.nan, (math.nan, math.nan), 0, math.nan, False)
    mean = float(x.mean())
    if n < 2:
        return Mos(mean, (math.nan, math.nan), 1, math.nan, False)
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    lo, hi = mean - half, mean + half
    clipped = lo < low or hi > high
    return Mos(mean, (max(lo, low), min(hi, high)), n, sd, clipped)


def confusion(truth: Sequence[str], responses: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Counts with rows = the intended label, columns = the answer (both in ``labels`` order;
    answers outside ``labels`` are not counted)."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, r in zip(truth, responses, strict=True):
        if t in index and r in index:
            matrix[index[t], index[r]] += 1
    return matrix


def accuracy(matrix: np.ndarray) -> float:
    total = matrix.sum()
    return float(np.trace(matrix) / total) if total else math.nan


def unbiased_hit_rates(matrix: np.ndarray) -> np.ndarray:
    """Wagner's (1993) Hu per class: nᵢᵢ² / (rowᵢ · colᵢ) — hits corrected for how often a
    class was answered at all (NaN where a row or column is empty)."""
    m = np.asarray(matrix, dtype=float)
    rows, cols = m.sum(axis=1), m.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        hu = np.diag(m) ** 2 / (rows * cols)
    return np.where((rows > 0) & (cols > 0), hu, math.nan)


def binomial_vs_chance(correct: int, n: int, chance: float) -> float:
    """One-sided p that ``correct`` of ``n`` or more would come from guessing at ``chance``."""
    from scipy import stats

    if n <= 0:
        return math.nan
    return float(stats.binomtest(int(correct), int(n), float(chance), "greater").pvalue)


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' κ from an items × categories table of how many raters chose each category; every
    item must have the same number of raters (use :func:`krippendorff_alpha` otherwise)."""
    table = np.asarray(counts, dtype=float)
    per_item = table.sum(axis=1)
    if table.ndim != 2 or table.shape[0] == 0 or not np.allclose(per_item, per_item[0]):
        raise ValueError("Fleiss' kappa needs the same number of ratings for every item.")
    n = per_item[0]
    if n < 2:
        raise ValueError("Fleiss' kappa needs at least two ratings per item.")
    p_j = table.sum(axis=0) / table.sum()
    p_i = (np.sum(table**2, axis=1) - n) / (n * (n - 1))
    p_bar, p_e = float(p_i.mean()), float(np.sum(p_j**2))
    return (p_bar - p_e) / (1.0 - p_e) if p_e < 1.0 else math.nan


def krippendorff_alpha(
    data: np.ndarray, level: Literal["nominal", "interval"] = "nominal"
) -> float:
    """Krippendorff's α from a raters × units array of values (NaN = missing). Nominal values
    may be any numeric codes; units with fewer than two ratings do not count."""
    x = np.asarray(data, dtype=float)
    if x.ndim != 2:
        raise ValueError("Krippendorff's alpha needs a raters x units array.")
    values = np.unique(x[~np.isnan(x)])
    if values.size < 2:
        return math.nan
    index = {v: i for i, v in enumerate(values)}
    k = values.size
    coincidence = np.zeros((k, k))
    for unit in x.T:
        present = unit[~np.isnan(unit)]
        m = present.size
        if m < 2:
            continue
        codes = np.array([index[v] for v in present])
        counts = np.bincount(codes, minlength=k).astype(float)
        pairs = np.outer(counts, counts) - np.diag(counts)  # ordered pairs, other coders
        coincidence += pairs / (m - 1)
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    if level == "nominal":
        delta = 1.0 - np.eye(k)
    elif level == "interval":
        delta = (values[:, None] - values[None, :]) ** 2
    else:
        raise ValueError(f"Unknown level {level!r}: use 'nominal' or 'interval'.")
    observed = float(np.sum(coincidence * delta)) / n
    expected = float(np.sum(np.outer(n_c, n_c) * delta)) / (n * (n - 1))
    return 1.0 - observed / expected if expected > 0 else math.nan


def ccc(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Lin's concordance correlation coefficient (pairs with a NaN are dropped)."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if a.size < 2:
        return math.nan
    cov = float(np.mean((a - a.mean()) * (b - b.mean())))
    denom = float(a.var() + b.var() + (a.mean() - b.mean()) ** 2)
    return 2 * cov / denom if denom > 0 else math.nan


def ccc_each_vs_rest(ratings: np.ndarray) -> list[float]:
    """Each rater's CCC against the mean of the other raters (raters × items, NaN missing)."""
    r = np.asarray(ratings, dtype=float)
    out = []
    for i in range(r.shape[0]):
        others = np.delete(r, i, axis=0)
        counts = np.sum(~np.isnan(others), axis=0)
        sums = np.nansum(others, axis=0)
        rest = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        out.append(ccc(r[i], rest))
    return out


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the order given."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def wilcoxon_holm(
    pairs: Mapping[str, tuple[Sequence[float], Sequence[float]]],
) -> dict[str, dict[str, float]]:
    """Paired Wilcoxon signed-rank tests (two-sided), Holm-corrected across the comparisons."""
    from scipy import stats

    names = list(pairs)
    raw: list[float] = []
    stats_out: dict[str, dict[str, float]] = {}
    for name in names:
        a, b = (np.asarray(v, dtype=float) for v in pairs[name])
        result = stats.wilcoxon(a, b)
        stats_out[name] = {
            "statistic": float(result.statistic), "p": float(result.pvalue),
            "n": float(a.size), "median_difference": float(np.median(a - b)),
        }  # fmt: skip
        raw.append(float(result.pvalue))
    for name, adjusted in zip(names, holm(raw), strict=True):
        stats_out[name]["p_holm"] = adjusted
    return stats_out


def soft_labels(votes: Sequence[Any], labels: Sequence[Any]) -> dict[str, Any]:
    """An item's vote distribution over ``labels``, its majority and its agreement (the share
    of the majority, and the chance that two random raters agree)."""
    counts = np.array([sum(1 for v in votes if v == label) for label in labels], dtype=float)
    total = counts.sum()
    if total == 0:
        return {"distribution": [0.0] * len(labels), "majority": None, "agreement": math.nan,
                "pairwise_agreement": math.nan, "n": 0}  # fmt: skip
    pairwise = (
        float((counts * (counts - 1)).sum() / (total * (total - 1))) if total > 1 else math.nan
    )
    return {
        "distribution": (counts / total).tolist(),
        "majority": labels[int(np.argmax(counts))],
        "agreement": float(counts.max() / total),
        "pairwise_agreement": pairwise,
        "n": int(total),
    }
