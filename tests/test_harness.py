"""`lm_eval_tasks/dvmap/`: the lm-evaluation-harness tasks equal `dvmap eval`."""

from __future__ import annotations

import json
import subprocess
import sys

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
        assert isinstance(got[f"{theirs}_se"], float) and got[f"{theirs}_se"] >= 0  # a stderr for every metric
    assert got["acc_se"] > 0 and got["lc_se"] > 0


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
