"""Log-likelihood scoring: how probable a model finds each option written as the answer the prompt asks for.

For each row, the continuation `<answer>{option}</answer>` is scored after the prompt (the chat template's
assistant turn, or for a model without one the messages' plain concatenation followed by a newline); the
prediction is the most probable option, and every option's probability (softmax over the options'
summed log-probabilities) is kept. The prompt's forward pass is shared: a batch's rows and all their
options are packed into one sequence, their prompts as a prefix tree, whose attention mask keeps the
branches apart; rows of one profile (which the dataset keeps together) compute their common prompt text
once, and a row's options share its whole prompt.

Pairs are encoded as lm-evaluation-harness encodes them (trailing spaces of the context move to the
continuation; the continuation's tokens are those of context + continuation after the context's), so
`dvmap eval --scoring loglik --no-chat-template` and the harness's `dvmap_*_mc` tasks give the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data.prompts import PLAIN_DELIMITER, answer_text, plain_prompt
from .backends import common_prefix


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


class PrefixTree:
    """A batch of (context, continuations) pairs as one sequence: the contexts' compressed prefix tree in
    depth-first order, then each continuation's tokens but its last as a leaf of its context's node.

    `tokens` and `positions` (each branch counts from 0) are the sequence; `node_of` the tree node of each
    token; `predictors[r][j]` the sequence positions whose logits predict continuation j of row r, token by
    token (the context's last token predicts the first)."""

    def __init__(self, pairs: list[tuple[list[int], list[list[int]]]]):
        self.tokens: list[int] = []
        self.positions: list[int] = []
        self.node_of: list[int] = []
        self.last_of: list[int] = []  # each node's last token's position
        self.parents: list[int] = []
        ends = [0] * len(pairs)
        contexts = [context for context, _ in pairs]
        self._branch(contexts, list(range(len(pairs))), 0, -1, ends)
        self.predictors = []
        for (context, options), end in zip(pairs, ends, strict=True):
            last = self.last_of[end]  # the context's last token
            row = []
            for ids in options:
                first = len(self.tokens)
                self._node(ids[:-1], len(context), end)
                row.append([last, *range(first, first + len(ids) - 1)])
            self.predictors.append(row)

    def _node(self, tokens: list[int], start: int, parent: int) -> int:
        node = len(self.parents)
        self.parents.append(parent)
        self.tokens += tokens
        self.positions += range(start, start + len(tokens))
        self.node_of += [node] * len(tokens)
        self.last_of.append(len(self.tokens) - 1)
        return node

    def _branch(self, contexts: list[list[int]], rows: list[int], start: int, parent: int, ends: list[int]) -> None:
        """A node for what `rows` share beyond `start`, then one branch per next token."""
        depth = start + common_prefix([contexts[r][start:] for r in rows])
        node = self._node(contexts[rows[0]][start:depth], start, parent)
        branches: dict[int, list[int]] = {}
        for r in rows:
            if len(contexts[r]) == depth:
                ends[r] = node
            else:
                branches.setdefault(contexts[r][depth], []).append(r)
        for branch in branches.values():
            self._branch(contexts, branch, depth, node, ends)

    def allowed(self) -> np.ndarray:
        """[L, L] bool: token q may attend to token k when k's node is q's or one of its ancestors, and k is
        not after q (nodes come after their ancestors, so within a branch this is causal order)."""
        nodes = len(self.parents)
        ancestor = np.eye(nodes, dtype=bool)
        for node in range(nodes):  # parents come first: their rows are complete
            if self.parents[node] >= 0:
                ancestor[node] |= ancestor[self.parents[node]]
        of = np.asarray(self.node_of)
        return ancestor[of][:, of] & np.tri(len(of), dtype=bool)


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
        """Summed log-probability of each row's continuations after its context, in one forward pass over
        one packed sequence (`PrefixTree`): the rows' contexts as a prefix tree, so that the prompt text
        rows share (the system message, the profile) is computed once, and each option's tokens (but its
        last) hung from its row's context. A 4D attention mask lets every token see its own branch only,
        positions follow each branch, and only the logits that score a token are made."""
        torch = self.torch
        tree = PrefixTree(pairs)
        dtype, device = self.model.dtype, self.model.device
        allowed = torch.from_numpy(tree.allowed())
        mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
        keep = sorted({at for row in tree.predictors for option in row for at in option})
        where = {at: k for k, at in enumerate(keep)}
        with torch.no_grad():
            logits = self.model(
                input_ids=torch.tensor([tree.tokens], device=device),
                attention_mask=mask[None, None].to(device),
                position_ids=torch.tensor([tree.positions], device=device),
                logits_to_keep=torch.tensor(keep, device=device),
            ).logits[0]
        logprobs = logits.float().log_softmax(-1)
        return [
            [
                sum(float(logprobs[where[at], token]) for at, token in zip(at_list, ids, strict=True))
                for at_list, ids in zip(row_predictors, options, strict=True)
            ]
            for row_predictors, (_, options) in zip(tree.predictors, pairs, strict=True)
        ]

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
