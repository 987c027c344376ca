"""`dvmap_hf/evaluation/runner.py`: `dvmap eval`, resumable runs, their folders and predictions."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from datasets import load_dataset

from dataset_builder import build_folder
from dvmap_app.cli import main
from dvmap_hf.data import folder
from dvmap_hf.errors import DvmapError
from dvmap_hf.evaluation import runner
from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig
from dvmap_hf.evaluation.report import paper_table, read_metrics
from dvmap_hf.evaluation.runner import read_predictions, run_eval
from tests.support import _error, _spec, authors_correct, openai_spec, small_config


def test_reference_predictors_end_to_end(built, tmp_path):
    metrics = {}
    for model in ("random", "majority", "tabular"):
        out = tmp_path / model
        metrics[model] = run_eval(_spec(built, model), out)
        lines = (out / "predictions.jsonl").read_text().splitlines()
        assert len(lines) == metrics[model]["overall"]["rows"] > 0
        record = json.loads(lines[0])
        assert set(record) == {"id", "completion", "distribution", "parsed", "correct"}
        for name in ("report.md", "metrics.json", "per_country_accuracy.png", "per_category_accuracy.png"):
            assert (out / name).stat().st_size > 0
        assert (out / "per_country_accuracy.png").read_bytes()[:4] == b"\x89PNG"
        overall = metrics[model]["overall"]
        assert overall["invalid_rate"] == 0 and 0 <= overall["wasserstein_distance"] <= 1
        report = (out / "report.md").read_text()
        assert "## Per country" in report and "## Per category" in report and "Pearson r" in report
        # the decoding settings on one line, each value beside its name (not wrapped mid-phrase)
        assert re.search(r"rows, temperature \S+, top_p \S+, top_k \S+, seed \d+\.$", report, re.MULTILINE)
    # the synthetic answers depend on the attributes: a classifier on them beats chance
    assert metrics["tabular"]["overall"]["accuracy"] > metrics["random"]["overall"]["accuracy"]
    table = paper_table([read_metrics(tmp_path / m) for m in metrics])
    assert (
        table.count("\n| ") == 3 and "| tabular | cross_demographic |" in table and "bootstrap over profiles" in table
    )


class Interrupting:
    """Wraps a predictor and raises after `after` batches, like a Ctrl-C mid-run."""

    def __init__(self, inner, after):
        self.inner, self.after, self.calls = inner, after, 0

    def __call__(self, rows, batch_seed=0):
        if self.calls == self.after:
            raise KeyboardInterrupt
        self.calls += 1
        return self.inner(rows, batch_seed)


def test_resume_after_interruption_gives_the_same_metrics(built, tmp_path, tiny_model, monkeypatch):
    spec = EvalConfig(
        str(tiny_model),
        str(built[0]),
        "cross_demographic",
        limit=10,
        generation=InferenceConfig(max_new_tokens=6, batch_size=3, seed=1),
    )
    whole = run_eval(spec, tmp_path / "whole")
    real = runner.make_predictor
    monkeypatch.setattr(runner, "make_predictor", lambda *a, **k: Interrupting(real(*a, **k), after=2))
    with pytest.raises(KeyboardInterrupt):
        run_eval(spec, tmp_path / "resumed")
    assert len(read_predictions(tmp_path / "resumed" / "predictions.jsonl")) == 6
    with open(tmp_path / "resumed" / "predictions.jsonl", "a") as handle:
        handle.write('{"id": "torn')  # killed in the middle of a write
    monkeypatch.setattr(runner, "make_predictor", real)
    resumed = run_eval(spec, tmp_path / "resumed")
    assert resumed["overall"] == whole["overall"]
    a = (tmp_path / "whole" / "predictions.jsonl").read_text().splitlines()
    b = (tmp_path / "resumed" / "predictions.jsonl").read_text().splitlines()
    assert sorted(a) == sorted(b) and len(b) == 10
    other = EvalConfig("majority", str(built[0]), "cross_demographic")
    with pytest.raises(DvmapError, match="holds another run"):
        run_eval(other, tmp_path / "resumed")


def test_unreachable_endpoint_fails_cleanly_keeping_earlier_predictions(built, tmp_path, monkeypatch):
    spec = openai_spec(built, monkeypatch, "http://127.0.0.1:9/v1", limit=4, max_retries=1, batch_size=2)
    with pytest.raises(DvmapError, match="Connection refused.*after 1 attempt"):  # nothing listens: no retries
        run_eval(spec, tmp_path / "down")
    assert not (tmp_path / "down").exists()  # nothing written: the corrected rerun may use the same folder


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config", "nope"], "no config 'nope'"),
        (["--split", "train"], "has no split 'train'"),
        (["--model", "runs/does-not-exist/ckpt"], "does not exist"),
        (["--backend", "telepathy", "--model", "x/y"], "argument --backend: invalid choice"),
        (["--backend", "vllm", "--model", "x/y"], "pip install -e '.[gpu]'"),
    ],
)
def test_eval_bad_input(built, tmp_path, capsys, args, message):
    base = ["eval", "--model", "majority", "--dataset", str(built[0]), "--out", str(tmp_path / "run")]
    assert main(base + args) == 2
    assert message in capsys.readouterr().err


class Lenient:
    """A predictor that answers in a sentence: right under the authors' rule, invalid under ours."""

    name, prompt_format = "lenient", "chat messages"

    def __call__(self, rows, batch_seed=0):
        return [f"<answer>I would say {row['options'][row['answer_index']]}!</answer>" for row in rows]


