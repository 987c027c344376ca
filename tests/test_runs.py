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


def test_an_unfinished_or_wrong_run_is_not_analysed(built, tmp_path, capsys):
    import json

    from dvmap_app.cli import main

    run = tmp_path / "r"
    assert main(["eval", "--model", "random", "--dataset", str(built[0]), "--limit", "20", "--out", str(run)]) == 0
    lines = (run / "predictions.jsonl").read_text().splitlines()
    (run / "predictions.jsonl").write_text("\n".join(lines[:5]) + "\n")
    capsys.readouterr()
    assert main(["analyze", "difficulty", "--run", str(run), "--out", str(tmp_path / "a")]) == 2
    assert "an unfinished run (5 of 20 rows)" in capsys.readouterr().err
    assert json.loads((run / "metrics.json").read_text())["run"]["config"] == "cross_demographic"
