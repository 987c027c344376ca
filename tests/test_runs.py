"""`dvmap_hf/analysis/runs.py`: the analyses of evaluation runs (semantic distance, difficulty)."""

from __future__ import annotations

import pandas as pd

from dvmap_app.cli import main
from tests.support import _png


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
