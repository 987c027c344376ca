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


def _naive(model, context, continuations):
    """One full forward pass per option: the unshared reference."""
    scores = []
    for ids in continuations:
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([context + ids])).logits[0].log_softmax(-1)
        scores.append(sum(float(logits[len(context) + t - 1, ids[t]]) for t in range(len(ids))))
    return scores


def test_rows_scored_together_share_their_prompt_prefix_and_equal_unshared_passes(built, tiny_model):
    """The rows of a batch (in dataset order: profile after profile) packed as one prefix tree: the text
    they share is in the sequence once, and every option scores as in its own full pass."""
    from dvmap_hf.evaluation.prefix import PrefixTree

    scorer = LoglikScorer(TransformersBackend.from_pretrained(str(tiny_model), InferenceConfig()))
    rows = _rows(built[0], 12)
    pairs = [scorer.pairs(row) for row in rows]
    assert len({len(context) for context, _ in pairs}) > 1  # the prompts differ in length
    assert len({row["profile_id"] for row in rows}) > 1  # more than one profile: more than one branch
    tree = PrefixTree([c for c, _ in pairs], [options for _, options in pairs])
    contexts = sum(len(context) for context, _ in pairs)
    options = sum(len(ids) - 1 for _, continuations in pairs for ids in continuations)
    assert len(tree.tokens) - options < contexts / 2  # what rows share is computed once
    for (context, continuations), scores in zip(pairs, scorer.batch_logprobs(pairs), strict=True):
        assert scores == pytest.approx(_naive(scorer.model, context, continuations), abs=1e-4)


def test_a_context_that_is_a_prefix_of_another_and_repeated_rows_are_scored_alike(tiny_model):
    scorer = LoglikScorer(TransformersBackend.from_pretrained(str(tiny_model), InferenceConfig()))
    short, long = [5, 6, 7], [5, 6, 7, 8, 9]
    pairs = [(long, [[10, 11], [12]]), (short, [[8, 9, 10], [13, 14]]), (short, [[8, 9, 10], [13, 14]])]
    together = scorer.batch_logprobs(pairs)
    assert together[1] == together[2]
    for (context, continuations), scores in zip(pairs, together, strict=True):
        assert scores == pytest.approx(_naive(scorer.model, context, continuations), abs=1e-4)


def _scored_in_batches(scorer, pairs, size):
    """Each batch's scores, and how many carried prompt tokens each batch reused."""
    scores, reused = [], []
    for at in range(0, len(pairs), size):
        batch = pairs[at : at + size]
        reused.append(scorer.backend.prefix.plan([c for c, _ in batch], [o for _, o in batch]).past)
        scores += scorer.batch_logprobs(batch)
    return scores, reused


def test_a_batch_reuses_what_the_previous_one_read_and_scores_as_unshared_passes(built, tiny_model):
    """The next batch of a profile's rows starts from the cache the previous one left: its prompt prefix is
    not read again, and every option still scores as in its own full pass."""
    scorer = LoglikScorer(TransformersBackend.from_pretrained(str(tiny_model), InferenceConfig()))
    assert scorer.backend.prefix.carries
    pairs = [scorer.pairs(row) for row in _rows(built[0], 12)]
    scores, reused = _scored_in_batches(scorer, pairs, 3)
    assert reused[0] == 0 and min(reused[1:]) > 0  # the system message at least, the profile within one
    for (context, continuations), got in zip(pairs, scores, strict=True):
        assert got == pytest.approx(_naive(scorer.model, context, continuations), abs=1e-4)


