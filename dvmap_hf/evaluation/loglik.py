"""Log-likelihood scoring: how probable a model finds each option written as the answer the prompt asks for.

For each row, the continuation `<answer>{option}</answer>` is scored after the prompt (the chat template's
assistant turn, or for a model without one the messages' plain concatenation followed by a newline); the
prediction is the most probable option, and every option's probability (softmax over the options'
summed log-probabilities) is kept. The prompt's forward pass is shared: each row's prompt and all its
options are packed into one sequence whose attention mask keeps the options apart, so a batch of rows
costs one forward pass over its prompts and a few more tokens per option.

Pairs are encoded as lm-evaluation-harness encodes them (trailing spaces of the context move to the
continuation; the continuation's tokens are those of context + continuation after the context's), so
`dvmap eval --scoring loglik --no-chat-template` and the harness's `dvmap_*_mc` tasks give the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data.prompts import PLAIN_DELIMITER, answer_text, plain_prompt


def option_probabilities(logprobs: Sequence[float]) -> list[float]:
    """Softmax over the options' summed log-probabilities: a distribution over the row's options."""
    values = np.asarray(logprobs, dtype=np.float64)
    shares = np.exp(values - values.max())
    return (shares / shares.sum()).tolist()


def scored(options: Sequence[str], logprobs: Sequence[float]) -> dict:
    """A prediction record's fields from the options' log-probabilities (ties: the earlier option)."""
    best = int(np.argmax(logprobs))
    return {
        "completion": answer_text(options[best]),
        "option_logprobs": [float(x) for x in logprobs],
        "option_probs": option_probabilities(logprobs),
    }


class LoglikScorer:
    """Option log-likelihoods with a `TransformersBackend`'s model and tokenizer."""

    name = "transformers-loglik"
    fallbacks = 0

    def __init__(self, backend):
        self.backend, self.torch = backend, backend.torch
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
        # the harness's rule: the context's trailing whitespace belongs to the continuation
        context_ids = self._encode(rendered.rstrip())  # the same context for every option
        wholes = [self._encode(rendered + delimiter + answer_text(option)) for option in row["options"]]
        return context_ids, [whole[len(context_ids) :] for whole in wholes]

    def _encode(self, text: str) -> list[int]:
        bos = self.tokenizer.bos_token
        return self.tokenizer.encode(text, add_special_tokens=not (bos and text.startswith(bos)))

    def logprobs(self, context_ids: list[int], continuations: list[list[int]]) -> list[float]:
        """Summed log-probability of each continuation after one context."""
        return self.batch_logprobs([(context_ids, continuations)])[0]

    def batch_logprobs(self, pairs: list[tuple[list[int], list[list[int]]]]) -> list[list[float]]:
        """Summed log-probability of each row's continuations after its context, in one forward pass.

        Each row is its context followed by all its options' tokens (but each option's last), packed in
        one left-padded sequence; a 4D attention mask lets the context see itself causally and each option
        see the context and its own earlier tokens only, and each option's positions restart where the
        context ends. So the context is computed once for all its options, with no cache to copy, and only
        the packed tail's logits are made (`logits_to_keep`)."""
        torch = self.torch
        sequences, segments, positions = [], [], []
        for context, options in pairs:
            sequences.append(context + [t for ids in options for t in ids[:-1]])
            segments.append([0] * len(context) + [k + 1 for k, ids in enumerate(options) for _ in ids[:-1]])
            positions.append(
                list(range(len(context))) + [len(context) + t for ids in options for t in range(len(ids) - 1)]
            )
        width = max(map(len, sequences))
        pad = self.tokenizer.pad_token_id or 0
        lead = [width - len(sequence) for sequence in sequences]
        segment = torch.tensor([[-1] * n + s for n, s in zip(lead, segments, strict=True)])
        allowed = (segment[:, None, :] == 0) | (segment[:, None, :] == segment[:, :, None])
        allowed &= torch.ones(width, width, dtype=torch.bool).tril() & (segment[:, None, :] >= 0)
        allowed |= torch.eye(width, dtype=torch.bool)  # padding attends to itself: no row without any key
        dtype, device = self.model.dtype, self.model.device
        mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)[:, None]
        tail = max(len(s) - len(c) + 1 for s, (c, _) in zip(sequences, pairs, strict=True))
        with torch.no_grad():
            logits = self.model(
                input_ids=torch.tensor([[pad] * n + s for n, s in zip(lead, sequences, strict=True)], device=device),
                attention_mask=mask.to(device),
                position_ids=torch.tensor([[0] * n + p for n, p in zip(lead, positions, strict=True)], device=device),
                logits_to_keep=tail,
            ).logits
        logprobs = logits.float().log_softmax(-1)  # the last `tail` positions of every row
        scores = []
        for (context, options), sequence in zip(pairs, sequences, strict=True):
            last = tail - (len(sequence) - len(context)) - 1  # the context's last token predicts each first token
            block, row = last + 1, []
            for ids in options:
                total = float(logprobs[len(scores), last, ids[0]])
                total += sum(float(logprobs[len(scores), block + t - 1, ids[t]]) for t in range(1, len(ids)))
                row.append(total)
                block += len(ids) - 1
            scores.append(row)
        return scores

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[dict]:
        scores = self.batch_logprobs([self.pairs(row) for row in rows])
        return [scored(row["options"], logprobs) for row, logprobs in zip(rows, scores, strict=True)]


class VLLMLoglikScorer:
    """Option log-likelihoods from vLLM's prompt log-probabilities (one prompt per option, prefix-cached)."""

    name = "vllm-loglik"
    prompt_format = "chat template (vLLM's tokenizer)"
    fallbacks = 0

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
            records.append(scored(row["options"], totals[at : at + len(row["options"])]))
            at += len(row["options"])
        return records
