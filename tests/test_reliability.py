"""Bad input and faults, each a probe that once failed: tried, a clear one-line error, nothing lost."""

import json
import os
import re
import shutil

import pytest

from dataset_builder import build_folder
from dvmap_app.cli import main
from dvmap_hf.evaluation import runner
from dvmap_hf.errors import DvmapError
from dvmap_hf.evaluation.config import EvalConfig
from dvmap_hf.evaluation.parsing import extract_answer
from dvmap_hf.evaluation.runner import run_eval
from dvmap_hf.training.rewards import accuracy_reward, get_likert_reward, release_reward
from tests.conftest import small_config


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("dvmap: error:") and "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


# 1. a missing dataset folder is never served from the datasets cache


def test_a_missing_dataset_folder_is_not_served_from_the_cache(built, tmp_path, monkeypatch, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "dvmap").symlink_to(built[0])
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.chdir(a)
    assert main(["eval", "--model", "random", "--limit", "5", "--out", "r"]) == 0  # puts `dvmap` in the cache
    assert json.loads((a / "r" / "run.json").read_text())["data"].startswith("data/cross_demographic/test-")
    monkeypatch.chdir(b)
    assert main(["eval", "--model", "random", "--out", "r"]) == 2
    assert "dvmap: no such dataset folder" in _error(capsys) and not (b / "r").exists()


def test_training_fails_at_once_on_a_missing_model_or_dataset(built_plain, tmp_path, monkeypatch):
    from dvmap_hf.training.arguments import parse_grpo
    from dvmap_hf.training.mains import grpo_main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    recipe = os.path.join(os.path.dirname(__file__), "..", "training", "recipes", "tiny-cpu.yaml")
    args = ["--config", recipe, "--output_dir", str(tmp_path / "o")]
    with pytest.raises(SystemExit, match="dataset_name: dvmap: no such dataset folder"):
        grpo_main(*parse_grpo(args))
    (tmp_path / "dvmap").symlink_to(built_plain)
    with pytest.raises(SystemExit, match=r"runs/tiny-qwen3: no such model folder \(`dvmap tiny-model"):
        grpo_main(*parse_grpo(args))


def test_hub_ids_may_hold_dots(monkeypatch):
    from dvmap_hf.data.folder import resolve_dataset

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    assert resolve_dataset("my-org/dvmap.v2") == "my-org/dvmap.v2"  # never looked up here: just resolved
    with pytest.raises(DvmapError, match="no such dataset folder"):
        resolve_dataset("./nowhere")


# 2. a dataset rebuilt at the same path is not mixed into an earlier run


def test_resuming_on_a_rebuilt_dataset_is_refused(wvs_sav, tmp_path):
    build_folder(small_config(wvs_sav, seed=1), tmp_path / "d")
    spec = EvalConfig("majority", str(tmp_path / "d"), "cross_value", limit=20)
    run_eval(spec, tmp_path / "run")
    build_folder(small_config(wvs_sav, seed=2), tmp_path / "d", force=True)
    with pytest.raises(DvmapError, match="holds another run \\(the dataset changed since\\)"):
        run_eval(spec, tmp_path / "run")


# 4. a failed eval leaves the folder reusable


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


def test_robustness_limit_and_folder_checks(built, tmp_path, capsys):
    base = ["robustness", "--model", "majority", "--dataset", str(built[0])]
    assert main(base + ["--limit", "-3", "--out", str(tmp_path / "f")]) == 2
    assert "--limit must be >= 1" in _error(capsys)
    assert main(["eval", "--model", "majority", "--dataset", str(built[0]), "--out", str(tmp_path / "e")]) == 0
    capsys.readouterr()
    before = sorted(p.name for p in (tmp_path / "e").iterdir())
    assert main(base + ["--out", str(tmp_path / "e")]) == 2
    assert "holds a dvmap eval run" in _error(capsys)
    assert sorted(p.name for p in (tmp_path / "e").iterdir()) == before


# 5. a user's file is never lost


def test_build_refuses_an_output_folder_that_holds_its_input(tmp_path, capsys):
    data = tmp_path / "mydata"
    data.mkdir()
    wvs = data / "WVS.csv"
    assert main(["synth-wvs", "--out", str(wvs), "--respondents", "3000"]) == 0
    content = wvs.read_bytes()
    assert main(["build", "--wvs", str(wvs), "--out", str(data), "--force"]) == 2
    assert "holds the input" in _error(capsys) and wvs.read_bytes() == content


def test_build_refuses_the_working_folder(tmp_path, capsys, monkeypatch, wvs_sav):
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--wvs", str(wvs_sav), "--out", ".", "--force"]) == 2
    assert "cannot be the working folder" in _error(capsys)
    assert list(tmp_path.iterdir()) == []  # no `..old-*` or `.tmp-*` folder left


def test_synth_wvs_does_not_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "f.csv"
    out.write_text("mine")
    assert main(["synth-wvs", "--out", str(out), "--respondents", "100"]) == 2
    assert "exists (use --force" in _error(capsys) and out.read_text() == "mine"
    assert main(["synth-wvs", "--out", str(out), "--respondents", "100", "--force"]) == 0
    assert out.read_text().startswith("") and out.read_text() != "mine"


# 6. a corrupted predictions.jsonl names its file and line, and --repair redoes the bad rows


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


# 7. OS errors and unchecked arguments: one line each, nothing left behind


