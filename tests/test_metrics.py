import evaluate
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from dvmap_hf.evaluation.metrics import accuracy, likert_consistency, wasserstein_distance

from .test_readme import ROOT


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


def test_evaluate_modules_load_offline_and_agree_with_the_core():
    lc = evaluate.load(str(ROOT / "evaluate_metrics" / "likert_consistency"))
    wd = evaluate.load(str(ROOT / "evaluate_metrics" / "wasserstein_distance"))
    assert lc.compute(predictions=[0, 2, -1], references=[0, 1, 3], num_options=4) == {
        "likert_consistency": likert_consistency([0, 2, -1], [0, 1, 3], 4),
        "invalid_rate": 1 / 3,
    }
    groups = ["USA|Q1", "USA|Q1", "CAN|Q1", "CAN|Q1"]
    got = wd.compute(predictions=[0, 1, 3, -1], references=[0, 0, 1, 2], num_options=4, groups=groups)
    assert got == wasserstein_distance([0, 1, 3, -1], [0, 0, 1, 2], 4, groups)
    raw = wd.compute(predictions=[0, 0], references=[3, 3], num_options=4, normalize=False)
    assert raw["wasserstein_distance"] == 3.0


def test_metric_cards_have_the_evaluate_header():
    for name in ("likert_consistency", "wasserstein_distance", "distribution_distance"):
        folder = ROOT / "evaluate_metrics" / name
        card = (folder / "README.md").read_text()
        assert card.startswith("---\n") and "- evaluate\n- metric\n" in card and "## Citation" in card
        assert (folder / f"{name}.py").is_file() and f'evaluate.load("{name}")' in (folder / "app.py").read_text()
