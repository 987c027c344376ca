"""`dvmap_hf/analysis/survey.py`: entropy, importance and consensus analyses of a WVS file."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dvmap_app.cli import main
from tests.support import _png


def test_entropy_finds_the_uniform_question(planted, tmp_path):
    assert main(["analyze", "entropy", "--wvs", str(planted), "--country", "JPN", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "entropy.csv")
    top = table.iloc[0]
    assert top.question_id == "Q46" and top.entropy == pytest.approx(math.log(4), abs=0.03)
    assert table.set_index("question_id").loc["Q2", "entropy"] == 0
    assert _png(tmp_path / "entropy_histogram.png") and _png(tmp_path / "highest_entropy_question.png")
    assert "Share with H > 1.0" in (tmp_path / "entropy.md").read_text()


def test_importance_ranks_the_deciding_attribute_first(planted, tmp_path):
    assert main(["analyze", "importance", "--wvs", str(planted), "--out", str(tmp_path), "--trees", "30"]) == 0
    table = pd.read_csv(tmp_path / "importance.csv").set_index("question_id")
    assert table.loc["Q1"].idxmax() == "gender" and table.loc["Q1", "gender"] > 0.5
    assert _png(tmp_path / "importance_heatmap.png")
    assert "- Q1: country ranks" in (tmp_path / "importance.md").read_text()


def test_consensus_per_country_and_min_support(planted, tmp_path):
    assert main(["analyze", "consensus", "--wvs", str(planted), "--out", str(tmp_path), "--min-support", "1,2"]) == 0
    frame = pd.read_csv(tmp_path / "consensus.csv")
    assert set(frame.min_support) == {1, 2} and frame.country.nunique() == 18
    wide = frame.pivot(index="country", columns="min_support", values="pairs_kept")
    assert (wide[2] <= wide[1]).all()
    assert _png(tmp_path / "consensus.png")
