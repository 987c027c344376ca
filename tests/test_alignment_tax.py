"""`dvmap_hf/evaluation/alignment_tax.py`: general benchmarks before and after, on a local task (offline)."""

from __future__ import annotations

import json

import pytest

from dvmap_app.cli import main

TASK = """task: tiny_facts
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "Q: {{{{question}}}}\\nA:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: "{{{{label}}}}"
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


@pytest.fixture
def local_task(tmp_path):
    folder = tmp_path / "tasks"
    folder.mkdir()
    rows = [
        {"question": f"What is {a} plus {b}?", "choices": [str(a + b), str(a + b + 1), str(a * b + 7)], "label": 0}
        for a, b in [(1, 2), (2, 2), (3, 4), (5, 1), (6, 2), (7, 3), (2, 9), (4, 4)]
    ]
    (folder / "facts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "tiny_facts.yaml").write_text(TASK.format(data=folder / "facts.jsonl"))
    return folder


def test_each_task_change_with_its_stderr(tiny_model, tmp_path, local_task, capsys):
    other = tmp_path / "other"
    assert main(["tiny-model", "--out", str(other), "--seed", "1"]) == 0
    argv = ["alignment-tax", "--base", str(tiny_model), "--trained", str(other), "--tasks", "tiny_facts"]
    assert main([*argv, "--include-path", str(local_task), "--batch-size", "4", "--out", str(tmp_path / "tax")]) == 0
    assert "| tiny_facts | acc |" in capsys.readouterr().out
    (row,) = json.loads((tmp_path / "tax/alignment_tax.json").read_text())["rows"]
    assert row["change"] == pytest.approx(row["trained"] - row["base"]) and row["stderr"] > 0
    assert row["within_noise"] == (abs(row["change"]) < 1.96 * row["stderr"])
    assert "within noise" in (tmp_path / "tax/alignment_tax.md").read_text()


def test_an_unknown_task_is_named(tiny_model, tmp_path, capsys):
    argv = ["alignment-tax", "--base", str(tiny_model), "--trained", str(tiny_model), "--tasks", "no_such_task"]
    assert main([*argv, "--out", str(tmp_path / "tax")]) == 2
    assert "unknown lm-eval task(s): no_such_task" in capsys.readouterr().err
    assert not (tmp_path / "tax").exists()


def test_a_missing_model_or_an_output_file_is_refused_before_any_evaluation(tiny_model, tmp_path, capsys):
    """A base folder that does not exist ended in lm-eval's ValueError traceback, and `--out` naming a file
    was found only after both models were evaluated (issue 33's probe pass)."""
    argv = ["alignment-tax", "--trained", str(tiny_model), "--tasks", "arc_easy"]
    capsys.readouterr()
    assert main([*argv, "--base", str(tmp_path / "no-model"), "--out", str(tmp_path / "tax")]) == 2
    assert f"{tmp_path / 'no-model'}: not a model folder (no config.json)" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("mine")
    assert main([*argv, "--base", str(tiny_model), "--out", str(tmp_path / "a-file")]) == 2
    assert "a-file: exists and is not a folder" in capsys.readouterr().err
    assert (tmp_path / "a-file").read_text() == "mine" and not (tmp_path / "tax").exists()
