"""The stages both training runs share: `prepare` (logging, the checks that fail before any model loads,
model init), `run_info` (what the model card says of the run) and `train_and_publish` (train, save, model
card, push). The runs themselves are `grpo.py` and `sft.py`; their trainers `trainers.py`."""

from __future__ import annotations

import logging
import sys

from trl import ModelConfig

from ..data.schema import attribute_columns
from ..io import follow_umask
from .arguments import DVMapScriptArguments, recipe_path
from .card import RunInfo
from .checks import (
    check_gpu_extras,
    check_inputs,
    check_previous_run,
    check_steps,
    check_world_size,
    resume_checkpoint,
)


def prepare(script_args: DVMapScriptArguments, training_args, model_args: ModelConfig, use_vllm: bool) -> None:
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


def run_info(script_args, model_args, argv, columns, rewards=(), weights=None, method="GRPO") -> RunInfo:
    """What the model card says of the run; `columns`: the training rows' as loaded (their profile attributes)."""
    return RunInfo(
        attributes=tuple(attribute_columns(columns)),
        base_model=model_args.model_name_or_path,
        dataset=script_args.dataset_name,
        config=script_args.dataset_config,
        recipe=recipe_path(argv or sys.argv),
        rewards=list(rewards),
        weights=weights,
        method=method,
    )


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
