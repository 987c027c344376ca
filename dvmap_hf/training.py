"""GRPO and SFT training for DVMap on TRL: what `training/grpo.py`, `training/sft.py` and `dvmap quickstart`
run. Script arguments, data, GPU-extra checks, resume, the model card, and the two `main`s in labelled
stages. Needs the `train` extra (TRL, transformers, accelerate, peft)."""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

from transformers import TrainerCallback
from trl import (
    GRPOConfig,
    GRPOTrainer,
    ModelConfig,
    ScriptArguments,
    SFTConfig,
    SFTTrainer,
    TrlParser,
    get_peft_config,
)

from .codebook import ATTRIBUTE_NAMES
from .prompts import target_completion
from .rewards import REWARD_FUNCS, get_reward_funcs, unknown_rewards

logger = logging.getLogger("dvmap.training")

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
        metadata={"help": f"Reward functions, by name ({', '.join(REWARD_FUNCS)}) or dotted import path."},
    )
    likert_alpha: float = field(default=1.0, metadata={"help": "alpha of likert_reward (the soft-reward ablation)."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Use the first N training rows only."})
    shuffle_seed: int | None = field(default=None, metadata={"help": "Shuffle the training rows with this seed."})

    def __post_init__(self):
        unknown = unknown_rewards(self.reward_funcs)
        if unknown:
            raise ValueError(
                f"reward_funcs: unknown {unknown}; expected names from {sorted(REWARD_FUNCS)} or dotted import paths"
            )
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


class ModelCardMixin:
    """A model card that says what DVMap needs: base, data, recipe, reward, final metrics."""

    dvmap_info: dict = {}

    def create_model_card(self, model_name=None, dataset_name=None, tags=None):
        if self.is_world_process_zero():
            text = model_card(metrics=final_metrics(self.state.log_history), **self.dvmap_info)
            Path(self.args.output_dir, "README.md").write_text(text)


class DVMapGRPOTrainer(ModelCardMixin, GRPOTrainer):
    pass


class DVMapSFTTrainer(ModelCardMixin, SFTTrainer):
    pass


class HeldOutAccuracy(TrainerCallback):
    """Greedy accuracy on a fixed held-out sample every `every` steps (and at the last), appended to the
    trainer's log history as `heldout_accuracy`: the learning curve people expect to see. The same
    generation and parser as `dvmap eval`."""

    def __init__(self, rows: list[dict], every: int, max_new_tokens: int = 12):
        self.rows, self.every, self.max_new_tokens = rows, max(1, every), max_new_tokens

    def measure(self, model, tokenizer) -> float:
        """Greedy accuracy on the rows; the random streams are restored after, so that watching a run does
        not change it (generation reseeds torch per batch)."""
        import torch

        from .eval_config import GenerationConfig
        from .parsing import parse_answer
        from .predictors import TransformersBackend

        side = tokenizer.padding_side
        backend = TransformersBackend.from_loaded(
            model, tokenizer, GenerationConfig(max_new_tokens=self.max_new_tokens, greedy=True)
        )
        was_training = model.training
        try:
            with torch.random.fork_rng():
                completions = [c for i in range(0, len(self.rows), 32) for c in backend(self.rows[i : i + 32])]
        finally:
            tokenizer.padding_side = side
            model.train(was_training)
        hits = [
            parse_answer(c, r["options"]) == r["answer_index"] for c, r in zip(completions, self.rows, strict=True)
        ]
        return sum(hits) / len(hits)

    def _log(self, state, model, tokenizer) -> None:
        state.log_history.append({"step": state.global_step, "heldout_accuracy": self.measure(model, tokenizer)})

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        self._log(state, model, processing_class)

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if state.global_step % self.every == 0 or state.global_step == state.max_steps:
            self._log(state, model, processing_class)


def to_prompt_completion(row: dict) -> dict:
    """TRL's conversational prompt-completion format for the cold start: the loss is on the answer only,
    written in the format the row's system message asks for."""
    return {"completion": [{"role": "assistant", "content": target_completion(row["prompt"], row["answer"])}]}


def check_inputs(script_args: DVMapScriptArguments, model_args: ModelConfig) -> None:
    """A missing local model or dataset fails at once, naming what makes it, instead of a Hub look-up that
    ends in "check your internet connection" a minute later."""
    from .dataset_folder import hub_offline, looks_like_hub_id, resolve_dataset
    from .errors import DvmapError

    try:
        resolve_dataset(script_args.dataset_name)
    except DvmapError as exc:
        raise SystemExit(f"dataset_name: {exc}") from None
    model = model_args.model_name_or_path
    is_hub_id = looks_like_hub_id(model) and not Path(model).parent.is_dir()
    if not Path(model).is_dir() and (hub_offline() or not is_hub_id):
        hint = (
            f"`dvmap tiny-model --out {model}` makes a tiny one for CPU runs" if "tiny" in model else "check the path"
        )
        raise SystemExit(f"model_name_or_path: {model}: no such model folder ({hint})")


def _prepare(script_args: DVMapScriptArguments, training_args, model_args: ModelConfig, use_vllm: bool) -> str | None:
    """Stages shared by both mains: logging, inputs, GPU-only pieces, model init kwargs; returns the checkpoint."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=training_args.get_process_log_level()
    )
    check_inputs(script_args, model_args)
    check_gpu_extras(use_vllm, model_args.attn_implementation)
    training_args.model_init_kwargs = {
        "revision": model_args.model_revision,
        "trust_remote_code": training_args.trust_remote_code,
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
        **(training_args.model_init_kwargs or {}),
    }
    return resume_checkpoint(training_args.resume_from_checkpoint, training_args.output_dir)


def _train_and_publish(trainer, checkpoint: str | None, training_args, message: str):
    """Train, save, write the model card (main process), push if asked, release resources."""
    trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(training_args.output_dir)
    trainer.create_model_card()
    if training_args.push_to_hub:
        trainer.push_to_hub(commit_message=message)
    trainer.end()
    return trainer


def grpo_main(
    script_args: DVMapScriptArguments,
    training_args: GRPOConfig,
    model_args: ModelConfig,
    argv: list[str] | None = None,
    callbacks: list | None = None,
) -> DVMapGRPOTrainer:
    """GRPO with DVMap's rewards. Returns the trainer."""
    # 1. logging, GPU-only pieces, model init, resume
    checkpoint = _prepare(script_args, training_args, model_args, training_args.use_vllm)
    # 2. data and rewards
    train, evaluation = load_training_data(script_args, with_eval=training_args.eval_strategy != "no")
    rewards = get_reward_funcs(script_args.reward_funcs, script_args.likert_alpha)
    logger.info(
        "GRPO on %s/%s: %d rows, rewards %s",
        script_args.dataset_name,
        script_args.dataset_config,
        len(train),
        script_args.reward_funcs,
    )
    # 3. trainer
    trainer = DVMapGRPOTrainer(
        model=model_args.model_name_or_path,
        reward_funcs=rewards,
        args=training_args,
        train_dataset=train,
        eval_dataset=evaluation,
        peft_config=get_peft_config(model_args),
        callbacks=callbacks,
    )
    trainer.dvmap_info = _card_info(
        script_args, model_args, argv, script_args.reward_funcs, training_args.reward_weights
    )
    # 4. train, save, card, push
    return _train_and_publish(trainer, checkpoint, training_args, "DVMap GRPO (dvmap-hf)")


def sft_main(
    script_args: DVMapScriptArguments,
    training_args: SFTConfig,
    model_args: ModelConfig,
    argv: list[str] | None = None,
    callbacks: list | None = None,
) -> DVMapSFTTrainer:
    """The cold start: SFT on the gold option in the answer format the prompt asks for. Returns the trainer."""
    checkpoint = _prepare(script_args, training_args, model_args, use_vllm=False)
    train, evaluation = load_training_data(script_args, with_eval=training_args.eval_strategy != "no")
    keep = ["prompt", "completion"]
    train = train.map(to_prompt_completion).select_columns(keep)
    evaluation = evaluation.map(to_prompt_completion).select_columns(keep) if evaluation is not None else None
    trainer = DVMapSFTTrainer(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=train,
        eval_dataset=evaluation,
        peft_config=get_peft_config(model_args),
        callbacks=callbacks,
    )
    trainer.dvmap_info = {**_card_info(script_args, model_args, argv, [], []), "method": "SFT"}
    return _train_and_publish(trainer, checkpoint, training_args, "DVMap SFT cold start (dvmap-hf)")


def _card_info(script_args, model_args, argv, rewards, weights) -> dict:
    return {
        "base_model": model_args.model_name_or_path,
        "dataset": script_args.dataset_name,
        "config": script_args.dataset_config,
        "recipe": recipe_path(argv or sys.argv),
        "rewards": rewards,
        "weights": weights,
    }


def parse_grpo(argv: list[str] | None = None):
    """(script args, GRPOConfig, ModelConfig) from `--config recipe.yaml` + flags; unknown keys are errors."""
    return TrlParser((DVMapScriptArguments, GRPOConfig, ModelConfig)).parse_args_and_config(argv)


def parse_sft(argv: list[str] | None = None):
    return TrlParser((DVMapScriptArguments, SFTConfig, ModelConfig)).parse_args_and_config(argv)
