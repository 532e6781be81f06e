"""Study statistics against independent implementations (statsmodels, the krippendorff package,
SciPy) to 1e-6, on fixed and random fixtures, missing ratings included."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss
from statsmodels.stats.multitest import multipletests

from pipelines.emotion import EMOTIONS
from pipelines.study import stats as st

# Fleiss (1971) / Wikipedia's worked example: 10 items, 14 raters, 5 categories → κ = 0.210
FLEISS_TABLE = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
])  # fmt: skip


def test_mos_matches_the_t_interval() -> None:
    votes = [4, 5, 3, 4, 4, 5, 2, 4]
    got = st.mos(votes)
    lo, hi = stats.t.interval(0.95, len(votes) - 1, np.mean(votes), stats.sem(votes))
    assert got.mean == pytest.approx(np.mean(votes), abs=1e-9)
    assert got.ci95 == pytest.approx((lo, hi), abs=1e-6) and not got.clipped
    near_top = st.mos([5, 5, 5, 4, 5, math.nan])  # a missing vote is ignored
    assert near_top.n == 5 and near_top.clipped and near_top.ci95[1] == 5.0
    assert math.isnan(st.mos([3]).ci95[0]) and st.mos([]).n == 0


def test_fleiss_kappa_matches_statsmodels() -> None:
    assert st.fleiss_kappa(FLEISS_TABLE) == pytest.approx(sm_fleiss(FLEISS_TABLE), abs=1e-6)
    assert st.fleiss_kappa(FLEISS_TABLE) == pytest.approx(0.2099, abs=1e-4)
    rng = np.random.default_rng(1)
    for _ in range(20):
        items, raters, cats = rng.integers(3, 30), rng.integers(2, 9), rng.integers(2, 10)
        table = np.stack([np.bincount(rng.integers(0, cats, raters), minlength=cats)
                          for _ in range(items)])  # fmt: skip
        assert st.fleiss_kappa(table) == pytest.approx(sm_fleiss(table), abs=1e-6)
    with pytest.raises(ValueError, match="same number"):
        st.fleiss_kappa(np.array([[1, 1], [2, 1]]))


@pytest.mark.parametrize("level", ["nominal", "interval"])
def test_krippendorff_alpha_matches_the_package_with_missing_ratings(level: str) -> None:
    # Krippendorff's own example (2011): 4 coders, 12 units, missing values
    data = np.array([
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ])  # fmt: skip
    want = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert st.krippendorff_alpha(data, level) == pytest.approx(want, abs=1e-6)
    rng = np.random.default_rng(2)
    for _ in range(20):
        raters, units = rng.integers(2, 7), rng.integers(4, 40)
        x = rng.integers(1, 6, (raters, units)).astype(float)
        x[rng.random(x.shape) < 0.25] = np.nan
        if np.unique(x[~np.isnan(x)]).size < 2 or np.sum(np.sum(~np.isnan(x), 0) >= 2) < 2:
            continue
        want = krippendorff.alpha(reliability_data=x, level_of_measurement=level)
        assert st.krippendorff_alpha(x, level) == pytest.approx(want, abs=1e-6)


def test_emotion_identification_figures() -> None:
    labels = [*EMOTIONS, "other"]
    truth = ["happy"] * 10 + ["sad"] * 10 + ["angry"] * 10
    answers = ["happy"] * 8 + ["surprised"] * 2 + ["sad"] * 6 + ["neutral"] * 4 + \
        ["angry"] * 5 + ["disgusted"] * 3 + ["other"] * 2  # fmt: skip
    m = st.confusion(truth, answers, labels)
    assert m.shape == (9, 9) and m.sum() == 30
    assert st.accuracy(m) == pytest.approx(19 / 30)
    hu = st.unbiased_hit_rates(m)
    happy = labels.index("happy")
    assert hu[happy] == pytest.approx(8 * 8 / (10 * 8))
    assert math.isnan(hu[labels.index("fearful")])  # never intended, never answered
    p = st.binomial_vs_chance(19, 30, 1 / 9)
    assert p == pytest.approx(stats.binomtest(19, 30, 1 / 9, "greater").pvalue, abs=1e-12)
    assert p < 1e-6


def test_ccc_and_each_rater_against_the_rest() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=50)
    y = 0.8 * x + rng.normal(scale=0.3, size=50) + 0.2
    # Lin (1989) from its definition with population moments, written independently
    sxy = np.cov(x, y, bias=True)[0, 1]
    want = 2 * sxy / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
    assert st.ccc(x, y) == pytest.approx(want, abs=1e-9)
    assert st.ccc(x, x) == pytest.approx(1.0) and st.ccc(x, -x) < -0.99
    ratings = np.vstack([x + rng.normal(scale=s, size=50) for s in (0.1, 0.2, 2.0)])
    ratings[0, 3] = np.nan
    per_rater = st.ccc_each_vs_rest(ratings)
    assert per_rater[0] > per_rater[2] and per_rater[1] > per_rater[2]


def test_holm_and_paired_wilcoxon_match_statsmodels_and_scipy() -> None:
    p = [0.01, 0.04, 0.03, 0.2, 0.001]
    assert st.holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]), abs=1e-12)
    rng = np.random.default_rng(4)
    a, b, c = rng.normal(60, 10, 20), rng.normal(50, 10, 20), rng.normal(59, 10, 20)
    out = st.wilcoxon_holm({"a-b": (a, b), "a-c": (a, c)})
    raw = [stats.wilcoxon(a, b).pvalue, stats.wilcoxon(a, c).pvalue]
    assert out["a-b"]["p"] == pytest.approx(raw[0], abs=1e-12)
    adjusted = multipletests(raw, method="holm")[1]
    assert [out["a-b"]["p_holm"], out["a-c"]["p_holm"]] == pytest.approx(list(adjusted))


def test_soft_labels() -> None:
    got = st.soft_labels(["sad", "sad", "fearful", "sad"], ["sad", "fearful", "angry"])
    assert got["distribution"] == [0.75, 0.25, 0.0] and got["majority"] == "sad"
    assert got["agreement"] == 0.75 and got["pairwise_agreement"] == pytest.approx(0.5)
    assert st.soft_labels([], ["sad"])["majority"] is None
