"""`dvmap_hf/evaluation/metrics.py`: the paper's metrics and the distribution distances."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from dvmap_hf.evaluation.metrics import accuracy, distribution_distances, likert_consistency, wasserstein_distance


def test_distribution_distances_against_scipy():
    rng = np.random.default_rng(0)
    k = np.array([4] * 40 + [3] * 30 + [5] * 30)
    groups = ["a"] * 40 + ["b"] * 30 + ["c"] * 30
    ref = np.array([rng.integers(n) for n in k])
    pred = np.array([rng.integers(-1, n) for n in k])
    probs = [rng.dirichlet(np.ones(n)).tolist() for n in k]
    got = distribution_distances(pred, ref, k, groups, probs)
    tvs, jss, soft_tvs, soft_jss = [], [], [], []
    for g, n in (("a", 4), ("b", 3), ("c", 5)):
        rows = np.array(groups) == g
        real = np.bincount(ref[rows], minlength=n) / rows.sum()
        valid = pred[rows][pred[rows] >= 0]
        guess = np.bincount(valid, minlength=n) / len(valid)
        soft = np.mean([probs[i] for i in np.flatnonzero(rows)], axis=0)
        tvs.append(0.5 * np.abs(guess - real).sum())
        jss.append(jensenshannon(guess, real, base=2))
        soft_tvs.append(0.5 * np.abs(soft - real).sum())
        soft_jss.append(jensenshannon(soft, real, base=2))
    assert got["total_variation"] == pytest.approx(np.mean(tvs))
    assert got["jensen_shannon"] == pytest.approx(np.mean(jss))
    assert got["soft_total_variation"] == pytest.approx(np.mean(soft_tvs))
    assert got["soft_jensen_shannon"] == pytest.approx(np.mean(soft_jss))
    # edges: identical -> 0, disjoint point masses -> 1, a group with no valid prediction -> 1
    assert distribution_distances([0, 1], [0, 1], 2, ["g", "g"]) == {"total_variation": 0.0, "jensen_shannon": 0.0}
    assert distribution_distances([0], [1], 2) == {"total_variation": 1.0, "jensen_shannon": 1.0}
    assert distribution_distances([-1], [1], 2)["jensen_shannon"] == 1.0


def test_likert_consistency_by_hand():
    # exact -> 1, one step of 3 -> 2/3, invalid -> 0
    assert likert_consistency([0, 2, -1], [0, 1, 3], 4) == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert likert_consistency([0, 4], [4, 4], [5, 5]) == pytest.approx(0.5)
    assert accuracy([0, 2, -1], [0, 1, -0]) == pytest.approx(1 / 3)


def test_wasserstein_edges():
    assert wasserstein_distance([1, 2, 3], [1, 2, 3], 4)["wasserstein_distance"] == 0
    ends = wasserstein_distance([0, 0], [3, 3], 4)
    assert ends["wasserstein_distance"] == 1.0
    assert wasserstein_distance([0, 0], [3, 3], 4, normalize=False)["wasserstein_distance"] == 3.0


def test_wasserstein_sees_the_order_of_the_options():
    """Relabelling the options (0, 1, 2) -> (0, 2, 1) moves the reference mass two steps away, not one.
    Passing probability vectors to scipy as *samples* (a published mistake) cannot see that."""
    one_step = wasserstein_distance([0, 0], [1, 1], 3)["wasserstein_distance"]
    two_steps = wasserstein_distance([0, 0], [2, 2], 3)["wasserstein_distance"]
    assert (one_step, two_steps) == (0.5, 1.0)
    p, r, r_permuted = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]
    assert scipy.stats.wasserstein_distance(p, r) == scipy.stats.wasserstein_distance(p, r_permuted)


def test_wasserstein_groups_and_invalid_predictions():
    result = wasserstein_distance([0, -1, -1, -1], [0, 0, 1, 2], [2, 2, 3, 3], groups=["a", "a", "b", "b"])
    assert result["groups"] == 2 and result["groups_without_valid_prediction"] == 1
    assert result["invalid_rate"] == 0.75
    assert result["wasserstein_distance"] == pytest.approx((0 + 1) / 2)  # group b counts as the maximum


@settings(max_examples=80, deadline=None)
@given(
    st.integers(2, 7).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(st.integers(0, k - 1), min_size=1, max_size=40),
            st.lists(st.integers(0, k - 1), min_size=1, max_size=40),
        )
    )
)
def test_wasserstein_matches_scipy_with_positions_as_values(case):
    k, pred, ref = case
    n = min(len(pred), len(ref))
    pred, ref = pred[:n], ref[:n]
    positions = np.arange(k)
    expected = scipy.stats.wasserstein_distance(
        positions, positions, np.bincount(pred, minlength=k), np.bincount(ref, minlength=k)
    )
    got = wasserstein_distance(pred, ref, k, normalize=False)["wasserstein_distance"]
    assert got == pytest.approx(expected, abs=1e-12)
    assert wasserstein_distance(pred, ref, k)["wasserstein_distance"] == pytest.approx(expected / (k - 1), abs=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: likert_consistency([0, 1], [0], 4), "differ in length"),
        (lambda: likert_consistency([0], [4], 4), "reference 4 at row 0 is out of range 0..3"),
        (lambda: likert_consistency([5], [0], 4), "prediction 5 at row 0 is out of range -1..3"),
        (lambda: likert_consistency([0], [0], 1), "num_options must be >= 2"),
        (lambda: likert_consistency([0, 0], [0, 0], [4]), "num_options has 1 values for 2 rows"),
        (lambda: wasserstein_distance([0, 0], [0, 0], [3, 4], groups=["g", "g"]), "same for every row of a group"),
        (lambda: wasserstein_distance([], [], 3), "no rows"),
    ],
)
def test_bad_input_is_refused_with_a_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_weights_count_rows_as_if_repeated():
    """A bootstrap draw is a weight per row: every metric equals the metric of the rows repeated."""
    from dvmap_hf.evaluation.metrics import (
        accuracy,
        distribution_distances,
        invalid_rate,
        likert_consistency,
        wasserstein_distance,
    )

    rng = np.random.default_rng(0)
    n = 300
    ref, k = rng.integers(0, 4, n), np.full(n, 4)
    pred = np.where(rng.random(n) < 0.1, -1, rng.integers(0, 4, n))
    groups, probs = rng.integers(0, 6, n), rng.dirichlet(np.ones(4), n)
    weights = rng.integers(0, 4, n)
    weights[groups == 5] = 0  # a group with no row drawn is absent, not a distance of 0 or 1
    rep = np.repeat(np.arange(n), weights)
    assert accuracy(pred, ref, k, weights) == pytest.approx(accuracy(pred[rep], ref[rep], k[rep]))
    assert likert_consistency(pred, ref, k, weights) == pytest.approx(likert_consistency(pred[rep], ref[rep], k[rep]))
    assert invalid_rate(pred, weights) == pytest.approx(invalid_rate(pred[rep]))
    got = wasserstein_distance(pred, ref, k, groups, weights=weights)
    want = wasserstein_distance(pred[rep], ref[rep], k[rep], groups[rep])
    assert got == pytest.approx(want) and got["groups"] == 5
    got = distribution_distances(pred, ref, k, groups, probs, weights)
    assert got == pytest.approx(distribution_distances(pred[rep], ref[rep], k[rep], groups[rep], probs[rep]))
    with pytest.raises(ValueError, match="weights"):
        accuracy(pred, ref, k, -weights)
