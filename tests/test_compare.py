"""`dvmap_hf/evaluation/compare.py`: `dvmap compare`, runs side by side with intervals and paired tests."""

from __future__ import annotations

import json
import re
import shutil

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
    assert "| majority | cross_demographic |" in out and "95% interval, bootstrap over profiles (B = 200)" in out
    assert "Paired differences against majority" in out and "Holm-adjusted" in out
    results = json.loads((runs / "cmp.json").read_text())
    assert set(results) == {str(runs / "random"), str(runs / "tabular")}
    acc = results[str(runs / "random")]["accuracy"]
    assert acc["difference"] < 0 and acc["interval"][1] < 0 and acc["significant"]
    assert acc["p_value_holm"] >= acc["p_value"] and 0 <= acc["mcnemar_cluster_p"] <= 1
    for figures in results.values():  # every flag from a Holm-adjusted p, within the family it belongs to
        for name, entry in figures.items():
            family = "table" if name in ("accuracy", "likert_consistency", "wasserstein_distance") else "json"
            if entry["flag"] is None:
                assert entry["family"] == family and entry["significant"] == (entry["p_value_holm"] < 0.05)
            else:  # the synthetic split's groups are small: no test of a distance
                assert name.endswith(("distance", "variation", "shannon")) and entry["significant"] is None
                assert entry["p_value"] is None and entry["interval"] is None
    assert "McNemar" not in out.split("Paired differences")[1].split("\n\n")[1]  # accuracy is tested once
    assert "ΔWD of random: a median group of" in out


INTERVAL = re.compile(r"([+-]?\d+\.\d+) \[([+-]?\d+\.\d+), ([+-]?\d+\.\d+)\]")


def test_no_printed_estimate_lies_outside_its_interval(runs, capsys):
    """Every `x [a, b]` the kit prints (the paper-style table, the paired differences, each report.md) has
    a <= x <= b: a distance is printed bias-corrected, inside its bias-aware interval, or flagged."""
    capsys.readouterr()
    argv = ["compare", str(runs / "majority"), str(runs / "random"), str(runs / "tabular"), "--bootstrap", "300"]
    assert main(argv) == 0
    texts = [capsys.readouterr().out] + [
        (runs / m / "report.md").read_text() for m in ("majority", "random", "tabular")
    ]
    shown = [match for text in texts for match in INTERVAL.findall(text)]
    assert len(shown) >= 12
    for estimate, low, high in shown:
        assert float(low) <= float(estimate) <= float(high), (estimate, low, high)


def test_a_run_against_its_copy_is_not_significant_and_against_itself_is_refused(runs, capsys):
    capsys.readouterr()
    shutil.copytree(runs / "tabular", runs / "tabular-copy", dirs_exist_ok=True)
    assert main(["compare", str(runs / "tabular"), str(runs / "tabular-copy"), "--bootstrap", "100"]) == 0
    assert "+0.0 [+0.0, +0.0] p=1 n.s." in capsys.readouterr().out
    assert main(["compare", str(runs / "tabular"), str(runs / "majority"), str(runs / "tabular/")]) == 2
    assert "are the same run folder: compare different runs" in capsys.readouterr().err


def test_a_family_too_large_for_its_resamples_says_so(runs, capsys):
    """Holm over F bootstrap p-values of at least 2 / (B + 1) cannot reject once F x 2 / (B + 1) >= 0.05:
    the output says so and names the B that could, instead of a column of "n.s." that looks like a finding."""
    from dvmap_hf.evaluation.compare import minimum_resamples

    capsys.readouterr()
    argv = ["compare", str(runs / "majority"), str(runs / "random"), str(runs / "tabular"), "--bootstrap", "60"]
    assert main([*argv, "--json", str(runs / "small-b.json")]) == 0
    out = capsys.readouterr().out
    results = json.loads((runs / "small-b.json").read_text())
    tests = results[str(runs / "random")]["accuracy"]["family_size"]
    assert tests == 4  # Acc and LC of two runs; their WD is flagged (small groups), not tested
    assert "the table family holds 4 tests: with B = 60 its smallest Holm-adjusted bootstrap p is" in out
    assert f"rerun with --bootstrap {minimum_resamples(4)} or more" in out
    assert minimum_resamples(4) == 160 and 4 * 2 / (160 + 1) < 0.05 <= 4 * 2 / 160
    assert not any(e["significant"] for figures in results.values() for e in figures.values())


