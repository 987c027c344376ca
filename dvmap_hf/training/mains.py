"""The two training runs, in labelled stages: GRPO with DVMap's rewards (paper Sec. 4.2) and the SFT cold
start. `grpo_trainer` / `sft_trainer` build a TRL trainer from parsed arguments, `train_and_publish` runs
it to the end (train, save, model card, push); `grpo_main` / `sft_main` do both, as `accelerate launch -m
dvmap_hf.training.grpo|sft`, `dvmap train` and `dvmap quickstart` run them."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from transformers import Trainer
from trl import GRPOConfig, GRPOTrainer, ModelConfig, SFTConfig, SFTTrainer, get_peft_config

from ..io import follow_umask
from .arguments import DVMapScriptArguments, recipe_path
from .card import RunInfo, final_metrics, model_card
from .checks import (
    check_gpu_extras,
    check_inputs,
    check_previous_run,
    check_steps,
    check_world_size,
    resume_checkpoint,
)
from .data import load_training_data, to_prompt_completion
from .rewards import get_reward_funcs

logger = logging.getLogger("dvmap.training")


class ModelCardMixin:
    """A model card that says what DVMap needs: base, data, recipe, reward, final metrics."""

    run_info: RunInfo | None = None

    def create_model_card(self, model_name=None, dataset_name=None, tags=None):
        if self.is_world_process_zero() and self.run_info is not None:
            card = model_card(self.run_info, final_metrics(self.state.log_history))
            card.save(Path(self.args.output_dir, "README.md"))


class DVMapGRPOTrainer(ModelCardMixin, GRPOTrainer):
    pass


class DVMapSFTTrainer(ModelCardMixin, SFTTrainer):
    token_metrics = True

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """TRL's loss with its entropy and token-accuracy metrics, or (`token_metrics: false`) the model's own
        causal-LM loss from the logits of the completion positions alone: on a CPU, projecting every prompt
        position onto the vocabulary to mask it away costs most of a small model's step."""
        if self.token_metrics:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        if return_outputs:  # evaluation asking for the logits: the model's full outputs
            return Trainer.compute_loss(self, model, inputs, return_outputs, num_items_in_batch)
        # what `Trainer.compute_loss` does with the count: a sum over the accumulated batch's tokens, times
        # the processes that average it (DDP averages gradients), or a plain mean
        items = num_items_in_batch if self.model_accepts_loss_kwargs else None
        loss = completion_loss(model, inputs, items)
        if self.args.average_tokens_across_devices and items is not None:
            loss = loss * (
                self.accelerator.num_processes // self.get_tp_size() if self.args.n_gpu <= 1 else self.args.n_gpu
            )
        return loss


def completion_loss(model, inputs: dict, num_items_in_batch=None):
    """transformers' causal-LM loss (labels shifted left, -100 ignored), with logits computed only where the
    next token is a label (`logits_to_keep` as a boolean mask): summed over `num_items_in_batch` tokens when
    given, else averaged."""
    import torch.nn.functional as F

    targets = inputs.get("shift_labels")
    if targets is None:
        targets = F.pad(inputs["labels"][:, 1:], (0, 1), value=-100)
    scored = targets != -100
    features = {key: value for key, value in inputs.items() if key not in ("labels", "shift_labels")}
    logits = model(**features, use_cache=False, logits_to_keep=scored).logits
    if logits.shape != (int(scored.sum()), logits.shape[-1]):
        raise ValueError(
            f"token_metrics false: the model returned logits of shape {tuple(logits.shape)} for a boolean "
            "logits_to_keep mask (expected one row per label token); set token_metrics: true for this model"
        )
    loss = F.cross_entropy(logits.float(), targets[scored], reduction="mean" if num_items_in_batch is None else "sum")
    return loss if num_items_in_batch is None else loss / num_items_in_batch


def _prepare(script_args: DVMapScriptArguments, training_args, model_args: ModelConfig, use_vllm: bool) -> None:
    """Stages shared by both runs: logging, inputs, GPU-only pieces, model init kwargs."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=training_args.get_process_log_level()
    )
    check_world_size(training_args)
    check_steps(training_args.max_steps, training_args.num_train_epochs)
    check_previous_run(training_args.output_dir, training_args.resume_from_checkpoint, script_args.replace_output_dir)
    check_inputs(script_args.dataset_name, model_args.model_name_or_path)
    check_gpu_extras(use_vllm, model_args.attn_implementation)
    training_args.model_init_kwargs = {
        "revision": model_args.model_revision,
        "trust_remote_code": training_args.trust_remote_code,
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
        **(training_args.model_init_kwargs or {}),
    }


def _run_info(script_args, model_args, argv, rewards=(), weights=None, method="GRPO") -> RunInfo:
    return RunInfo(
        base_model=model_args.model_name_or_path,
        dataset=script_args.dataset_name,
        config=script_args.dataset_config,
        recipe=recipe_path(argv or sys.argv),
        rewards=list(rewards),
        weights=weights,
        method=method,
    )


def grpo_trainer(
    script_args: DVMapScriptArguments, training_args: GRPOConfig, model_args: ModelConfig, argv=None
) -> DVMapGRPOTrainer:
    """A GRPO trainer with DVMap's rewards, ready to train."""
    # 1. logging, GPU-only pieces, model init
    _prepare(script_args, training_args, model_args, training_args.use_vllm)
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
    # 3. the trainer
    trainer = DVMapGRPOTrainer(
        model=model_args.model_name_or_path,
        reward_funcs=rewards,
        args=training_args,
        train_dataset=train,
        eval_dataset=evaluation,
        peft_config=get_peft_config(model_args),
    )
    trainer.run_info = _run_info(script_args, model_args, argv, script_args.reward_funcs, training_args.reward_weights)
    return trainer


def sft_trainer(
    script_args: DVMapScriptArguments, training_args: SFTConfig, model_args: ModelConfig, argv=None
) -> DVMapSFTTrainer:
    """The cold start: SFT on the gold option in the answer format the prompt asks for."""
    _prepare(script_args, training_args, model_args, use_vllm=False)
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
    )
    if len(trainer.train_dataset) == 0:
        raise SystemExit(
            f"max_length {training_args.max_length}: no training example is left (every one is longer or fully "
            "masked); raise max_length"
        )
    trainer.token_metrics = script_args.token_metrics
    trainer.run_info = _run_info(script_args, model_args, argv, method="SFT")
    return trainer


def train_and_publish(trainer, message: str):
    """Train (from the checkpoint `resume_from_checkpoint` names, if any), save the model and the state (the
    full-precision log history, `trainer_state.json`), write the model card (main process), push if asked,
    release resources. Returns the trainer."""
    args = trainer.args
    trainer.train(resume_from_checkpoint=resume_checkpoint(args.resume_from_checkpoint, args.output_dir))
    trainer.save_model(args.output_dir)
    trainer.save_state()
    follow_umask(args.output_dir)
    trainer.create_model_card()
    if args.push_to_hub:
        trainer.push_to_hub(commit_message=message)
    trainer.end()
    return trainer


def grpo_main(script_args, training_args, model_args, argv=None) -> DVMapGRPOTrainer:
    return train_and_publish(grpo_trainer(script_args, training_args, model_args, argv), "DVMap GRPO (dvmap-hf)")


def sft_main(script_args, training_args, model_args, argv=None) -> DVMapSFTTrainer:
    trainer = sft_trainer(script_args, training_args, model_args, argv)
    return train_and_publish(trainer, "DVMap SFT cold start (dvmap-hf)")
