"""`dvmap_hf/evaluation/robustness.py`: attribute flips and the value flip rate."""

from __future__ import annotations

from dvmap_app.cli import main
from dvmap_hf.evaluation import robustness
from dvmap_hf.evaluation.robustness import run_robustness
from tests.support import _error, _spec


def test_robustness_reports_flip_rates_per_category(built, tmp_path):
    result = run_robustness(
        _spec(built, "tabular"),
        "income_bracket",
        {"Low income": "High income", "High income": "Low income"},
        tmp_path / "flip",
    )
    assert result["overall"]["pairs"] > 0 and 0 <= result["overall"]["flip_rate"] <= 1
    assert set(result["per_category"]) <= {
        "SOCIAL VALUES, ATTITUDES & STEREOTYPES",
        "HAPPINESS AND WELL-BEING",
        "SOCIAL CAPITAL, TRUST & ORGANIZATIONAL MEMBERSHIP",
        "CORRUPTION",
        "SECURITY",
    }
    assert "flip rate" in (tmp_path / "flip" / "robustness.md").read_text()
    majority = run_robustness(
        _spec(built, "majority"),
        "income_bracket",
        {"Low income": "High income", "High income": "Low income"},
        tmp_path / "flip2",
    )
    assert majority["overall"]["flip_rate"] == 0  # the majority predictor ignores income


def test_flipped_prompt_changes_only_the_attribute(built):
    from datasets import load_dataset

    row = next(
        r for r in load_dataset(str(built[0]), "cross_demographic")["test"] if r["income_bracket"] == "Low income"
    )
    flipped_prompt = robustness.flipped_prompt(row, "income_bracket", "High income")
    assert flipped_prompt[0] == row["prompt"][0]  # the system message is kept
    flipped, original = flipped_prompt[-1]["content"], row["prompt"][-1]["content"]
    assert flipped == original.replace("Your income level is Low income", "Your income level is High income")


def test_robustness_limit_and_folder_checks(built, tmp_path, capsys):
    base = ["robustness", "--model", "majority", "--dataset", str(built[0])]
    assert main(base + ["--limit", "-3", "--out", str(tmp_path / "f")]) == 2
    assert "--limit must be >= 1" in _error(capsys)
    assert main(["eval", "--model", "majority", "--dataset", str(built[0]), "--out", str(tmp_path / "e")]) == 0
    capsys.readouterr()
    before = sorted(p.name for p in (tmp_path / "e").iterdir())
    assert main(base + ["--out", str(tmp_path / "e")]) == 2
    assert "holds a dvmap eval run" in _error(capsys)
    assert sorted(p.name for p in (tmp_path / "e").iterdir()) == before


def test_flips_that_change_nothing_are_refused(built, tmp_path, capsys):
    from dvmap_app.cli import main

    argv = ["robustness", "--model", "majority", "--dataset", str(built[0]), "--attribute", "gender"]
    assert main([*argv, "--flip", "Male=Male", "--out", str(tmp_path / "a")]) == 2
    assert "changes nothing" in capsys.readouterr().err
    assert main([*argv, "--flip", "Male=Martian", "--out", str(tmp_path / "b")]) == 2
    assert "gender never takes the value(s) 'Martian' here" in capsys.readouterr().err