def test_too_few_resamples_for_an_interval_are_refused_with_the_least_that_works(built, runs, capsys):
    """Three resamples would print "95% intervals" that are the range of three draws: `dvmap eval` and
    `dvmap compare` refuse fewer than 40 (eval takes 0 for none), naming the option; and more than
    100,000, which would run for hours to no purpose."""
    capsys.readouterr()
    argv = ["eval", "--model", "majority", "--dataset", str(built[0]), "--config", "cross_value"]
    assert main([*argv, "--bootstrap", "3", "--out", str(runs / "b3")]) == 2
    assert "--bootstrap must be 0 (no intervals) or >= 40, not 3" in capsys.readouterr().err
    assert not (runs / "b3").exists()
    for resamples in ("0", "39"):
        assert main(["compare", str(runs / "majority"), str(runs / "random"), "--bootstrap", resamples]) == 2
        assert f"--bootstrap must be >= 40, not {resamples}" in capsys.readouterr().err
    huge = "1000000000"  # ran for hours before: refused at once, the least useless count named
    assert main([*argv, "--bootstrap", huge, "--out", str(runs / "huge")]) == 2
    assert "--bootstrap must be <= 100,000, not 1,000,000,000" in capsys.readouterr().err
    assert not (runs / "huge").exists()
    assert main(["compare", str(runs / "majority"), str(runs / "random"), "--bootstrap", huge]) == 2
    assert "--bootstrap must be <= 100,000" in capsys.readouterr().err


def test_runs_over_other_rows_or_data_are_refused_unless_asked(runs, capsys):
    capsys.readouterr()
    assert main(["compare", str(runs / "majority"), str(runs / "random-30")]) == 2
    err = capsys.readouterr().err
    assert "hold different rows" in err and "--common-rows" in err
    assert (
        main(["compare", str(runs / "majority"), str(runs / "random-30"), "--common-rows", "--bootstrap", "50"]) == 0
    )
    assert "compared on the 30 rows it shares with the baseline" in capsys.readouterr().out
    assert main(["compare", str(runs / "majority"), str(runs / "cc")]) == 2
    assert "runs of different data (config, data)" in capsys.readouterr().err


def test_the_report_names_the_method_and_bootstrap_zero_leaves_intervals_out(built, runs, tmp_path):
    metrics = json.loads((runs / "tabular/metrics.json").read_text())
    info = metrics["intervals"]
    assert info["method"] == "bootstrap over profiles" and info["resamples"] == 200
    assert set(info["overall"]) >= {"accuracy", "accuracy_strict", "accuracy_release", "likert_consistency"}
    assert set(info["figures"]) >= {"wasserstein_distance", "total_variation", "jensen_shannon"}
    assert info["figures"]["wasserstein_distance"]["flag"].startswith("a median group of")
    report = (runs / "tabular/report.md").read_text()
    assert "bootstrap over profiles" in report and "†: not supported by the data" in report
    argv = ["eval", "--model", "majority", "--dataset", str(built[0]), "--config", "cross_value", "--bootstrap", "0"]
    assert main([*argv, "--out", str(tmp_path / "bare")]) == 0
    assert json.loads((tmp_path / "bare/metrics.json").read_text())["intervals"]["figures"] == {}
    assert "No intervals" in (tmp_path / "bare/report.md").read_text()


def test_json_naming_an_existing_folder_is_refused_by_its_own_name(runs, tmp_path, capsys):
    """`--json FOLDER` said "WORK/.FOLDER.pq5e69ct.tmp: Is a directory" (issue 33's probe pass): the
    temporary file's name, not the one given. Now the path given, and the folder untouched."""
    folder = tmp_path / "results"
    (folder / "keep.txt").parent.mkdir()
    (folder / "keep.txt").write_text("mine")
    capsys.readouterr()
    argv = ["compare", str(runs / "majority"), str(runs / "random"), "--bootstrap", "40", "--json", str(folder)]
    assert main(argv) == 2
    assert f"{folder}: is a folder; name a file to write" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]