@pytest.mark.parametrize(
    "args, message",
    [
        (["build", "--wvs", "{wvs}", "--out", "{tmp}/d", "--seed", "-1"], "--seed must be >= 0"),
        (["synth-wvs", "--out", "{tmp}/s.csv", "--noise", "-1"], "--noise must be >= 0"),
        (["tiny-model", "--out", "{tmp}/m", "--hidden-size", "0"], "--hidden-size must be a positive multiple of 8"),
        (["analyze", "importance", "--wvs", "{wvs}", "--out", "{tmp}/i", "--trees", "0"], "--trees must be >= 1"),
        (["analyze", "difficulty", "--run", "{tmp}", "--out", "{tmp}/x"], "not a dvmap eval run folder"),
        (["synth-wvs", "--out", "{file}/s.csv"], "/file"),  # a file where a folder should be
        (["build", "--wvs", "{wvs}", "--out", "{file}/d"], "/file"),
        (["tiny-model", "--out", "{file}/m"], "/file"),
    ],
)
def test_bad_arguments_and_os_errors_get_one_line(tmp_path, capsys, wvs_sav, args, message):
    (tmp_path / "file").write_text("a file, not a folder")
    names = {"wvs": str(wvs_sav), "tmp": str(tmp_path / "work"), "file": str(tmp_path / "file")}
    (tmp_path / "work").mkdir()
    assert main([a.format(**names) for a in args]) == 2
    assert message in _error(capsys)
    assert list((tmp_path / "work").iterdir()) == []


# 9. rewards and metric inputs refuse what disagrees


def test_rewards_refuse_rows_that_disagree_with_their_options():
    with pytest.raises(ValueError, match="row 0: 1 option"):
        get_likert_reward()(["<answer>A</answer>"], options=[["A"]], answer_index=[0], num_options=[1])
    with pytest.raises(ValueError, match="row 1: num_options 5 but 3 options"):
        get_likert_reward()(["x", "y"], options=[["a", "b", "c"]] * 2, answer_index=[0, 0], num_options=[3, 5])
    with pytest.raises(ValueError, match="answer_index 3 is not an index of its 3 options"):
        accuracy_reward(["x"], options=[["a", "b", "c"]], answer_index=[3])
    with pytest.raises(ValueError, match="answer_index -1"):
        release_reward(["x"], options=[["a", "b"]], answer_index=[-1])


def test_evaluate_modules_refuse_fractional_indices():
    import evaluate

    lc = evaluate.load(os.path.join(os.path.dirname(__file__), "..", "evaluate_metrics", "likert_consistency"))
    with pytest.raises(ValueError, match="predictions must be whole numbers; got 1.7"):
        lc.compute(predictions=[1.7], references=[1], num_options=4)
    with pytest.raises(ValueError, match="num_options must be whole numbers; got 4.9"):
        lc.compute(predictions=[1], references=[1], num_options=4.9)
    assert lc.compute(predictions=[1, -1], references=[1, 0], num_options=4)["likert_consistency"] == 0.5


# 10. smaller ones


def test_the_answer_parser_keeps_its_rule_on_long_unclosed_completions():
    import random

    rule = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)
    rng = random.Random(0)
    parts = ["<answer>", "</answer>", "<ANSWER>", "</Answer>", "x", "Agree", "\n", "<answer", "answer>"]
    for _ in range(5000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 12)))
        found = rule.findall(text)
        assert extract_answer(text) == (found[-1] if found else None), text
    long = "<answer>" * 16_000  # 128 KB of unclosed tags: one linear pass, where the regex took 35 s
    assert extract_answer(long) is None and extract_answer(long + "</answer>") == "<answer>" * 15_999


def test_stale_temporary_folders_are_cleaned_and_outputs_follow_the_umask(wvs_sav, tmp_path):
    stale = tmp_path / ".d.tmp-999999999-abc"  # left by a killed build (no such process)
    stale.mkdir()
    old = os.umask(0o022)
    try:
        build_folder(small_config(wvs_sav), tmp_path / "d")
    finally:
        os.umask(old)
    assert not stale.exists()
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755
    assert {p.stat().st_mode & 0o777 for p in (tmp_path / "d").rglob("*") if p.is_file()} == {0o644}


def test_import_release_reports_rows_with_empty_fields(tmp_path):
    import pandas as pd

    from tests.test_release import release_rows

    corpus = tmp_path / "DVMap" / "DVMap_Corpus"
    corpus.mkdir(parents=True)
    rows = release_rows(["Q1", "Q2", "Q27"])
    rows[1]["Country"] = None
    pd.DataFrame(rows).to_parquet(corpus / "test.parquet")
    from dataset_builder.release import import_release

    report = import_release(tmp_path / "DVMap", tmp_path / "out")
    (problem,) = report["problems"]
    assert problem["empty_fields"] == 1 and problem["examples"][0]["why"] == "empty Country"
    assert report["sizes"]["corpus/test"] == 2


def test_tiny_model_force_replaces(tmp_path, capsys):
    out = tmp_path / "m"
    assert main(["tiny-model", "--out", str(out), "--hidden-size", "16"]) == 0
    capsys.readouterr()
    assert main(["tiny-model", "--out", str(out), "--hidden-size", "16"]) == 2
    assert "use --force" in _error(capsys)
    assert main(["tiny-model", "--out", str(out), "--hidden-size", "16", "--force"]) == 0


def test_eval_identity_is_written_with_the_first_predictions(built, tmp_path, monkeypatch):
    class Failing:
        fallbacks = 0

        def __call__(self, rows, batch_seed=0):
            raise DvmapError("endpoint down")

    monkeypatch.setattr(runner, "make_predictor", lambda *a, **k: Failing())
    with pytest.raises(DvmapError, match="endpoint down"):
        run_eval(EvalConfig("some-model", str(built[0]), "cross_value", backend="openai", limit=4), tmp_path / "run")
    assert not (tmp_path / "run").exists()
