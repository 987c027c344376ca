"""`lm_eval_tasks/dvmap/`: the lm-evaluation-harness tasks equal `dvmap eval`."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from dvmap_app.cli import main
from tests.support import ROOT


def _harness(model, dataset, task, out, *extra):
    metadata = json.dumps({"dataset": str(dataset), "limit": 10, "seed": 3})
    command = [sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={model}"]
    command += ["--include_path", str(ROOT / "lm_eval_tasks"), "--tasks", task, "--metadata", metadata]
    command += ["--device", "cpu", "--batch_size", "4", "--output_path", str(out), "--log_samples", *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(next(out.rglob("results_*.json")).read_text())["results"][task]
    samples = [json.loads(line) for line in next(out.rglob(f"samples_{task}_*.jsonl")).read_text().splitlines()]
    return {key.split(",")[0]: value for key, value in results.items() if key.endswith(",none")}, samples


@pytest.mark.slow
def test_the_harness_loglik_task_equals_dvmap_eval(built_plain, tiny_model, tmp_path):
    got, _ = _harness(tiny_model, built_plain, "dvmap_cross_value_mc", tmp_path / "harness")
    args = ["eval", "--model", str(tiny_model), "--dataset", str(built_plain), "--config", "cross_value"]
    args += ["--limit", "10", "--seed", "3", "--scoring", "loglik", "--no-chat-template", "--out", str(tmp_path / "r")]
    assert main(args) == 0
    ours = json.loads((tmp_path / "r" / "metrics.json").read_text())["overall"]
    names = {"acc": "accuracy", "lc": "likert_consistency", "wd": "wasserstein_distance", "tv": "total_variation"}
    names |= {"js": "jensen_shannon", "soft_tv": "soft_total_variation", "soft_js": "soft_jensen_shannon"}
    for theirs, mine in names.items():
        assert got[theirs] == pytest.approx(ours[mine], abs=1e-6), theirs
        assert math.isnan(got[f"{theirs}_se"])  # 10 rows, fewer than 20 profiles: no interval, no stderr


@pytest.mark.slow
def test_the_harness_distribution_task_equals_dvmap_eval(built_survey, tiny_model, tmp_path):
    task = "dvmap_cross_demographic_distribution"
    got, _ = _harness(tiny_model, built_survey, task, tmp_path / "harness")
    args = ["eval", "--model", str(tiny_model), "--dataset", str(built_survey), "--config", "cross_demographic"]
    args += ["--limit", "10", "--seed", "3", "--scoring", "loglik", "--no-chat-template", "--out", str(tmp_path / "r")]
    assert main(args) == 0
    figures = json.loads((tmp_path / "r" / "metrics.json").read_text())["distribution"]["figures"]
    assert {name for name in got if not name.endswith("_stderr")} == set(figures)
    for name, entry in figures.items():
        assert got[name] == pytest.approx(entry["estimate"], abs=1e-6), name


@pytest.mark.slow
def test_the_harness_generation_task_equals_dvmap_eval(built_plain, tiny_model, tmp_path):
    got, samples = _harness(
        tiny_model,
        built_plain,
        "dvmap_cross_value",
        tmp_path / "harness",
        "--apply_chat_template",
        "--gen_kwargs",
        "max_gen_toks=8",
    )
    args = ["eval", "--model", str(tiny_model), "--dataset", str(built_plain), "--config", "cross_value"]
    args += ["--limit", "10", "--seed", "3", "--greedy", "--max-new-tokens", "8", "--out", str(tmp_path / "r")]
    assert main(args) == 0
    completions = {}
    for line in (tmp_path / "r" / "predictions.jsonl").read_text().splitlines():
        record = json.loads(line)
        completions[record["id"]] = record["completion"]
    assert len(samples) == 10 and all(s["resps"][0][0] == completions[s["doc"]["id"]] for s in samples)
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert got["acc"] == pytest.approx(metrics["overall"]["accuracy"])
    assert got["acc_release"] == pytest.approx(metrics["accuracy_by_match"]["release"])
    assert got["wd"] == pytest.approx(metrics["overall"]["wasserstein_distance"])


def test_the_harness_standard_errors_are_the_kits_and_nan_where_it_withholds_an_interval(tmp_path):
    """`m_se` is `dvmap eval`'s bootstrap standard error (200 resamples, seed 0), NaN where the kit flags
    the figure: on 40 profiles in groups of 4 rows the means have one and the distances none."""
    sys.path.insert(0, str(ROOT / "lm_eval_tasks" / "dvmap"))
    import utils

    from dvmap_hf.evaluation.statistics import RunRows, intervals

    rng = np.random.default_rng(0)
    items = [
        {"id": f"r{r}", "profile": r // 4, "parsed": int(rng.integers(4)), "gold": int(rng.integers(4)), "k": 4}
        | {"group": f"c{r % 10}|q{r // 40}"}
        for r in range(160)
    ]
    rows = RunRows.from_columns([i["id"] for i in items], [i["profile"] for i in items], *utils._columns(items))
    expected = intervals(rows, utils.SE_RESAMPLES, 0)["figures"]
    assert utils.acc_se(items) == expected["accuracy"]["se"] > 0
    assert utils.lc_se(items) == expected["likert_consistency"]["se"] > 0
    assert (
        expected["wasserstein_distance"]["flag"] and math.isnan(utils.wd_se(items)) and math.isnan(utils.tv_se(items))
    )
