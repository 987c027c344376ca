"""Soft-target SFT: train the model's option distribution toward the survey's (SubPOP's loss, Suh et al. 2025).

Per row, the model's distribution over its options is q = softmax over each option's summed log-probability
as the answer (`<answer>{option}</answer>` after the prompt, encoded exactly as `dvmap eval --scoring loglik`
scores it), and the target is P = answer_counts / support from a `--consensus distribution` build. The loss is
the cross-entropy -sum_k P_k log q_k (forward KL(P || q) plus P's entropy, which has no gradient) or, with
`distribution_loss: wd`, the ordinal Wasserstein distance sum_k |Q_k - F_k| / (K - 1) between the cumulative
distributions. A row is one packed sequence (its prompt once, its options after it, each seeing the prompt and
itself); only the positions that predict an answer token are projected onto the vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

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
    """Rows -> one packed sequence a row: its prompt once, then every option's tokens, each option seeing the
    prompt and itself only (`allowed`, a rows x L x L attention pattern; positions restart after the prompt
    for every option), as `dvmap eval --scoring loglik` packs them. `pairs` lists (row, position, token, option)
    for every answer token: the position whose logits predict it. With the option grid (`targets`, the survey
    shares) that is all the loss needs: a step costs about one sequence a row, not one per option."""

    def __init__(self, tokenizer, max_length: int | None = None):
        self.tokenizer, self.max_length = tokenizer, max_length

    def __call__(self, rows: list[dict]) -> dict:
        widest = max(len(row["options"]) for row in rows)
        targets = torch.zeros(len(rows), widest)
        packed = []
        for r, row in enumerate(rows):
            targets[r, : len(row["options"])] = torch.tensor(survey_shares(row["answer_counts"]))
            rendered, delimiter = render(self.tokenizer, row["prompt"])
            packed.append(self._pack(r, *encode_options(self.tokenizer, rendered, delimiter, row["options"])))
        longest = max(len(tokens) for tokens, *_ in packed)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        input_ids = torch.full((len(rows), longest), pad)
        position_ids = torch.zeros((len(rows), longest), dtype=torch.long)
        allowed = torch.eye(longest, dtype=torch.bool).repeat(len(rows), 1, 1)  # padding sees itself alone
        pairs = []
        for r, (tokens, positions, blocks, row_pairs) in enumerate(packed):
            n = len(tokens)
            input_ids[r, :n], position_ids[r, :n] = torch.tensor(tokens), torch.tensor(positions)
            block = torch.tensor(blocks)
            same = (block[None, :] == -1) | (block[None, :] == block[:, None])
            allowed[r, :n, :n] = same & torch.ones(n, n, dtype=torch.bool).tril()
            pairs += row_pairs
        return {
            "input_ids": input_ids,
            "position_ids": position_ids,
            "allowed": allowed,
            "pairs": torch.tensor(pairs, dtype=torch.long),
            "targets": targets,
        }

    def _pack(self, r: int, context: list[int], continuations: list[list[int]]):
        """A row's tokens, positions, blocks (-1 the prompt, k option k) and answer-token pairs."""
        tokens, positions, blocks, pairs = list(context), list(range(len(context))), [-1] * len(context), []
        for k, continuation in enumerate(continuations):
            self._check_length(len(context) + len(continuation))
            for j, token in enumerate(continuation):
                pairs.append((r, len(context) - 1 if j == 0 else len(tokens) - 1, token, k))
                tokens.append(token)
                positions.append(len(context) + j)
                blocks.append(k)
        return tokens, positions, blocks, pairs

    def _check_length(self, tokens: int) -> None:
        if self.max_length is not None and tokens > self.max_length:
            raise ValueError(
                f"a prompt and its option take {tokens} tokens, more than max_length {self.max_length}; raise "
                "max_length (an option cut short would score another answer)"
            )


def option_logprobs(model, batch: dict) -> torch.Tensor:
    """rows x K summed log-probabilities of each option's tokens (-inf where a row has fewer options), from one
    forward pass over the packed rows, logits made only at the positions that predict an answer token."""
    rows, length = batch["input_ids"].shape
    pairs = batch["pairs"]
    keep = torch.zeros(rows, length, dtype=torch.bool, device=pairs.device)
    keep[pairs[:, 0], pairs[:, 1]] = True
    dtype = next(model.parameters()).dtype
    mask = torch.zeros(batch["allowed"].shape, dtype=dtype, device=pairs.device)
    mask = mask.masked_fill(~batch["allowed"], torch.finfo(dtype).min)[:, None]
    logits = model(
        input_ids=batch["input_ids"],
        attention_mask=mask,
        position_ids=batch["position_ids"],
        use_cache=False,
        logits_to_keep=keep,
    ).logits
    if logits.shape[0] != int(keep.sum()):
        raise ValueError(
            f"the model returned logits of shape {tuple(logits.shape)} for a boolean logits_to_keep mask (expected "
            "one row per answer-predicting position); soft-target SFT needs a model that honours it"
        )
    at = keep.flatten().cumsum(0) - 1  # a kept position's row among the logits
    logprobs = logits.float().log_softmax(-1)[at[pairs[:, 0] * length + pairs[:, 1]], pairs[:, 2]]
    widest = batch["targets"].shape[1]
    sums = torch.zeros(rows * widest, dtype=logprobs.dtype, device=logprobs.device)
    sums = sums.index_add(0, pairs[:, 0] * widest + pairs[:, 3], logprobs).view(rows, widest)
    present = torch.zeros(rows * widest, dtype=torch.bool, device=pairs.device)
    present[pairs[:, 0] * widest + pairs[:, 3]] = True
    return sums.masked_fill(~present.view(rows, widest), float("-inf"))
