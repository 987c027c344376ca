"""The `transformers` backend: a local or Hub model, batched generation with its chat template, the text
prompts share read once (through `PrefixCache`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ...data.prompts import PLAIN_DELIMITER, plain_prompt
from ...errors import DvmapError
from ..config import InferenceConfig
from ..prefix import PrefixCache


class TransformersBackend:
    """Batched generation with a local or cached model and its chat template; what prompts share is read once."""

    name = "transformers"
    rows_per_call = 0

    def __init__(self, model, tokenizer, generation: InferenceConfig):
        """Around a model already in memory (one being trained, or loaded by `from_pretrained`)."""
        import torch

        self.model, self.tokenizer, self.generation, self.torch = model, tokenizer, generation, torch
        self.model.eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.prefix = PrefixCache(model)  # the last prompt read, for the next batch (generation and loglik)

    @classmethod
    def from_pretrained(cls, model: str, generation: InferenceConfig) -> TransformersBackend:
        """A local folder or Hub id, in `generation.dtype`, on `generation.device`."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        check_model_files(model)
        try:
            tokenizer = AutoTokenizer.from_pretrained(model)
            dtype = generation.dtype if generation.dtype == "auto" else getattr(torch, generation.dtype)
            loaded = AutoModelForCausalLM.from_pretrained(model, dtype=dtype)
        except OSError as exc:
            raise DvmapError(f"cannot load model {model!r}: {exc}".splitlines()[0]) from exc
        return cls(loaded.to(generation.torch_device()), tokenizer, generation)

    @property
    def uses_chat_template(self) -> bool:
        """The tokenizer's chat template, unless there is none (a base model) or `--no-chat-template`."""
        return self.generation.chat_template and bool(self.tokenizer.chat_template)

    @property
    def prompt_format(self) -> str:
        return "chat template" if self.uses_chat_template else "plain concatenation (no chat template)"

    def render(self, prompts: Sequence[list[dict]]) -> list[str]:
        """The model's input text: the chat template with the assistant turn opened, or the messages'
        plain concatenation followed by a newline."""
        if not self.uses_chat_template:
            return [plain_prompt(messages) + PLAIN_DELIMITER for messages in prompts]
        return [
            self.tokenizer.apply_chat_template(
                list(messages),
                tokenize=False,
                add_generation_prompt=True,
                enable_thinking=self.generation.enable_thinking,
            )
            for messages in prompts
        ]

    #: the least prompt tokens per row that sharing must save (below it, a plain left-padded batch is cheaper)
    min_shared_prefix = 32

    def generate(self, prompts: Sequence[list[dict]], batch_seed: int) -> list[str]:
        """Completions of a batch. Its prompts but each one's last token are read through the `PrefixCache`
        (what they share with each other and with the previous batch, once); then every row's keys and values
        are laid side by side, padded in the middle, and generation starts from the last tokens (greedy
        completions equal the left-padded batch's; tested)."""
        gen = self.generation
        ids = [self.tokenizer(text, add_special_tokens=False)["input_ids"] for text in self.render(prompts)]
        inputs = self._shared_inputs(ids) or self._left_padded(ids)
        self.torch.manual_seed(batch_seed)
        with self.torch.no_grad():
            output = self.model.generate(
                **inputs, max_new_tokens=gen.max_new_tokens, pad_token_id=self.tokenizer.pad_token_id, **gen.sampling()
            )
        return self.tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)

    def _left_padded(self, ids: list[list[int]]) -> dict:
        width, pad = max(map(len, ids)), self.tokenizer.pad_token_id
        return self._tensors(
            [[pad] * (width - len(x)) + x for x in ids], [[0] * (width - len(x)) + [1] * len(x) for x in ids]
        )

    def _shared_inputs(self, ids: list[list[int]]) -> dict | None:
        """Generation's inputs with every row's prompt but its last token in its `cache`, or None when
        the model carries no cache or sharing would save too little."""
        if not self.prefix.carries:
            return None
        tree = self.prefix.plan([x[:-1] for x in ids], own=0)
        if sum(map(len, ids)) - len(ids) - len(tree.tokens) < self.min_shared_prefix * len(ids):
            return None
        from transformers import DynamicCache

        _, layers = self.prefix.read(tree)
        chains = [tree.chain(r) for r in range(len(ids))]
        width, pad = max(map(len, chains)), self.tokenizer.pad_token_id
        index = self.torch.tensor([c + [0] * (width - len(c)) for c in chains], device=self.model.device)
        inputs = self._tensors(
            [x[:-1] + [pad] * (width - len(x) + 1) + x[-1:] for x in ids],
            [[1] * (len(x) - 1) + [0] * (width - len(x) + 1) + [1] for x in ids],
        )
        # [1, heads, positions, dim] -> each row's own positions: [rows, heads, width, dim]
        rows = [(k[0][:, index].transpose(0, 1), v[0][:, index].transpose(0, 1)) for k, v in layers]
        inputs["cache"] = DynamicCache(ddp_cache_data=rows)
        return inputs

    def _tensors(self, input_ids: list[list[int]], attention_mask: list[list[int]]) -> dict:
        device = self.model.device
        return {
            "input_ids": self.torch.tensor(input_ids, device=device),
            "attention_mask": self.torch.tensor(attention_mask, device=device),
        }

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        return self.generate([row["prompt"] for row in rows], batch_seed)


TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json", "spiece.model")


def check_model_files(model: str) -> None:
    """A local model folder without tokenizer files loads a 1-token tokenizer without a word from transformers,
    and every completion is then empty; one with a file this user cannot read fails with "No such file":
    refuse both before any work, saying which."""
    folder = Path(model)
    if folder.is_dir() and not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise DvmapError(
            f"{model}: no tokenizer files ({', '.join(TOKENIZER_FILES[:3])} ...); save the tokenizer with the model"
        )
    unreadable = sorted(p.name for p in folder.glob("*") if p.is_file() and not os.access(p, os.R_OK))
    if folder.is_dir() and unreadable:  # safetensors would say "No such file or directory"
        raise DvmapError(f"{model}: cannot read {', '.join(unreadable)} (permission denied; its owner can chmod a+r)")
