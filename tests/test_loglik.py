"""`dvmap_hf/evaluation/loglik.py`: option log-likelihood scoring."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch
from datasets import load_dataset

from dvmap_app.cli import main
from dvmap_hf.evaluation.backends import TransformersBackend
from dvmap_hf.evaluation.config import InferenceConfig
from dvmap_hf.evaluation.loglik import LoglikScorer


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
