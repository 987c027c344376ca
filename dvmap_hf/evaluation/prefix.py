"""Shared prompt prefixes: the prompt text rows have in common is read by the model once.

Every prompt of a profile opens with the same system message and persona (460 profiles x ~15.6 questions in
the released test split, kept in profile order), so most of a batch's prompt tokens are ones the batch, or the
batch before it, has already read. `PrefixTree` packs a batch's prompts into one sequence, their common text
once, with an attention mask that keeps the branches apart; `PrefixCache` keeps the keys and values of the
last prompt read, so that the next batch (usually the same profile's next questions) starts where it ended.
The log-likelihood scorer and generation both read their prompts through them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def common_prefix(sequences: Sequence[Sequence[int]]) -> int:
    """Length of the longest prefix every sequence starts with."""
    first, length = sequences[0], 0
    while length < len(first) and all(len(s) > length and s[length] == first[length] for s in sequences):
        length += 1
    return length


class PrefixTree:
    """Token sequences (`contexts`) as one packed sequence: their compressed prefix tree in depth-first order,
    each node once, after a `cached` prefix whose keys and values exist already (the nodes on its path are
    not written again). Each context's `continuations` (all their tokens but the last) hang from it as
    branches of the same tree, so the options of a row share `<answer>` as the rows share their prompt.

    `tokens`, `positions` (each branch counts from 0) and `node_of` are the new sequence; `kv[n]` the positions
    of node n's tokens among the keys (the cached prefix first, then the new sequence); `predictors[r][j]` the
    sequence positions whose logits predict continuation j of context r (the context's last token first)."""

    def __init__(
        self,
        contexts: list[list[int]],
        continuations: list[list[list[int]]] | None = None,
        cached: Sequence[int] = (),
    ):
        self.contexts, self.past = contexts, len(cached)
        self.tokens: list[int] = []
        self.positions: list[int] = []
        self.node_of: list[int] = []
        self.parents: list[int] = []
        self.kv: list[range] = []
        self.sees: list[int] = []  # how many cached positions a node's tokens attend to
        continuations = continuations or [[] for _ in contexts]
        options = [(r, context + ids[:-1]) for r, context in enumerate(contexts) for ids in continuations[r]]
        sequences = [*contexts, *(sequence for _, sequence in options), list(cached)]
        self.ends = [0] * (len(sequences) - 1)
        self._branch(sequences, list(range(len(sequences))), 0, -1)
        self.predictors: list[list[list[int]]] = [[] for _ in contexts]
        for k, (r, _) in enumerate(options):  # from the context's last token (new: it reads `own` >= 1)
            at = self.chain(len(contexts) + k)[len(contexts[r]) - 1 :]
            self.predictors[r].append([position - self.past for position in at])

    def _node(self, tokens: list[int], start: int, parent: int, cached: bool) -> int:
        node = len(self.parents)
        self.parents.append(parent)
        if cached:
            self.kv.append(range(start, start + len(tokens)))
            self.sees.append(start + len(tokens))  # what its descendants may see of the cached prefix
            return node
        first = self.past + len(self.tokens)
        self.kv.append(range(first, first + len(tokens)))
        self.sees.append(self.sees[parent] if parent >= 0 else 0)
        self.tokens += tokens
        self.positions += range(start, start + len(tokens))
        self.node_of += [node] * len(tokens)
        return node

    def _branch(self, sequences: list[list[int]], rows: list[int], start: int, parent: int) -> None:
        """A node for what `rows` share beyond `start`, then one branch per next token. The last sequence is
        the cached prefix: the nodes it passes through are cached."""
        cached = len(sequences) - 1
        depth = start + common_prefix([sequences[r][start:] for r in rows])
        node = self._node(sequences[rows[0]][start:depth], start, parent, cached=cached in rows)
        branches: dict[int, list[int]] = {}
        for r in rows:
            if len(sequences[r]) > depth:
                branches.setdefault(sequences[r][depth], []).append(r)
            elif r != cached:
                self.ends[r] = node
        for branch in branches.values():
            self._branch(sequences, branch, depth, node)

    def chain(self, r: int) -> list[int]:
        """Positions among the keys of context r's tokens, in order."""
        nodes, node = [], self.ends[r]
        while node >= 0:
            nodes.append(node)
            node = self.parents[node]
        return [at for node in reversed(nodes) for at in self.kv[node]]

    def allowed(self) -> np.ndarray:
        """[new, cached + new] bool: a new token attends to the cached prefix as far as its branch follows it,
        and to a new token when that token's node is its own or an ancestor and not after it (nodes come after
        their ancestors, so within a branch this is causal order)."""
        nodes = len(self.parents)
        ancestor = np.eye(nodes, dtype=bool)
        for node in range(nodes):  # parents come first: their rows are complete
            if self.parents[node] >= 0:
                ancestor[node] |= ancestor[self.parents[node]]
        of = np.asarray(self.node_of, dtype=np.int64)
        past = np.arange(self.past)[None, :] < np.asarray(self.sees)[of][:, None]
        return np.concatenate([past, ancestor[of][:, of] & np.tri(len(of), dtype=bool)], axis=1)


class PrefixCache:
    """A model's keys and values for the last prompt it read, kept for the next batch, whose rows (the same
    profile's next questions) mostly start with the same text. It is valid for the weights it was made with:
    a model changed in place (a training step) drops it. Only for models whose every layer keeps a full
    dynamic cache and whose attention takes a 4D mask (sdpa, eager); for any other, nothing is carried."""

    def __init__(self, model):
        import torch
        from transformers import DynamicCache, DynamicLayer

        self.model, self.torch, self.DynamicCache = model, torch, DynamicCache
        layers = DynamicCache(config=model.config).layers
        attention = model.config._attn_implementation
        self.carries = attention in ("sdpa", "eager") and all(type(layer) is DynamicLayer for layer in layers)
        self.tokens: list[int] = []
        self.layers: list[tuple] = []
        self.weights = None

    def _version(self) -> int:
        """A counter every in-place change of the first parameter moves (an optimizer step does)."""
        return next(self.model.parameters())._version

    def reusable(self, contexts: list[list[int]], own: int) -> int:
        """How much of the carried prefix a batch may take: every context keeps `own` tokens that it reads."""
        if not self.carries or self.weights != self._version():
            return 0
        usable = len(self.tokens)
        for context in contexts:
            if common_prefix([self.tokens, context]) > len(context) - own:
                usable = min(usable, len(context) - own)
        return max(usable, 0)

    def plan(self, contexts: list[list[int]], continuations=None, own: int = 1) -> PrefixTree:
        """The batch's tree after what it may reuse of the carried prefix (each context reads `own` tokens)."""
        return PrefixTree(contexts, continuations, self.tokens[: self.reusable(contexts, own)])

    def read(self, tree: PrefixTree, keep: list[int] | None = None):
        """The tree's new tokens through the model: (logits at the sequence positions `keep`, or None; the keys
        and values of every position, or None when nothing is carried); its last context is carried."""
        torch = self.torch
        past = [(k[:, :, : tree.past], v[:, :, : tree.past]) for k, v in self.layers] if tree.past else None
        logits, layers = None, past
        if tree.tokens:
            dtype, device = self.model.dtype, self.model.device
            allowed = torch.from_numpy(tree.allowed())
            mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
            with torch.no_grad():
                output = self.model(
                    input_ids=torch.tensor([tree.tokens], device=device),
                    attention_mask=mask[None, None].to(device),
                    position_ids=torch.tensor([tree.positions], device=device),
                    cache=self.DynamicCache(ddp_cache_data=past) if past else None,
                    use_cache=self.carries,
                    logits_to_keep=torch.tensor(keep or [len(tree.tokens) - 1], device=device),
                )
            logits = output.logits[0]
            layers = [(layer.keys, layer.values) for layer in output.cache.layers] if self.carries else None
        if layers:
            last = len(tree.contexts) - 1
            self._carry(tree.contexts[last], layers, tree.chain(last))
        return logits, layers

    def _carry(self, tokens: list[int], layers: list[tuple], positions: list[int]) -> None:
        index = self.torch.tensor(positions, device=layers[0][0].device)
        self.tokens = list(tokens)
        self.layers = [(k[:, :, index], v[:, :, index]) for k, v in layers]
        self.weights = self._version()