def test_eval_reports_accuracy_under_both_rules(built, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "make_predictor", lambda *a, **k: Lenient())
    spec = EvalConfig("lenient", str(built[0]), "cross_country", limit=40, match="release")
    metrics = run_eval(spec, tmp_path / "run")
    both = metrics["accuracy_by_match"]
    rows = load_dataset(str(built[0]), "cross_country")["test"].to_list()
    expected = sum(authors_correct(Lenient()([r])[0], r["options"], r["answer_index"]) for r in rows) / len(rows)
    assert both["strict"] == 0.0 and both["release"] > 0.8
    assert metrics["overall"]["accuracy"] == both["release"] and metrics["run"]["match"] == "release"
    assert abs(both["release"] - expected) < 0.2  # the sample of 40 against all rows
    report = (tmp_path / "run" / "report.md").read_text()
    assert "strict 0.0%" in report and "`release` rule" in report
    with pytest.raises(Exception, match="holds another run"):
        run_eval(EvalConfig("lenient", str(built[0]), "cross_country", limit=40), tmp_path / "run")


def test_a_dataset_under_the_home_folder_is_found_as_a_folder(built, tmp_path, monkeypatch, capsys):
    """`--dataset '~/ds'` (quoted, so no shell expands it) and `run_eval(dataset="~/ds")` evaluate the
    folder: the dataset is found once, by one rule, not taken for a Hub id."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "ds").symlink_to(built[0])
    found = []
    resolve = folder.resolve_dataset
    monkeypatch.setattr(folder, "resolve_dataset", lambda dataset: found.append(dataset) or resolve(dataset))
    metrics = run_eval(EvalConfig("majority", "~/ds", "cross_value", limit=20, bootstrap=0), tmp_path / "run")
    assert metrics["overall"]["rows"] == 20 and metrics["run"]["data"].startswith("data/cross_value/test-")
    assert found == ["~/ds"]  # once a run: the split, its fingerprint and the majority's train split
    argv = ["eval", "--model", "majority", "--dataset", "~/ds", "--config", "cross_value", "--limit", "20"]
    assert main([*argv, "--bootstrap", "0", "--out", str(tmp_path / "cli")]) == 0


def test_resuming_on_a_rebuilt_dataset_is_refused(wvs_sav, tmp_path):
    build_folder(small_config(wvs_sav, seed=1), tmp_path / "d")
    spec = EvalConfig("majority", str(tmp_path / "d"), "cross_value", limit=20)
    run_eval(spec, tmp_path / "run")
    build_folder(small_config(wvs_sav, seed=2), tmp_path / "d", force=True)
    with pytest.raises(DvmapError, match="holds another run \\(the dataset changed since\\)"):
        run_eval(spec, tmp_path / "run")


@pytest.mark.parametrize(
    "bad, message",
    [
        (["--backend", "bogus", "--model", "x/y"], "argument --backend: invalid choice"),
        (["--limit", "0"], "--limit must be >= 1"),
        (["--limit", "-5"], "--limit must be >= 1"),
        (["--model", "runs/nope"], "does not exist"),
        (["--match", "loose"], "argument --match: invalid choice"),
    ],
)
def test_a_failed_eval_does_not_poison_its_folder(built, tmp_path, capsys, bad, message):
    base = ["eval", "--model", "majority", "--dataset", str(built[0]), "--out", str(tmp_path / "run")]
    assert main(base + bad) == 2
    assert message in _error(capsys)
    assert not (tmp_path / "run").exists()
    assert main(base + ["--limit", "7"]) == 0  # the corrected run takes the same folder


def test_a_corrupted_predictions_file_is_named_and_repaired(built, tmp_path, capsys):
    base = ["eval", "--model", "tabular", "--dataset", str(built[0]), "--limit", "30", "--out"]
    assert main(base + [str(tmp_path / "clean")]) == 0
    shutil.copytree(tmp_path / "clean", tmp_path / "bad")
    path = tmp_path / "bad" / "predictions.jsonl"
    lines = path.read_text().splitlines()
    lines[3] = "garbage"
    lines[7] = json.dumps({k: v for k, v in json.loads(lines[7]).items() if k != "id"})
    lines[11] = json.dumps({**json.loads(lines[11]), "parsed": 99})
    path.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(base + [str(tmp_path / "bad")]) == 2
    assert re.search(
        r"predictions\.jsonl:4: not a JSON line \(3 bad line\(s\)\); run again with --repair", _error(capsys)
    )
    assert main(base + [str(tmp_path / "bad"), "--repair"]) == 0
    clean = json.loads((tmp_path / "clean" / "metrics.json").read_text())["overall"]
    assert json.loads((tmp_path / "bad" / "metrics.json").read_text())["overall"] == clean
    assert len(path.read_text().splitlines()) == 30


@pytest.mark.parametrize("damage", ["{oops", "[1, 2]"])
def test_a_damaged_run_json_is_named_and_nothing_is_rewritten(built, tmp_path, capsys, damage):
    """A damaged run.json raised a raw JSONDecodeError traceback (issue 33's probe pass): now one line
    naming the file, exit 2, and the predictions beside it left as they were."""
    base = ["eval", "--model", "majority", "--dataset", str(built[0]), "--limit", "20", "--out"]
    assert main(base + [str(tmp_path / "run")]) == 0
    (tmp_path / "run" / "run.json").write_text(damage)
    kept = (tmp_path / "run" / "predictions.jsonl").read_bytes()
    capsys.readouterr()
    assert main(base + [str(tmp_path / "run")]) == 2
    assert re.search(r"run\.json: damaged, not (valid JSON|a JSON object).*use a new --out folder", _error(capsys))
    assert main(base + [str(tmp_path / "clean")]) == 0
    assert main(["compare", str(tmp_path / "clean"), str(tmp_path / "run"), "--bootstrap", "40"]) == 2
    assert "run.json: damaged" in _error(capsys)
    assert (tmp_path / "run" / "predictions.jsonl").read_bytes() == kept
    assert (tmp_path / "run" / "run.json").read_text() == damage


def test_eval_identity_is_written_with_the_first_predictions(built, tmp_path, monkeypatch):
    class Failing:
        def __call__(self, rows, batch_seed=0):
            raise DvmapError("endpoint down")

    monkeypatch.setattr(runner, "make_predictor", lambda *a, **k: Failing())
    with pytest.raises(DvmapError, match="endpoint down"):
        run_eval(EvalConfig("some-model", str(built[0]), "cross_value", backend="openai", limit=4), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_second_writer_into_the_same_folder_is_refused(built, tmp_path, monkeypatch):
    """Two evals into one --out at once would mix into one folder: the second is refused at once."""
    import threading

    started, release = threading.Event(), threading.Event()
    real = runner.make_predictor

    class Slow:
        name, prompt_format = "slow", "chat messages"

        def __init__(self, inner):
            self.inner = inner

        def __call__(self, rows, batch_seed=0):
            started.set()
            release.wait(30)
            return self.inner(rows, batch_seed)

    monkeypatch.setattr(runner, "make_predictor", lambda spec, dataset: Slow(real(spec, dataset)))
    first = threading.Thread(target=run_eval, args=(_spec(built, "random", "cross_value"), tmp_path / "r"))
    first.start()
    started.wait(30)
    try:
        with pytest.raises(DvmapError, match="another dvmap eval .* is writing it"):
            run_eval(_spec(built, "majority", "cross_value"), tmp_path / "r")
    finally:
        release.set()
        first.join()
    assert json.loads((tmp_path / "r/run.json").read_text())["model"] == "random"


def test_a_sampled_run_resumed_with_another_batch_size_is_refused(built, tiny_model, tmp_path):
    spec = EvalConfig(str(tiny_model), str(built[0]), "cross_value", limit=6)
    spec.generation = InferenceConfig(max_new_tokens=4, batch_size=3)
    run_eval(spec, tmp_path / "r")
    other = EvalConfig(str(tiny_model), str(built[0]), "cross_value", limit=6)
    other.generation = InferenceConfig(max_new_tokens=4, batch_size=2)
    with pytest.raises(
        DvmapError, match="different batch_size; sampling depends on the batch: resume with --batch-size 3"
    ):
        run_eval(other, tmp_path / "r")
    greedy = EvalConfig(str(tiny_model), str(built[0]), "cross_value", limit=6)
    greedy.generation = InferenceConfig(max_new_tokens=4, batch_size=3, greedy=True)
    assert "batch_size" not in greedy.identity()  # greedy rows answer alike whatever the batch


def test_a_finished_run_evaluated_again_keeps_its_prompt_format(built, tiny_model, tmp_path):
    spec = EvalConfig(str(tiny_model), str(built[0]), "cross_value", limit=4, scoring="loglik")
    first = run_eval(spec, tmp_path / "r")["run"]["prompt_format"]
    assert run_eval(spec, tmp_path / "r")["run"]["prompt_format"] == first == "chat template"
