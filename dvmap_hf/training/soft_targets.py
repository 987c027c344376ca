"""Soft-target SFT: train the model's option distribution toward the survey's (SubPOP's loss, Suh et al. 2025).

Per row, the model's distribution over its options is q = softmax over each option's summed log-probability
as the answer (`<answer>{option}</answer>` after the prompt, encoded exactly as `dvmap eval --scoring loglik`
scores it), and the target is P = answer_counts / support from a `--consensus distribution` build. The loss is
the cross-entropy -sum_k P_k log q_k (forward KL(P || q) plus P's entropy, which has no gradient) or, with
`distribution_loss: wd`, the ordinal Wasserstein distance sum_k |Q_k - F_k| / (K - 1) between the cumulative
distributions. A row's K options are K sequences of one batch; only the positions that predict an answer
token are projected onto the vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..data.prompts import PLAIN_DELIMITER, plain_prompt
from ..evaluation.loglik import encode_options

DISTRIBUTION_LOSSES = ("ce", "wd")
NEEDED_COLUMNS = ("prompt", "options", "answer_counts")


def survey_shares(counts: Sequence[int]) -> list[float]:
    """A row's answer counts as shares, refusing counts that cannot be a distribution."""
    if not counts or any(n < 0 for n in counts) or sum(counts) == 0:
        raise ValueError(f"answer_counts {list(counts)} is not a distribution (non-negative, summing above 0)")
    return [n / sum(counts) for n in counts]


def distribution_loss(option_logprobs: torch.Tensor, targets: torch.Tensor, loss: str = "ce") -> torch.Tensor:
    """Mean over rows of the loss between q = softmax(option_logprobs) and `targets` (rows x K, padded options:
    log-probability -inf and target 0)."""
    log_q = option_logprobs.log_softmax(-1)
    if loss == "ce":
        return -(targets * log_q.masked_fill(targets == 0, 0.0)).sum(-1).mean()
    if loss == "wd":
        k = (option_logprobs > float("-inf")).sum(-1)
        gap = (log_q.exp().cumsum(-1) - targets.cumsum(-1)).abs()[:, :-1].sum(-1)
        return (gap / (k - 1)).mean()
    raise ValueError(f"distribution_loss must be one of {DISTRIBUTION_LOSSES}, got {loss!r}")


def render(tokenizer, messages) -> tuple[str, str]:
    """The prompt as `dvmap eval` renders it by default (chat template, thinking off; plain text without one)."""
    if tokenizer.chat_template:
        text = tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=True, enable_thinking=False
        )
        return text, ""
    return plain_prompt(messages), PLAIN_DELIMITER


class OptionsCollator:
    """Rows -> one batch of every row's option sequences (right-padded, prompt tokens labelled -100), the
    slot of each option in a rows x K grid (`option_slot`, -1 for none) and the survey shares (`targets`)."""

    def __init__(self, tokenizer, max_length: int | None = None):
        self.tokenizer, self.max_length = tokenizer, max_length

    def __call__(self, rows: list[dict]) -> dict:
        sequences, labels, slots = [], [], []
        widest = max(len(row["options"]) for row in rows)
        targets = torch.zeros(len(rows), widest)
        for r, row in enumerate(rows):
            targets[r, : len(row["options"])] = torch.tensor(survey_shares(row["answer_counts"]))
            rendered, delimiter = render(self.tokenizer, row["prompt"])
            context, continuations = encode_options(self.tokenizer, rendered, delimiter, row["options"])
            first, k = len(sequences), len(continuations)
            slots.append(list(range(first, first + k)) + [-1] * (widest - k))
            for continuation in continuations:
                self._check_length(len(context) + len(continuation))
                sequences.append(context + continuation)
                labels.append([-100] * len(context) + continuation)
        longest = max(map(len, sequences))
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        return {
            "input_ids": torch.tensor([s + [pad] * (longest - len(s)) for s in sequences]),
            "attention_mask": torch.tensor([[1] * len(s) + [0] * (longest - len(s)) for s in sequences]),
            "labels": torch.tensor([s + [-100] * (longest - len(s)) for s in labels]),
            "option_slot": torch.tensor(slots),
            "targets": targets,
        }

    def _check_length(self, tokens: int) -> None:
        if self.max_length is not None and tokens > self.max_length:
            raise ValueError(
                f"a prompt and its option take {tokens} tokens, more than max_length {self.max_length}; raise "
                "max_length (an option cut short would score another answer)"
            )


def option_logprobs(model, batch: dict) -> torch.Tensor:
    """rows x K summed log-probabilities of each option's tokens (-inf where a row has fewer options), from
    logits at the answer positions only (a boolean `logits_to_keep`)."""
    targets = F.pad(batch["labels"][:, 1:], (0, 1), value=-100)
    scored = targets != -100
    logits = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False, logits_to_keep=scored
    ).logits
    if logits.shape[0] != int(scored.sum()):
        raise ValueError(
            f"the model returned logits of shape {tuple(logits.shape)} for a boolean logits_to_keep mask (expected "
            "one row per answer token); soft-target SFT needs a model that honours it (transformers' causal LMs)"
        )
    token_logprobs = logits.float().log_softmax(-1).gather(-1, targets[scored].unsqueeze(-1)).squeeze(-1)
    sequence_of_token = scored.nonzero()[:, 0]
    per_sequence = torch.zeros(scored.shape[0], dtype=token_logprobs.dtype, device=token_logprobs.device)
    per_sequence = per_sequence.index_add(0, sequence_of_token, token_logprobs)
    slot = batch["option_slot"]
    grid = per_sequence[slot.clamp(min=0)]
    return grid.masked_fill(slot < 0, float("-inf"))
