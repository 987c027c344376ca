"""What `training/grpo.py` and `training/sft.py` share: script arguments, data, GPU-extra checks,
resume, and the model card. Needs the `train` extra (TRL, transformers, accelerate, peft)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

from trl import ScriptArguments

from .codebook import ATTRIBUTE_NAMES
from .rewards import REWARD_FUNCS

GPU_EXTRA = "pip install -e '.[gpu]' on a CUDA machine"


@dataclass
class DVMapScriptArguments(ScriptArguments):
    """Dataset and reward settings. A recipe key that matches no field of these, GRPOConfig or
    ModelConfig is an error (TRL's own script lets such typos pass silently)."""

    dataset_name: str | None = field(default="dvmap", metadata={"help": "Dataset folder (`dvmap build`) or Hub id."})
    dataset_config: str | None = field(default="corpus", metadata={"help": "Config of the dataset to train on."})
    dataset_test_split: str = field(default="validation", metadata={"help": "Split used when eval is on."})
    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy_reward", "format_reward"],
        metadata={"help": f"Reward functions, by name: {', '.join(REWARD_FUNCS)}."},
    )
    likert_alpha: float = field(default=1.0, metadata={"help": "alpha of likert_reward (the soft-reward ablation)."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Use the first N training rows only."})
    shuffle_seed: int | None = field(default=None, metadata={"help": "Shuffle the training rows with this seed."})

    def __post_init__(self):
        unknown = [name for name in self.reward_funcs if name not in REWARD_FUNCS]
        if unknown:
            raise ValueError(f"reward_funcs: unknown {unknown}; expected names from {sorted(REWARD_FUNCS)}")
        if self.max_train_samples is not None and self.max_train_samples < 1:
            raise ValueError(f"max_train_samples must be >= 1, got {self.max_train_samples}")


def check_launch_extras() -> None:
    """Before any argument parsing: a DeepSpeed launch needs the `gpu` extra (the clear message, not an
    ImportError from deep inside transformers)."""
    if os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true" and find_spec("deepspeed") is None:
        raise SystemExit(f"this launch config uses DeepSpeed, which is not installed: {GPU_EXTRA}")


def check_gpu_extras(use_vllm: bool, attn_implementation: str | None) -> None:
    """flash-attn and vLLM are imported only when a recipe asks for them; say which extra is missing."""
    if attn_implementation == "flash_attention_2" and find_spec("flash_attn") is None:
        raise SystemExit(
            f"attn_implementation: flash_attention_2 needs flash-attn: {GPU_EXTRA} (or set attn_implementation: sdpa)"
        )
    if use_vllm and find_spec("vllm") is None:
        raise SystemExit(f"use_vllm: true needs vLLM: {GPU_EXTRA} (or set use_vllm: false)")


def load_training_data(script_args: DVMapScriptArguments, with_eval: bool):
    """Train (and eval) splits of a dataset folder or Hub id, in TRL's conversational format."""
    from .dataset_folder import load_split

    train = load_split(script_args.dataset_name, script_args.dataset_config, script_args.dataset_train_split)
    if script_args.shuffle_seed is not None:
        train = train.shuffle(seed=script_args.shuffle_seed)
    if script_args.max_train_samples is not None:
        train = train.select(range(min(script_args.max_train_samples, len(train))))
    evaluation = None
    if with_eval:
        evaluation = load_split(script_args.dataset_name, script_args.dataset_config, script_args.dataset_test_split)
    return train, evaluation


def resume_checkpoint(resume_from_checkpoint: str | None, output_dir: str) -> str | None:
    """`true`/`last` -> the newest checkpoint in output_dir (an error if there is none); a path as is."""
    if resume_from_checkpoint is None or str(resume_from_checkpoint).lower() in ("false", "none", ""):
        return None
    if str(resume_from_checkpoint).lower() in ("true", "last"):
        from transformers.trainer_utils import get_last_checkpoint

        last = get_last_checkpoint(output_dir) if Path(output_dir).is_dir() else None
        if last is None:
            raise SystemExit(f"resume_from_checkpoint: no checkpoint-* folder in {output_dir} to resume from")
        return last
    if not Path(resume_from_checkpoint).is_dir():
        raise SystemExit(f"resume_from_checkpoint: {resume_from_checkpoint} is not a folder")
    return resume_from_checkpoint


def final_metrics(log_history: list[dict]) -> dict:
    """The last logged value of each training metric (loss, each reward, ...)."""
    metrics: dict = {}
    for entry in log_history:
        metrics.update({k: v for k, v in entry.items() if isinstance(v, int | float)})
    return metrics


def model_card(
    base_model: str,
    dataset: str,
    config: str,
    recipe: str | None,
    rewards: list[str],
    weights: list[float] | None,
    metrics: dict,
    method: str = "GRPO",
) -> str:
    """The README.md pushed with the checkpoint: what was trained on what, how, and how it ended."""
    weights = weights or [1.0] * len(rewards)
    reward_text = " + ".join(f"{w:g} * {name}" for name, w in zip(rewards, weights, strict=True)) or "(none: SFT)"
    shown = {k: v for k, v in sorted(metrics.items()) if k.startswith(("train", "loss", "reward", "epoch"))}
    rows = "\n".join(f"| {k} | {v:.6g} |" for k, v in shown.items()) or "| (none logged) | |"
    front = {
        "base_model": base_model if not Path(base_model).exists() else None,
        "library_name": "transformers",
        "tags": ["dvmap", "pluralistic-alignment", "trl", method.lower()],
        "datasets": [dataset] if "/" in dataset and not Path(dataset).exists() else None,
    }
    front_yaml = "\n".join(f"{k}: {json.dumps(v)}" for k, v in front.items() if v is not None)
    return f"""---
{front_yaml}
---

# {Path(base_model).name}-DVMap ({method})

Trained with [dvmap-hf](https://github.com/) to answer World Values Survey questions as demographic
archetypes would (DVMap, ACL 2026).

- Base model: `{base_model}`
- Dataset: `{dataset}`, config `{config}`
- Method: {method} (TRL); recipe: `{recipe or "command line"}`
- Reward: {reward_text}
- Attributes in the prompt: {", ".join(ATTRIBUTE_NAMES)}

## Final training metrics

| metric | value |
|---|---|
{rows}

Evaluate with `dvmap eval --model <this repo> --dataset <dataset> --config cross_demographic`.
"""


def recipe_path(argv: list[str]) -> str | None:
    return argv[argv.index("--config") + 1] if "--config" in argv[:-1] else None
