"""A tiny random Qwen3 model with a tokenizer trained here, for CPU runs with no network.

The tokenizer is a byte-level BPE learned from the kit's own prompt texts (templates, questions,
options, attribute labels), with a ChatML chat template like Qwen's; the answer and reasoning tags are
single ordinary tokens, so the answer format is easy to learn and survives `skip_special_tokens`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..data.codebook import ATTRIBUTES, COUNTRIES, INCOME_BRACKETS, LIFE_STAGES, NOT_ANSWERED, QUESTIONS
from ..data.prompts import RELEASE_SYSTEM_EVAL, RELEASE_SYSTEM_TRAIN, TEMPLATES, answer_text
from ..io import atomic_dir
from ..options import OptionError, at_least, option

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
MODEL_FOLDER = ("model folder", "config.json")  # what `--force` may replace (`io.check_output_dir`)
FORMAT_TAGS = ["<answer>", "</answer>", "<reasoning>", "</reasoning>"]


def kit_texts() -> Iterator[str]:
    """Every string the kit's prompts and answers are made of."""
    yield from (part for template in TEMPLATES.values() for part in (template.profile, template.rest))
    yield from (RELEASE_SYSTEM_TRAIN, RELEASE_SYSTEM_EVAL)
    for question in QUESTIONS.values():
        yield question.text
        yield from (answer_text(option) for option in question.options)
    for attr in ATTRIBUTES:
        yield from (attr.labels or {}).values()
    yield from (name for _, name in COUNTRIES.values())
    yield from (label for label, _ in LIFE_STAGES + INCOME_BRACKETS)
    yield NOT_ANSWERED


def tiny_tokenizer(vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(list(kit_texts()) * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>", chat_template=CHATML
    )
    tokenizer.add_tokens(FORMAT_TAGS)
    return tokenizer


@dataclass(frozen=True)
class TinyModelConfig:
    hidden_size: int = option(64, "a multiple of 8 (4 heads of an even size)")
    layers: int = option(2, "decoder layers")
    seed: int = option(0, "seed of the random weights")
    vocab_size: int = 1024  # the tokenizer trained here on the kit's prompt texts

    def __post_init__(self) -> None:
        if self.hidden_size < 8 or self.hidden_size % 8:
            raise OptionError("hidden_size", f"must be a positive multiple of 8, not {self.hidden_size}")
        at_least("layers", self.layers)


def build_tiny_model(out: str | Path, spec: TinyModelConfig = TinyModelConfig()) -> Path:
    """Save a randomly initialised 2-layer Qwen3 and its tokenizer to `out` (about 0.2M parameters), all at
    once (`out` is replaced whole, as `dvmap tiny-model --force` asks)."""
    import torch
    from transformers import GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    hidden_size = spec.hidden_size
    tokenizer = tiny_tokenizer(spec.vocab_size)
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=spec.layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=hidden_size // 4,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(spec.seed)
    model = Qwen3ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    with atomic_dir(out, force=True, kind=MODEL_FOLDER) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return Path(out)
