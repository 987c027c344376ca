"""`evaluate_metrics/`: the `evaluate` modules over the metrics core."""

from __future__ import annotations

import os
import re

import evaluate
import pytest

from dvmap_hf.evaluation.metrics import distribution_distances, likert_consistency, wasserstein_distance
from tests.support import ROOT


def test_the_distribution_module_is_a_thin_wrapper(tmp_path):
    import evaluate

    module = evaluate.load(str(ROOT / "evaluate_metrics" / "distribution_distance"))
    got = module.compute(
        predictions=[0, 1, 2],
        references=[0, 1, 1],
        num_options=3,
        groups=["x"] * 3,
        probabilities=[[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.1, 0.3, 0.6]],
    )
    assert got == pytest.approx(
        distribution_distances([0, 1, 2], [0, 1, 1], 3, ["x"] * 3, [[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.1, 0.3, 0.6]])
    )


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
    for name in ("likert_consistency", "wasserstein_distance", "distribution_distance", "distribution_alignment"):
        folder = ROOT / "evaluate_metrics" / name
        card = (folder / "README.md").read_text()
        assert card.startswith("---\n") and "- evaluate\n- metric\n" in card and "## Citation" in card
        assert (folder / f"{name}.py").is_file() and f'evaluate.load("{name}")' in (folder / "app.py").read_text()


def test_evaluate_modules_refuse_fractional_indices():
    import evaluate

    lc = evaluate.load(os.path.join(os.path.dirname(__file__), "..", "evaluate_metrics", "likert_consistency"))
    with pytest.raises(ValueError, match="predictions must be whole numbers; got 1.7"):
        lc.compute(predictions=[1.7], references=[1], num_options=4)
    with pytest.raises(ValueError, match="num_options must be whole numbers; got 4.9"):
        lc.compute(predictions=[1], references=[1], num_options=4.9)
    assert lc.compute(predictions=[1, -1], references=[1, 0], num_options=4)["likert_consistency"] == 0.5


def test_the_modules_say_what_is_wrong_with_their_input():
    import evaluate

    lc = evaluate.load(str(ROOT / "evaluate_metrics/likert_consistency"))
    with pytest.raises(ValueError, match="num_options is required"):
        lc.compute(predictions=[0], references=[0])
    with pytest.raises(ValueError, match="could not convert string to float: 'a'"):
        lc.compute(predictions=["a"], references=[0], num_options=4)


@pytest.mark.parametrize(
    "name", ["likert_consistency", "wasserstein_distance", "distribution_distance", "distribution_alignment"]
)
def test_every_module_passes_its_own_doctest(name, monkeypatch):
    """evaluate's convention (`doctest.testmod` on each metric script): the likert_consistency example said
    0.4444 where the module computes 0.5556 (issue 43)."""
    import doctest
    import importlib.util

    monkeypatch.chdir(ROOT)  # the examples load "evaluate_metrics/<name>" as a user in a checkout would
    path = ROOT / "evaluate_metrics" / name / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"dvmap_{name}_doctest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = doctest.testmod(module, raise_on_error=False)
    assert result.attempted >= 2 and result.failed == 0, result
    card = (path.parent / "README.md").read_text()  # the card's example says what the module computes, too
    for block in re.findall(r"```python\n(.*?)```", card, re.S):
        lines = block.strip().splitlines()
        if lines[-1].startswith("# ") and not lines[-1].startswith("# From"):
            namespace: dict = {}
            exec("\n".join(lines[:-2]), namespace)
            assert repr(eval(lines[-2].split("  #")[0], namespace)) == lines[-1][2:], (name, lines[-2:])


def test_the_alignment_module_agrees_with_the_core_and_names_a_bad_row():
    from dvmap_hf.evaluation.alignment import human_floor, row_scores, summary

    da = evaluate.load(str(ROOT / "evaluate_metrics" / "distribution_alignment"))
    predictions, references = [[0.5, 0.3, 0.2], [0.1, 0.9]], [[2, 1, 1], [4, 6]]
    got = da.compute(predictions=predictions, references=references, floor=True, seed=3)
    expected = summary(row_scores(predictions, references, [3, 2]))
    expected |= {f"floor_{n}": float(v.mean()) for n, v in human_floor(references, [3, 2], seed=3).items()}
    assert got == pytest.approx(expected)
    with pytest.raises(ValueError, match="model distributions of row 1 has 3 values for 2 options"):
        da.compute(predictions=[[0.5, 0.5], [0.2, 0.3, 0.5]], references=[[1, 1], [1, 1]])
