"""`dvmap_hf/evaluation/statistics.py`: profile-bootstrap intervals, paired comparisons, Holm."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from dvmap_hf.evaluation.statistics import (
    DISTANCES,
    MIN_CORRECTED_BIAS_SE,
    MIN_GROUP_ROWS,
    RunRows,
    bias_aware_critical,
    cluster_mcnemar,
    compare,
    draws_of,
    figures,
    holm,
    intervals,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import coverage  # noqa: E402  (bench/coverage.py: the simulation with a known truth)

from dvmap_hf.evaluation.metrics import (  # noqa: E402
    accuracy,
    distribution_distances,
    invalid_rate,
    likert_consistency,
    wasserstein_distance,
)


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


def test_the_vectorised_bootstrap_equals_one_draw_at_a_time_with_the_public_metrics():
    """`draws_of` (per-profile sums times a matrix of profile counts) gives, draw for draw, what the kit
    computed before: one `rng.integers(P, size=P)` per resample, each row weighted by its profile's count,
    every figure by the public metric functions. Rows with invalid predictions, two matching rules, option
    probabilities, K of 3 and 5 in different groups, profiles of 1 to 6 rows."""
    rng = np.random.default_rng(4)
    n = 300
    profile = np.sort(rng.integers(0, 70, n))
    group = rng.integers(0, 12, n)
    k = np.where(group % 2 == 0, 3, 5)
    reference = rng.integers(0, k)
    predicted = np.where(rng.random(n) < 0.1, -1, rng.integers(0, k))
    strict = np.where(rng.random(n) < 0.2, -1, predicted)
    probabilities = [list(rng.dirichlet(np.ones(kk))) for kk in k]
    rows = RunRows.from_columns(
        np.arange(n), profile, predicted, reference, k, group, {"strict": strict}, probabilities
    )
    draws = draws_of(rows, 40, seed=9)
    loop = np.random.default_rng(9)
    count = int(rows.profiles.max()) + 1
    for b in range(40):
        w = np.bincount(loop.integers(count, size=count), minlength=count)[rows.profiles].astype(float)
        expected = {
            "accuracy": accuracy(predicted, reference, k, w),
            "accuracy_strict": accuracy(strict, reference, k, w),
            "likert_consistency": likert_consistency(predicted, reference, k, w),
            "wasserstein_distance": wasserstein_distance(predicted, reference, k, group, weights=w)[
                "wasserstein_distance"
            ],
            **distribution_distances(predicted, reference, k, group, probabilities, w),
            "invalid_rate": invalid_rate(predicted, w),
        }
        assert set(draws) == set(expected)
        for name, value in expected.items():
            assert draws[name][b] == pytest.approx(value, abs=1e-12), (b, name)
    plain = figures(rows)  # every profile once: the unweighted metrics
    assert plain["wasserstein_distance"] == pytest.approx(
        wasserstein_distance(predicted, reference, k, group)["wasserstein_distance"]
    )
    assert plain["soft_jensen_shannon"] == pytest.approx(
        distribution_distances(predicted, reference, k, group, probabilities)["soft_jensen_shannon"]
    )


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
    assert differ["interval"][0] > 0 and differ["p_value"] < 0.01 and differ["mcnemar_cluster_p"] < 1e-6
    same = compare(base, _rows(alike, per_profile=4), resamples=1000, seed=0)["accuracy"]
    assert (
        same["interval"][0] < 0 < same["interval"][1] and same["p_value"] > 0.05 and same["mcnemar_cluster_p"] > 0.05
    )
    with pytest.raises(ValueError, match="same rows"):
        compare(base, _rows(better[:100]), resamples=10, seed=0)


def test_cluster_mcnemar_by_hand_and_it_is_the_plain_one_when_every_profile_has_one_row():
    base = np.array([True, True, False, True, False, True])
    other = np.array([False, False, True, True, True, False])
    profiles = np.array([0, 0, 1, 1, 2, 2])  # discordant counts b = (2, 0, 1), c = (0, 1, 1)
    statistic = (3 - 2) ** 2 / ((2 - 0) ** 2 + (0 - 1) ** 2 + (1 - 1) ** 2)
    assert cluster_mcnemar(base, other, profiles) == pytest.approx(stats.chi2.sf(statistic, 1))
    singles = np.arange(6)  # one row a profile: (b - c)^2 = b + c, McNemar's chi-square without correction
    assert cluster_mcnemar(base, other, singles) == pytest.approx(stats.chi2.sf((3 - 2) ** 2 / 5, 1))
    assert cluster_mcnemar(base, base, profiles) == 1.0


def test_the_bias_aware_critical_value_is_196_without_bias_and_grows_with_it():
    assert bias_aware_critical(0.0) == pytest.approx(1.959964, abs=1e-5)
    assert bias_aware_critical(3.0) == pytest.approx(3.0 + 1.644854, abs=1e-3)  # one tail left


@pytest.fixture(scope="module")
def simulated():
    """One seeded benchmark of the released split's shape (Dirichlet populations), and the quickstart's."""
    rng = np.random.default_rng(7)
    layouts = {"release": coverage.release_layout(rng, Path("absent")), "quickstart": coverage.quickstart_layout(rng)}
    return {name: (layout, coverage.draw_benchmark(layout, rng)) for name, layout in layouts.items()}


def test_no_estimate_lies_outside_its_interval(simulated):
    for _, bench in simulated.values():
        for predictor in bench["predictions"]:
            for name, entry in intervals(coverage.benchmark_rows(bench, predictor), 200, 0)["figures"].items():
                if entry["interval"] is not None:
                    low, high = entry["interval"]
                    assert low <= entry["estimate"] <= high, (predictor, name, entry)


def test_a_distance_is_corrected_by_its_bootstrap_bias_and_keeps_its_plug_in_value(simulated):
    rows = coverage.benchmark_rows(simulated["release"][1], "random")
    info = intervals(rows, 300, 1)["figures"]
    draws = draws_of(rows, 300, 1)
    plain = figures(rows)
    for name in ("wasserstein_distance", "total_variation"):
        entry = info[name]
        assert entry["plug_in"] == pytest.approx(plain[name])
        assert entry["bias"] == pytest.approx(draws[name].mean() - plain[name]) and entry["bias"] > 0
        assert entry["estimate"] == pytest.approx(plain[name] - entry["bias"])
        assert entry["bias_se"] == pytest.approx(entry["bias"] / draws[name].std(ddof=1))
    assert info["accuracy"]["estimate"] == plain["accuracy"]  # a mean is not corrected


def test_a_bias_too_small_to_be_worth_correcting_leaves_the_plug_in_value(simulated):
    """A majority-style predictor (one answer per group) is nearly unbiased: correcting it would only add
    the correction's noise, so its estimate is the plug-in value, with an interval that still allows for
    the small bias."""
    rows = coverage.benchmark_rows(simulated["release"][1], "majority")
    for name, entry in intervals(rows, 300, 1)["figures"].items():
        if name in DISTANCES and entry["bias_se"] < MIN_CORRECTED_BIAS_SE:
            assert not entry["corrected"] and entry["estimate"] == entry["plug_in"], name
            low, high = entry["interval"]
            assert high - low >= 2 * bias_aware_critical(0.0) * entry["se"] - 1e-12
            assert low < entry["estimate"] < high
    random = intervals(coverage.benchmark_rows(simulated["release"][1], "random"), 300, 1)["figures"]
    assert random["total_variation"]["corrected"]  # bias ~3 SE: corrected


def test_small_groups_and_few_profiles_are_flagged_without_interval(simulated):
    info = intervals(coverage.benchmark_rows(simulated["quickstart"][1], "random"), 200, 0)
    assert info["median_group_rows"] < MIN_GROUP_ROWS
    for name, entry in info["figures"].items():
        assert (entry["flag"] is not None) == (name in DISTANCES), name
        assert entry["flag"] is None or (entry["interval"] is None and entry["p_value"] is None)
        assert (name in info["overall"]) == (entry["flag"] is None)
    few = _rows(np.random.default_rng(0).random(40) < 0.5, per_profile=4)  # 10 profiles
    assert all(entry["flag"] == "10 profiles < 20" for entry in intervals(few, 100, 0)["figures"].values())


def test_the_paired_test_holds_its_level_when_profiles_prefer_opposite_runs():
    """Equal accuracy, but each run is right on other profiles' rows: a row-level test rejects far too
    often (McNemar's exact test did so on 28-32% of such simulations); the profile bootstrap and the
    cluster-adjusted McNemar hold 5%."""
    rng = np.random.default_rng(11)
    layout = coverage.release_layout(rng, Path("absent"))
    rejected = {"bootstrap": 0, "mcnemar_cluster": 0}
    for replication in range(30):
        bench = coverage.draw_benchmark(layout, rng)
        a, b = (coverage.benchmark_rows(bench, name) for name in ("pref_a", "pref_b"))
        result = compare(a, b, 200, replication)["accuracy"]
        rejected["bootstrap"] += result["p_value"] < 0.05
        rejected["mcnemar_cluster"] += result["mcnemar_cluster_p"] < 0.05
    assert rejected["bootstrap"] <= 4 and rejected["mcnemar_cluster"] <= 4, rejected


def test_holm_by_hand():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
