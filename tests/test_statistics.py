"""`dvmap_hf/evaluation/statistics.py`: profile-bootstrap intervals, paired comparisons, Holm."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dvmap_hf.evaluation.statistics import RunRows, compare, figures, holm, intervals, mcnemar


def _rows(correct: np.ndarray, per_profile: int = 1, seed: int = 0) -> RunRows:
    """Rows of 4-option questions whose prediction is right where `correct` says, else one option off."""
    n = len(correct)
    rng = np.random.default_rng(seed)
    reference = rng.integers(0, 3, n)
    predicted = np.where(correct, reference, reference + 1)
    return RunRows(
        ids=np.array([f"r{i}" for i in range(n)]),
        profiles=np.arange(n) // per_profile,
        predicted=predicted,
        reference=reference,
        num_options=np.full(n, 4),
        groups=rng.integers(0, 8, n),
        by_rule={"strict": predicted},
        probabilities=None,
    )


def test_the_interval_of_accuracy_matches_scipys_bootstrap_when_each_profile_has_one_row():
    correct = np.random.default_rng(1).random(400) < 0.6
    ours = intervals(_rows(correct), resamples=4000, seed=3)["overall"]["accuracy"]
    theirs = stats.bootstrap((correct.astype(float),), np.mean, n_resamples=4000, method="basic", random_state=5)
    assert ours == pytest.approx([theirs.confidence_interval.low, theirs.confidence_interval.high], abs=0.01)
    estimate = figures(_rows(correct))["accuracy"]
    assert ours[0] < estimate < ours[1]


def test_the_interval_shrinks_as_rows_grow_and_widens_when_rows_cluster():
    rng = np.random.default_rng(2)
    small, large = rng.random(400) < 0.5, rng.random(4000) < 0.5
    width = {}
    for name, correct, per_profile in [("small", small, 1), ("large", large, 1), ("clustered", large, 10)]:
        if name == "clustered":  # ten rows per profile, all right or all wrong: 400 independent draws
            correct = np.repeat(rng.random(400) < 0.5, 10)
        low, high = intervals(_rows(correct, per_profile), resamples=1000, seed=0)["overall"]["accuracy"]
        width[name] = high - low
    assert width["small"] / width["large"] == pytest.approx(np.sqrt(10), rel=0.2)
    assert width["clustered"] / width["large"] == pytest.approx(np.sqrt(10), rel=0.2)  # rows are not independent


def test_runs_built_to_differ_differ_and_runs_built_alike_do_not():
    rng = np.random.default_rng(4)
    base_correct = rng.random(2000) < 0.5
    better = base_correct | (rng.random(2000) < 0.2)  # right on about 10 points more of the rows
    alike = np.where(rng.random(2000) < 0.5, base_correct, rng.permutation(base_correct))
    base = _rows(base_correct, per_profile=4)
    differ = compare(base, _rows(better, per_profile=4), resamples=1000, seed=0)["accuracy"]
    assert differ["difference"] == pytest.approx(better.mean() - base_correct.mean())
    assert differ["interval"][0] > 0 and differ["p_value"] < 0.01 and differ["mcnemar_p"] < 1e-10
    same = compare(base, _rows(alike, per_profile=4), resamples=1000, seed=0)["accuracy"]
    assert same["interval"][0] < 0 < same["interval"][1] and same["p_value"] > 0.05 and same["mcnemar_p"] > 0.05
    with pytest.raises(ValueError, match="same rows"):
        compare(base, _rows(better[:100]), resamples=10, seed=0)


def test_mcnemar_is_the_exact_binomial_on_discordant_rows():
    base = np.array([True] * 10 + [False] * 2 + [True] * 50)
    other = np.array([False] * 10 + [True] * 2 + [True] * 50)
    assert mcnemar(base, other) == pytest.approx(stats.binomtest(10, 12, 0.5).pvalue)
    assert mcnemar(base, base) == 1.0


def test_holm_by_hand():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