def test_a_row_scored_again_reads_its_last_token_and_changed_weights_drop_the_cache(built, tiny_model):
    scorer = LoglikScorer(TransformersBackend.from_pretrained(str(tiny_model), InferenceConfig()))
    pair = scorer.pairs(_rows(built[0], 1)[0])
    first = scorer.batch_logprobs([pair])[0]
    tree = scorer.backend.prefix.plan([pair[0]], [pair[1]])
    assert tree.past == len(pair[0]) - 1  # all the carried prompt but the token whose logits score
    assert scorer.batch_logprobs([pair])[0] == pytest.approx(first, abs=1e-4)
    with torch.no_grad():
        next(scorer.model.parameters()).mul_(1.5)  # what an optimizer step does: in place
    assert scorer.backend.prefix.plan([pair[0]], [pair[1]]).past == 0
    assert scorer.batch_logprobs([pair])[0] == pytest.approx(_naive(scorer.model, *pair), abs=1e-4)


def test_without_a_carried_cache_the_scores_are_the_same(built, tiny_model):
    """A model whose layers keep no plain cache (sliding windows, flash attention) scores batch by batch."""
    scorer = LoglikScorer(TransformersBackend.from_pretrained(str(tiny_model), InferenceConfig()))
    scorer.backend.prefix.carries = False
    pairs = [scorer.pairs(row) for row in _rows(built[0], 6)]
    scores, reused = _scored_in_batches(scorer, pairs, 3)
    assert reused == [0, 0]
    for (context, continuations), got in zip(pairs, scores, strict=True):
        assert got == pytest.approx(_naive(scorer.model, context, continuations), abs=1e-4)


def test_a_rows_options_share_their_first_tokens(tiny_model):
    from dvmap_hf.evaluation.prefix import PrefixTree

    scorer = LoglikScorer(TransformersBackend.from_pretrained(str(tiny_model), InferenceConfig()))
    context, options = [5, 6, 7], [[20, 21, 30], [20, 22, 30], [20, 21, 31]]
    assert len(PrefixTree([context], [options]).tokens) == 3 + 3  # the context, then 20, 21 and 22 once each
    assert scorer.logprobs(context, options) == pytest.approx(_naive(scorer.model, context, options), abs=1e-4)


def test_the_shared_prompt_pass_equals_one_full_pass_per_option(built, tiny_model):
    backend = TransformersBackend.from_pretrained(str(tiny_model), InferenceConfig())
    scorer = LoglikScorer(backend)
    for row in _rows(built[0]):
        context, continuations = scorer.pairs(row)
        assert scorer.logprobs(context, continuations) == pytest.approx(
            _naive(backend.model, *scorer.pairs(row)), abs=1e-4
        )


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


def test_rows_past_the_models_positions_are_refused_not_scored(built, tiny_model, tmp_path, capsys):
    """A model of 64 positions scored ~200-token rows without a word (issue 33's probe pass): rotary
    positions past the limit compute, but the scores are not the model's."""
    model = tmp_path / "short"
    shutil.copytree(tiny_model, model)
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps(config | {"max_position_embeddings": 64}))
    argv = ["eval", "--model", str(model), "--dataset", str(built[0]), "--scoring", "loglik", "--limit", "4"]
    assert main([*argv, "--bootstrap", "0", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "tokens, more than the model's max_position_embeddings 64" in err and "row " in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("logprob", [float("nan"), float("-inf")])
def test_a_model_without_numbers_is_refused_not_scored_as_its_first_option(
    built, tiny_model, tmp_path, capsys, logprob
):
    """NaN log-probabilities (a float16 overflow) were scored as the first option with NaN probabilities, and
    all -inf (no option possible) alike (issue 33, the distributional probes): now the row is named."""
    from dvmap_hf.evaluation.loglik import LoglikScorer

    def broken(self, pairs):
        return [[logprob] * len(options) for _, options in pairs]

    argv = ["eval", "--model", str(tiny_model), "--dataset", str(built[0]), "--scoring", "loglik", "--limit", "4"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LoglikScorer, "batch_logprobs", broken)
        assert main([*argv, "--bootstrap", "0", "--out", str(tmp_path / "r")]) == 2
    assert "the model's option log-probabilities are" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
