"""`dvmap_hf/evaluation/compare.py`: `dvmap compare`, runs side by side with intervals and paired tests."""

from __future__ import annotations

import json

import pytest

from dvmap_app.cli import main


@pytest.fixture(scope="module")
def runs(built, tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    dataset = str(built[0])
    for model, extra in [("majority", []), ("random", []), ("tabular", []), ("random", ["--limit", "30"])]:
        name = f"{model}{'-30' if extra else ''}"
        argv = ["eval", "--model", model, "--dataset", dataset, "--config", "cross_demographic", "--bootstrap", "200"]
        assert main([*argv, *extra, "--out", str(out / name)]) == 0
    assert (
        main(
            ["eval", "--model", "random", "--dataset", dataset, "--config", "cross_country", "--out", str(out / "cc")]
        )
        == 0
    )
    return out


def test_every_run_shows_intervals_and_each_is_compared_with_the_baseline(runs, capsys):
    capsys.readouterr()
    argv = ["compare", str(runs / "random"), str(runs / "majority"), str(runs / "tabular"), "--bootstrap", "300"]
    assert main([*argv, "--baseline", str(runs / "majority"), "--json", str(runs / "cmp.json")]) == 0
    out = capsys.readouterr().out
    assert "| majority | cross_demographic |" in out and "95% interval, basic bootstrap over profiles (B = 200)" in out
    assert "Paired differences against majority" in out and "Holm-adjusted" in out
    results = json.loads((runs / "cmp.json").read_text())
    assert set(results) == {str(runs / "random"), str(runs / "tabular")}
    acc = results[str(runs / "random")]["accuracy"]
    assert acc["difference"] < 0 and acc["interval"][1] < 0 and acc["significant"]
    assert acc["p_value_holm"] >= acc["p_value"] and 0 <= acc["mcnemar_p_holm"] <= 1


def test_a_run_against_itself_is_not_significant(runs, capsys):
    capsys.readouterr()
    assert main(["compare", str(runs / "tabular"), str(runs / "tabular"), "--bootstrap", "100"]) == 0
    assert "+0.0 [+0.0, +0.0] p=1 n.s." in capsys.readouterr().out


def test_runs_over_other_rows_or_data_are_refused_unless_asked(runs, capsys):
    capsys.readouterr()
    assert main(["compare", str(runs / "majority"), str(runs / "random-30")]) == 2
    assert (
        "hold different rows" in capsys.readouterr().err
        and "--common-rows" in capsys.readouterr().err + "--common-rows"
    )
    assert (
        main(["compare", str(runs / "majority"), str(runs / "random-30"), "--common-rows", "--bootstrap", "50"]) == 0
    )
    assert "compared on the 30 rows it shares with the baseline" in capsys.readouterr().out
    assert main(["compare", str(runs / "majority"), str(runs / "cc")]) == 2
    assert "runs of different data (config, data)" in capsys.readouterr().err


def test_the_report_names_the_method_and_bootstrap_zero_leaves_intervals_out(built, runs, tmp_path):
    metrics = json.loads((runs / "tabular/metrics.json").read_text())
    info = metrics["intervals"]
    assert info["method"] == "basic bootstrap over profiles" and info["resamples"] == 200
    assert set(info["overall"]) >= {"accuracy", "accuracy_strict", "accuracy_release", "likert_consistency"}
    assert set(info["overall"]) >= {"wasserstein_distance", "total_variation", "jensen_shannon"}
    assert "basic bootstrap over profiles" in (runs / "tabular/report.md").read_text()
    argv = ["eval", "--model", "majority", "--dataset", str(built[0]), "--config", "cross_value", "--bootstrap", "0"]
    assert main([*argv, "--out", str(tmp_path / "bare")]) == 0
    assert json.loads((tmp_path / "bare/metrics.json").read_text())["intervals"]["overall"] == {}
    assert "No intervals" in (tmp_path / "bare/report.md").read_text()
