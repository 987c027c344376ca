"""`evaluation/alignment`: every per-row distribution score against a hand computation, the floor against its
exact value, and the refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dvmap_hf.evaluation.alignment import KL_EPSILON, human_floor, row_scores, summary


def test_every_row_score_equals_its_hand_computation():
    p, counts = [0.5, 0.3, 0.2], [2, 1, 1]
    q = [0.5, 0.25, 0.25]
    got = row_scores([p], [counts], [3])
    m = [(a + b) / 2 for a, b in zip(p, q)]
    kl_pm = sum(a * math.log2(a / c) for a, c in zip(p, m))
    kl_qm = sum(b * math.log2(b / c) for b, c in zip(q, m))
    smoothed = [(a + KL_EPSILON) / (1 + 3 * KL_EPSILON) for a in p]
    expected = {
        "total_variation": 0.05,
        "jensen_shannon": math.sqrt(0.5 * kl_pm + 0.5 * kl_qm),
        "wasserstein": (0 + 0.05) / 2,  # CDFs 0.5, 0.8 vs 0.5, 0.75
        "kl": sum(b * math.log(b / a) for a, b in zip(smoothed, q)),
        "brier_mode": 0.5 * 0.5**2 + 0.5 * 0.5**2,  # c = 0.5 on the mode (option 0), chosen by half
        "opinionsqa_alignment": 1 - 0.025,
        "uniform_total_variation": 0.5 * (abs(1 / 3 - 0.5) + 2 * abs(1 / 3 - 0.25)),
    }
    for name, value in expected.items():
        assert got[name][0] == pytest.approx(value, abs=1e-12), name
    assert summary(got)["simbench_score"] == pytest.approx(100 * (1 - 0.05 / (1 / 6)))


def test_rows_of_different_k_and_the_mode_tie_rule():
    got = row_scores([[0.2, 0.8], [0.0, 0.0, 1.0, 0.0]], [[3, 3], [0, 0, 2, 0]], [2, 4])
    assert got["total_variation"] == pytest.approx([0.3, 0.0])
    assert got["mode_probability"] == pytest.approx([0.2, 1.0])  # a tie goes to the earlier option
    assert got["wasserstein"] == pytest.approx([0.3, 0.0]) and got["kl"][1] == pytest.approx(-math.log(
        (1 + KL_EPSILON) / (1 + 4 * KL_EPSILON)))  # fmt: skip


def test_summary_means_simbench_and_ece_by_hand():
    scores = row_scores([[0.15, 0.85], [0.18, 0.82], [0.9, 0.1]], [[1, 1], [3, 7], [9, 1]], [2, 2, 2])
    # rows 0 and 1: mode option 0 (a tie) and 1; c = 0.15 and 0.82, s = 0.5 and 0.7; row 2: c 0.9, s 0.9
    assert scores["mode_probability"] == pytest.approx([0.15, 0.82, 0.9])
    got = summary(scores)
    assert got["ece_mode"] == pytest.approx((abs(0.15 - 0.5) + abs(0.82 - 0.7) + abs(0.9 - 0.9)) / 3)
    tv = [0.35, 0.12, 0.0]
    assert got["total_variation"] == pytest.approx(np.mean(tv))
    uniform = [0.0, 0.2, 0.4]
    assert got["simbench_score"] == pytest.approx(100 * (1 - np.mean(tv) / np.mean(uniform)))
    weighted = summary(scores, weights=[2, 0, 1])
    assert weighted["total_variation"] == pytest.approx((2 * 0.35 + 0) / 3)


def test_the_human_floor_equals_its_exact_expectation():
    # n = 2 of q = (1/2, 1/2): resamples (2,0) (1,1) (0,2) with chances 1/4 1/2 1/4 -> TV 1/2, 0, 1/2: 0.25
    floor = human_floor([[1, 1], [5, 0]], [2, 2], draws=4000, seed=1)
    assert floor["total_variation"][0] == pytest.approx(0.25, abs=0.02)
    assert floor["wasserstein"][0] == pytest.approx(0.25, abs=0.02)
    assert floor["total_variation"][1] == 0.0  # a unanimous profile resamples to itself


@pytest.mark.parametrize(
    "model, counts, k, message",
    [
        ([[0.5, 0.5]], [[1, 1, 0]], [2], "answer counts of row 0 has 3 values for 2 options"),
        ([[0.5, -0.5]], [[1, 1]], [2], "model distributions of row 0 must be finite, >= 0"),
        ([[0.0, 0.0]], [[1, 1]], [2], "not all 0"),
        ([[1.0, float("nan")]], [[1, 1]], [2], "finite"),
        ([[1.0]], [[1]], [1], "num_options must be >= 2"),
    ],
)
def test_bad_distributions_are_refused_with_the_row(model, counts, k, message):
    with pytest.raises(ValueError, match=message):
        row_scores(model, counts, k)


@pytest.fixture(scope="module")
def distributional(built_survey, tmp_path_factory):
    """The toy survey built with its answer counts (`d`), and built again without them (`m`)."""
    from dataset_builder import BuildConfig, build_folder

    folder = tmp_path_factory.mktemp("aligned")
    (folder / "d").symlink_to(built_survey)
    spec = built_survey.parent / "survey.yaml"
    build_folder(BuildConfig(survey=spec, consensus="majority"), folder / "m")
    return folder


def test_eval_scores_each_row_distribution_against_its_counts(distributional, tmp_path, capsys):
    import json

    from dvmap_app.cli import main
    from dvmap_hf.data.folder import load_split

    out = tmp_path / "run"
    argv = ["eval", "--model", "marginal", "--dataset", str(distributional / "d"), "--config", "cross_year"]
    assert main([*argv, "--out", str(out), "--bootstrap", "200"]) == 0
    printed = capsys.readouterr().out
    assert "| model | config | rows | TV | JS | WD/(K-1) | KL | SimBench |" in printed and "| human floor |" in printed
    metrics = json.loads((out / "metrics.json").read_text())["distribution"]
    rows = load_split(str(distributional / "d"), "cross_year", "test").to_pandas()  # 24 held-out profiles
    predicted = {json.loads(line)["id"]: json.loads(line)["distribution"] for line in open(out / "predictions.jsonl")}
    tv = [
        0.5 * np.abs(np.asarray(predicted[i]) - np.asarray(c) / sum(c)).sum()
        for i, c in zip(rows["id"], rows["answer_counts"])
    ]
    figure = metrics["figures"]["total_variation"]
    assert figure["estimate"] == pytest.approx(np.mean(tv)) and figure["flag"] is None
    low, high = figure["interval"]
    assert low < figure["estimate"] < high
    assert 0 < metrics["human_floor"]["total_variation"] < figure["estimate"]  # the marginal misses the profile
    assert metrics["rows"] == len(rows) and "## Distribution alignment" in (out / "report.md").read_text()


def test_scale_covers_the_held_out_questions_the_other_references_cannot(distributional, tmp_path):
    import json

    from dvmap_app.cli import main

    scores = {}
    for model in ("scale", "marginal", "marginal"):  # the marginal twice: a finished run evaluated again
        out = tmp_path / model
        argv = ["eval", "--model", model, "--dataset", str(distributional / "d"), "--config", "cross_value"]
        assert main([*argv, "--out", str(out), "--bootstrap", "0"]) == 0
        metrics = json.loads((out / "metrics.json").read_text())
        scores[model] = (metrics["run"]["reference_fallbacks"], metrics["distribution"]["figures"]["total_variation"])
    rows = metrics["run"]["rows"]
    assert scores["scale"][0] == 0 and scores["marginal"][0] == rows  # the marginal knows no held-out item
    assert scores["scale"][1]["estimate"] < scores["marginal"][1]["estimate"]


def test_runs_without_counts_or_distributions_have_no_alignment_block(distributional, tmp_path, capsys):
    import json

    from dvmap_app.cli import main

    argv = ["eval", "--model", "majority", "--dataset", str(distributional / "m"), "--out", str(tmp_path / "m")]
    assert main(argv) == 0
    assert "distribution" not in json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert "| human floor |" not in capsys.readouterr().out


def test_a_damaged_distribution_in_predictions_is_named(distributional, tmp_path, capsys):
    from dvmap_app.cli import main

    out = tmp_path / "run"
    argv = ["eval", "--model", "random", "--dataset", str(distributional / "d"), "--config", "cross_value"]
    assert main([*argv, "--out", str(out)]) == 0
    lines = (out / "predictions.jsonl").read_text().splitlines()
    lines[1] = lines[1].replace('"distribution": [', '"distribution": [-1, ')
    (out / "predictions.jsonl").write_text("\n".join(lines) + "\n")
    assert main([*argv, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "predictions.jsonl:2: row" in error and "`distribution` is not 3 numbers >= 0 with a sum > 0" in error
