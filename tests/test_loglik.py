"""Log-likelihood scoring, the distribution metrics, and the lm-evaluation-harness tasks (tiny models, no network)."""

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import load_dataset
from scipy.spatial.distance import jensenshannon

from dataset_builder import build_folder
from dvmap_app.cli import main
from dvmap_hf.evaluation.backends import TransformersBackend
from dvmap_hf.evaluation.config import InferenceConfig
from dvmap_hf.evaluation.loglik import LoglikScorer
from dvmap_hf.evaluation.metrics import distribution_distances
from tests.conftest import small_config

ROOT = Path(__file__).resolve().parent.parent


def _rows(folder, n=6):
    return load_dataset(str(folder), "cross_value")["test"].select(range(n)).to_list()


def test_a_uniform_model_prefers_the_shortest_answer_by_construction(built, tiny_model, tmp_path):
    """With its final norm zeroed, the model's logits are all 0: every token costs log V, so an option's
    log-likelihood is exactly -(its continuation tokens) * log V and the shortest option wins."""
    uniform = tmp_path / "uniform"
    shutil.copytree(tiny_model, uniform)
    backend = TransformersBackend.from_pretrained(str(uniform), InferenceConfig())
    with torch.no_grad():
        backend.model.model.norm.weight.zero_()
    scorer = LoglikScorer(backend)
    vocab = backend.model.config.vocab_size
    for row in _rows(built[0]):
        context, continuations = scorer.pairs(row)
        logprobs = scorer.logprobs(context, continuations)
        assert logprobs == pytest.approx([-len(c) * math.log(vocab) for c in continuations], abs=1e-4)
        record = scorer([row])[0]
        shortest = min(range(len(continuations)), key=lambda k: (len(continuations[k]), k))
        assert record["completion"] == f"<answer>{row['options'][shortest]}</answer>"
        assert sum(record["option_probs"]) == pytest.approx(1.0)


def test_the_shared_prompt_pass_equals_one_full_pass_per_option(built, tiny_model):
    backend = TransformersBackend.from_pretrained(str(tiny_model), InferenceConfig())
    scorer = LoglikScorer(backend)
    for row in _rows(built[0]):
        context, continuations = scorer.pairs(row)
        naive = []
        for ids in continuations:
            with torch.no_grad():
                logits = backend.model(input_ids=torch.tensor([context + ids])).logits[0].log_softmax(-1)
            naive.append(sum(float(logits[len(context) + t - 1, ids[t]]) for t in range(len(ids))))
        assert scorer.logprobs(context, continuations) == pytest.approx(naive, abs=1e-4)


def test_rows_scored_together_equal_rows_scored_alone(built, tiny_model):
    """Left-padded prompts of different lengths in one batch change nothing."""
    scorer = LoglikScorer(TransformersBackend.from_pretrained(str(tiny_model), InferenceConfig()))
    rows = _rows(built[0], 8)
    together = scorer.batch_logprobs([scorer.pairs(row) for row in rows])
    assert len({len(scorer.pairs(row)[0]) for row in rows}) > 1  # the prompts differ in length
    for row, scores in zip(rows, together, strict=True):
        assert scores == pytest.approx(scorer.logprobs(*scorer.pairs(row)), abs=1e-4)


