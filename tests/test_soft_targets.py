"""Soft-target SFT (`dvmap_hf/training/soft_targets.py`): the loss by hand, its gradient's sign, the option
log-probabilities equal to what `dvmap eval --scoring loglik` scores, and a real training run through TRL."""

from __future__ import annotations

import math

import pytest
import torch
from datasets import load_dataset

from dvmap_hf.errors import DvmapError
from dvmap_hf.evaluation.backends.transformers_backend import TransformersBackend
from dvmap_hf.evaluation.config import InferenceConfig
from dvmap_hf.evaluation.loglik import LoglikScorer
from dvmap_hf.training.arguments import parse_sft
from dvmap_hf.training.sft import sft_main
from dvmap_hf.training.soft_targets import OptionsCollator, distribution_loss, option_logprobs, survey_shares
from tests.support import log_history

INF = float("-inf")
# row 1: q = (0.5, 0.25, 0.25) against P = (0.5, 0.5, 0); row 2 has two options: q = (0.5, 0.5) against (1, 0)
LOGPROBS = [[math.log(0.5), math.log(0.25), math.log(0.25)], [0.0, 0.0, INF]]
TARGETS = [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]]


def test_cross_entropy_by_hand():
    loss = distribution_loss(torch.tensor(LOGPROBS), torch.tensor(TARGETS), "ce")
    row1 = -(0.5 * math.log(0.5) + 0.5 * math.log(0.25))  # 1.0397
    row2 = -math.log(0.5)
    assert loss.item() == pytest.approx((row1 + row2) / 2, abs=1e-6)


def test_ordinal_wasserstein_by_hand():
    """Cumulative q (0.5, 0.75) vs P (0.5, 1.0): 0.25 over K - 1 = 2; row 2: |0.5 - 1| over 1."""
    loss = distribution_loss(torch.tensor(LOGPROBS), torch.tensor(TARGETS), "wd")
    assert loss.item() == pytest.approx((0.125 + 0.5) / 2, abs=1e-6)


@pytest.mark.parametrize("loss", ["ce", "wd"])
def test_the_gradient_raises_the_option_the_model_under_predicts(loss):
    """Option 2 has q 0.25 < P 0.5, option 3 q 0.25 > P 0: a descent step raises the first and lowers the
    second (for ce the gradient is exactly (q - P) / rows)."""
    logprobs = torch.tensor(LOGPROBS, requires_grad=True)
    distribution_loss(logprobs, torch.tensor(TARGETS), loss).backward()
    grad = logprobs.grad[0]
    assert grad[1] < 0 < grad[2]
    if loss == "ce":
        assert grad.tolist() == pytest.approx([0.0, -0.125, 0.125], abs=1e-6)
    assert logprobs.grad[1, 2] == 0  # a padded option gets none


def test_an_unknown_loss_and_counts_that_are_no_distribution_are_refused():
    with pytest.raises(ValueError, match="distribution_loss must be one of"):
        distribution_loss(torch.tensor(LOGPROBS), torch.tensor(TARGETS), "kl")
    for counts in ([0, 0], [], [3, -1]):
        with pytest.raises(ValueError, match="not a distribution"):
            survey_shares(counts)


def test_option_logprobs_are_what_loglik_eval_scores(built_distribution, tiny_model):
    """The soft-target loss trains the numbers `dvmap eval --scoring loglik` reports: same encoding, same
    summed log-probabilities (to float32 rounding), from one padded batch of rows with 2-5 options."""
    backend = TransformersBackend.from_pretrained(str(tiny_model), InferenceConfig())
    scorer = LoglikScorer(backend)
    rows = load_dataset(str(built_distribution), "corpus")["train"].select(range(6)).to_list()
    batch = OptionsCollator(backend.tokenizer)(rows)
    with torch.no_grad():
        ours = option_logprobs(backend.model, batch)
    for r, row in enumerate(rows):
        expected = scorer.logprobs(*scorer.pairs(row))
        assert ours[r, : len(expected)].tolist() == pytest.approx(expected, abs=1e-3)
        assert torch.isinf(ours[r, len(expected) :]).all()
        assert batch["targets"][r, : len(expected)].tolist() == pytest.approx(survey_shares(row["answer_counts"]))


SOFT = ["--config", "tiny-cpu-sft", "--sft_target", "distribution", "--max_train_samples", "256"]


def _held_loss(model_folder, rows) -> float:
    """The cross-entropy to the survey on fixed rows: what the training should lower."""
    backend = TransformersBackend.from_pretrained(str(model_folder), InferenceConfig())
    batch = OptionsCollator(backend.tokenizer)(rows)
    with torch.no_grad():
        return distribution_loss(option_logprobs(backend.model, batch), batch["targets"]).item()


def test_soft_target_sft_trains_toward_the_distributions(distribution_workdir, tiny_model, monkeypatch):
    """A real TRL run of 8 steps: the cross-entropy to the survey on the first 64 training rows falls, and the
    model card names the method (a logged step loss moves with its batch's own entropy, so it is not the test)."""
    monkeypatch.chdir(distribution_workdir)
    out = distribution_workdir / "runs/soft"
    args = parse_sft(
        [*SOFT, "--max_steps", "8", "--per_device_train_batch_size", "16", "--learning_rate", "5e-3"]
        + ["--logging_steps", "4", "--save_strategy", "no", "--output_dir", str(out)]
    )
    sft_main(*args, argv=["sft.py"])
    rows = load_dataset(str(distribution_workdir / "dvmap"), "corpus")["train"].select(range(64)).to_list()
    assert _held_loss(out, rows) < _held_loss(tiny_model, rows) - 0.1
    assert len([entry for entry in log_history(out) if "loss" in entry]) == 2
    assert "soft-target SFT (ce)" in (out / "README.md").read_text()


def test_soft_targets_on_a_build_without_counts_names_the_build_it_needs(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    args = parse_sft([*SOFT, "--max_steps", "1", "--output_dir", str(workdir / "runs/soft-no-counts")])
    with pytest.raises(SystemExit, match="consensus distribution"):
        sft_main(*args, argv=["sft.py"])


def test_recipe_values_outside_the_choices_are_refused():
    """One line naming the key and its choices (a DvmapError, what the CLI prints)."""
    with pytest.raises(DvmapError, match="sft_target must be one of"):
        parse_sft(["--config", "tiny-cpu-sft", "--sft_target", "soft"])
    with pytest.raises(DvmapError, match="distribution_loss must be one of"):
        parse_sft(["--config", "tiny-cpu-sft", "--distribution_loss", "kl"])
