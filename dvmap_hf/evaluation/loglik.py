"""Log-likelihood scoring: how probable a model finds each option written as the answer the prompt asks for.

For each row, the continuation `<answer>{option}</answer>` is scored after the prompt (the chat template's
assistant turn, or for a model without one the messages' plain concatenation followed by a newline); the
prediction is the most probable option, and every option's probability (softmax over the options'
summed log-probabilities) is kept. The prompt's forward pass is shared: a batch's rows and all their
options are packed into one sequence, their prompts as a prefix tree, whose attention mask keeps the
branches apart, read after what the previous batch left in the model's cache (`prefix.py`): rows of one
profile (which the dataset keeps together) compute their common prompt text once, across batches too, and a
row's options share its whole prompt.

Pairs are encoded as lm-evaluation-harness encodes them (trailing spaces of the context move to the
continuation; the continuation's tokens are those of context + continuation after the context's), so
`dvmap eval --scoring loglik --no-chat-template` and the harness's `dvmap_*_mc` tasks give the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data.prompts import PLAIN_DELIMITER, answer_text, plain_prompt
from ..errors import DvmapError


def option_probabilities(logprobs: Sequence[float]) -> list[float]:
    """Softmax over the options' summed log-probabilities: a distribution over the row's options."""
    values = np.asarray(logprobs, dtype=np.float64)
    shares = np.exp(values - values.max())
    return (shares / shares.sum()).tolist()


def scored(row: dict, logprobs: Sequence[float]) -> dict:
    """A prediction record's fields from the row's options' log-probabilities (ties: the earlier option). A
    NaN, or no option with a probability above zero, is a model that computes no numbers (float16 overflow is
    the usual cause): refused, naming the row, rather than scored as its first option with NaN probabilities."""
    values = np.asarray(logprobs, dtype=np.float64)
    if np.isnan(values).any() or not np.isfinite(values).any():
        raise DvmapError(
            f"row {row['id']}: the model's option log-probabilities are {[float(x) for x in values]}, not numbers "
            "to score; run the model in float32 or bfloat16 (--dtype), or check its weights"
        )
    options = row["options"]
    best = int(np.argmax(values))
    return {
        "completion": answer_text(options[best]),
        "option_logprobs": [float(x) for x in logprobs],
        "option_probs": option_probabilities(logprobs),
    }


def encode_options(tokenizer, rendered: str, delimiter: str, options) -> tuple[list[int], list[list[int]]]:
    """Token ids of a rendered prompt and of each option's `<answer>{option}</answer>` after it, by the harness's
    rule: the context's trailing whitespace belongs to the continuation, whose tokens are those of context +
    continuation after the context's (shared with soft-target training, so it trains what this scores)."""
    context_ids = _encode(tokenizer, rendered.rstrip())  # the same context for every option
    wholes = [_encode(tokenizer, rendered + delimiter + answer_text(option)) for option in options]
    return context_ids, [whole[len(context_ids) :] for whole in wholes]


def _encode(tokenizer, text: str) -> list[int]:
    bos = tokenizer.bos_token
    return tokenizer.encode(text, add_special_tokens=not (bos and text.startswith(bos)))


class LoglikScorer:
    """Option log-likelihoods with a `TransformersBackend`'s model and tokenizer."""

    name = "transformers-loglik"
    rows_per_call = 0

    def __init__(self, backend):
        self.backend = backend
        self.model, self.tokenizer = backend.model, backend.tokenizer

    @property
    def prompt_format(self) -> str:
        return self.backend.prompt_format

    def pairs(self, row: dict) -> tuple[list[int], list[list[int]]]:
        """Token ids of the row's context and of each option's continuation."""
        if self.backend.uses_chat_template:
            rendered, delimiter = self.backend.render([row["prompt"]])[0], ""
        else:  # what the harness's doc_to_text and target_delimiter give
            rendered, delimiter = plain_prompt(row["prompt"]), PLAIN_DELIMITER
        context_ids, continuations = encode_options(self.tokenizer, rendered, delimiter, row["options"])
        self._check_length(row, len(context_ids) + max(map(len, continuations)))
        return context_ids, continuations

    def _check_length(self, row: dict, tokens: int) -> None:
        """Positions past the model's `max_position_embeddings` score without an error (rotary models) but
        are not the model's: refuse the row rather than report its figures."""
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit and tokens > limit:
            raise DvmapError(
                f"row {row['id']}: its prompt and longest option take {tokens} tokens, more than the model's "
                f"max_position_embeddings {limit}; use a model with a longer context or a shorter prompt "
                "(dvmap build --prompt-style compact)"
            )

    def logprobs(self, context_ids: list[int], continuations: list[list[int]]) -> list[float]:
        """Summed log-probability of each continuation after one context."""
        return self.batch_logprobs([(context_ids, continuations)])[0]

    def batch_logprobs(self, pairs: list[tuple[list[int], list[list[int]]]]) -> list[list[float]]:
        """Summed log-probability of each row's continuations after its context, in one forward pass over
        one packed sequence (`PrefixTree`, read through the backend's `PrefixCache`): the rows' contexts as a
        prefix tree after what the previous batch left in the cache, so that the prompt text rows share (the
        system message, the profile) is computed once, and each option's tokens (but its last) hung from its
        row's context. Only the logits that score a token are made."""
        contexts, continuations = [c for c, _ in pairs], [options for _, options in pairs]
        tree = self.backend.prefix.plan(contexts, continuations, own=1)
        keep = sorted({at for row in tree.predictors for option in row for at in option})
        logits, _ = self.backend.prefix.read(tree, keep)
        where = {at: k for k, at in enumerate(keep)}
        logprobs = logits.float().log_softmax(-1)
        return [
            [
                sum(float(logprobs[where[at], token]) for at, token in zip(at_list, ids, strict=True))
                for at_list, ids in zip(row_predictors, options, strict=True)
            ]
            for row_predictors, options in zip(tree.predictors, continuations, strict=True)
        ]

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[dict]:
        scores = self.batch_logprobs([self.pairs(row) for row in rows])
        return [scored(row, logprobs) for row, logprobs in zip(rows, scores, strict=True)]


class VLLMLoglikScorer:
    """Option log-likelihoods from vLLM's prompt log-probabilities (one prompt per option, prefix-cached)."""

    name = "vllm-loglik"
    prompt_format = "chat template (vLLM's tokenizer)"
    rows_per_call = 1024  # as VLLMBackend

    def __init__(self, backend):
        from vllm import SamplingParams

        self.backend, self.llm = backend, backend.llm
        self.tokenizer = self.llm.get_tokenizer()
        self.params = SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0)

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[dict]:
        from vllm.inputs import TokensPrompt

        prompts, spans = [], []
        for row in rows:
            rendered = self.tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
            context = self.tokenizer.encode(rendered.rstrip(), add_special_tokens=False)  # as LoglikScorer
            for option in row["options"]:
                whole = self.tokenizer.encode(rendered + answer_text(option), add_special_tokens=False)
                prompts.append(TokensPrompt(prompt_token_ids=whole))
                spans.append((len(context), whole))
        outputs = self.llm.generate(prompts, self.params, use_tqdm=False)
        totals = [
            sum(output.prompt_logprobs[i][ids[i]].logprob for i in range(start, len(ids)))
            for output, (start, ids) in zip(outputs, spans, strict=True)
        ]
        records, at = [], 0
        for row in rows:
            records.append(scored(row, totals[at : at + len(row["options"])]))
            at += len(row["options"])
        return records
