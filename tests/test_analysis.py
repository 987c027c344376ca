"""The paper's analyses on synthetic WVS files with planted structure."""

import math

import numpy as np
import pandas as pd
import pytest

from dvmap_app.cli import main
from dvmap_hf.data.synth import SynthConfig, synthesize


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Gender alone decides Q1; Japan answers Q46 uniformly at random and everything else identically."""
    frame = synthesize(SynthConfig(respondents=3000, seed=11))
    frame["Q1"] = np.where(frame["Q260"] == 1, 1, 4)
    frame.loc[frame["Q260"] < 0, "Q1"] = -2
    japan = frame["B_COUNTRY_ALPHA"] == "JPN"
    rng = np.random.default_rng(0)
    frame.loc[japan, "Q46"] = rng.integers(1, 5, japan.sum())
    for question in ("Q2", "Q3", "Q4", "Q5", "Q6", "Q27", "Q29", "Q60", "Q131"):
        frame.loc[japan, question] = 2
    path = tmp_path_factory.mktemp("planted") / "planted.csv"
    frame.to_csv(path, index=False)
    return path


def _png(path):
    return path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"


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


def test_semantic_and_difficulty(built, tiny_model, tmp_path):
    # the reference predictors answer unseen questions at random: two seeds give varying "gains"
    data = ["--dataset", str(built[0]), "--config", "cross_value"]
    assert main(["eval", "--model", "random", "--seed", "0", *data, "--out", str(tmp_path / "base")]) == 0
    assert main(["eval", "--model", "random", "--seed", "1", *data, "--out", str(tmp_path / "trained")]) == 0
    sem = tmp_path / "sem"
    args = ["--embedder", str(tiny_model), "--dataset", str(built[0]), "--out", str(sem)]
    assert (
        main(["analyze", "semantic", *args, "--run", str(tmp_path / "trained"), "--base-run", str(tmp_path / "base")])
        == 0
    )
    table = pd.read_csv(sem / "semantic.csv")
    assert list(table.question_id) == ["Q8", "Q9", "Q37", "Q61", "Q70", "Q113", "Q132"]
    assert (table.nearest_distance <= table.average_distance + 1e-9).all() and "accuracy_gain" in table
    assert "Pearson r, accuracy gain vs average_distance" in (sem / "semantic.md").read_text()
    assert main(["analyze", "difficulty", "--run", str(tmp_path / "trained"), "--out", str(tmp_path / "dif")]) == 0
    assert len(pd.read_csv(tmp_path / "dif" / "difficulty.csv")) == 7 and _png(tmp_path / "dif" / "difficulty.png")


def test_analyze_bad_input(tmp_path, capsys, planted):
    assert main(["analyze", "entropy", "--out", str(tmp_path)]) == 2
    assert "--wvs is needed by analyze entropy" in capsys.readouterr().err
    assert main(["analyze", "entropy", "--wvs", str(planted), "--country", "XYZ", "--out", str(tmp_path)]) == 2
    assert f"--country XYZ is not in {planted}" in capsys.readouterr().err