def test_a_model_without_a_chat_template_gets_plain_text(built, tiny_model, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(tiny_model, base)
    config = json.loads((base / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (base / "tokenizer_config.json").write_text(json.dumps(config))
    (base / "chat_template.jinja").unlink(missing_ok=True)
    backend = TransformersBackend.from_pretrained(str(base), InferenceConfig())
    row = _rows(built[0], 1)[0]
    assert not backend.uses_chat_template
    assert backend.render([row["prompt"]])[0] == "\n\n".join(m["content"] for m in row["prompt"]) + "\n"
    out = tmp_path / "run"
    args = ["eval", "--model", str(base), "--dataset", str(built[0]), "--config", "cross_value", "--limit", "6"]
    assert main(args + ["--scoring", "loglik", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["run"]["scoring"] == "loglik" and metrics["run"]["prompt_format"].startswith("plain")
    assert "prompts\nas plain concatenation" in (out / "report.md").read_text()
    record = json.loads((out / "predictions.jsonl").read_text().splitlines()[0])
    assert len(record["option_probs"]) == len(record["option_logprobs"]) and record["parsed"] >= 0
    assert {"soft_total_variation", "soft_jensen_shannon"} <= set(metrics["overall"])


def test_loglik_needs_token_probabilities(built, tmp_path, capsys):
    args = ["eval", "--dataset", str(built[0]), "--scoring", "loglik", "--out", str(tmp_path / "r")]
    assert main(args + ["--model", "majority"]) == 2
    assert "needs the model's token probabilities" in capsys.readouterr().err


def test_distribution_distances_against_scipy():
    rng = np.random.default_rng(0)
    k = np.array([4] * 40 + [3] * 30 + [5] * 30)
    groups = ["a"] * 40 + ["b"] * 30 + ["c"] * 30
    ref = np.array([rng.integers(n) for n in k])
    pred = np.array([rng.integers(-1, n) for n in k])
    probs = [rng.dirichlet(np.ones(n)).tolist() for n in k]
    got = distribution_distances(pred, ref, k, groups, probs)
    tvs, jss, soft_tvs, soft_jss = [], [], [], []
    for g, n in (("a", 4), ("b", 3), ("c", 5)):
        rows = np.array(groups) == g
        real = np.bincount(ref[rows], minlength=n) / rows.sum()
        valid = pred[rows][pred[rows] >= 0]
        guess = np.bincount(valid, minlength=n) / len(valid)
        soft = np.mean([probs[i] for i in np.flatnonzero(rows)], axis=0)
        tvs.append(0.5 * np.abs(guess - real).sum())
        jss.append(jensenshannon(guess, real, base=2))
        soft_tvs.append(0.5 * np.abs(soft - real).sum())
        soft_jss.append(jensenshannon(soft, real, base=2))
    assert got["total_variation"] == pytest.approx(np.mean(tvs))
    assert got["jensen_shannon"] == pytest.approx(np.mean(jss))
    assert got["soft_total_variation"] == pytest.approx(np.mean(soft_tvs))
    assert got["soft_jensen_shannon"] == pytest.approx(np.mean(soft_jss))
    # edges: identical -> 0, disjoint point masses -> 1, a group with no valid prediction -> 1
    assert distribution_distances([0, 1], [0, 1], 2, ["g", "g"]) == {"total_variation": 0.0, "jensen_shannon": 0.0}
    assert distribution_distances([0], [1], 2) == {"total_variation": 1.0, "jensen_shannon": 1.0}
    assert distribution_distances([-1], [1], 2)["jensen_shannon"] == 1.0


def test_the_distribution_module_is_a_thin_wrapper(tmp_path):
    import evaluate

    module = evaluate.load(str(ROOT / "evaluate_metrics" / "distribution_distance"))
    got = module.compute(
        predictions=[0, 1, 2],
        references=[0, 1, 1],
        num_options=3,
        groups=["x"] * 3,
        probabilities=[[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.1, 0.3, 0.6]],
    )
    assert got == pytest.approx(
        distribution_distances([0, 1, 2], [0, 1, 1], 3, ["x"] * 3, [[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.1, 0.3, 0.6]])
    )


# ---- lm-evaluation-harness: the same numbers as `dvmap eval` on the same rows ----------------------------------


@pytest.fixture(scope="module")
def plain_build(tmp_path_factory, wvs_sav):
    out = tmp_path_factory.mktemp("harness") / "dvmap"
    build_folder(small_config(wvs_sav, system_prompt="none"), out)
    return out


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


def test_the_harness_loglik_task_equals_dvmap_eval(plain_build, tiny_model, tmp_path):
    got, _ = _harness(tiny_model, plain_build, "dvmap_cross_value_mc", tmp_path / "harness")
    args = ["eval", "--model", str(tiny_model), "--dataset", str(plain_build), "--config", "cross_value"]
    args += ["--limit", "10", "--seed", "3", "--scoring", "loglik", "--no-chat-template", "--out", str(tmp_path / "r")]
    assert main(args) == 0
    ours = json.loads((tmp_path / "r" / "metrics.json").read_text())["overall"]
    names = {"acc": "accuracy", "lc": "likert_consistency", "wd": "wasserstein_distance", "tv": "total_variation"}
    names |= {"js": "jensen_shannon", "soft_tv": "soft_total_variation", "soft_js": "soft_jensen_shannon"}
    for theirs, mine in names.items():
        assert got[theirs] == pytest.approx(ours[mine], abs=1e-6), theirs


def test_the_harness_generation_task_equals_dvmap_eval(plain_build, tiny_model, tmp_path):
    got, samples = _harness(
        tiny_model,
        plain_build,
        "dvmap_cross_value",
        tmp_path / "harness",
        "--apply_chat_template",
        "--gen_kwargs",
        "max_gen_toks=8",
    )
    args = ["eval", "--model", str(tiny_model), "--dataset", str(plain_build), "--config", "cross_value"]
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
