"""DVMap GRPO training with TRL: binary accuracy reward + a small format reward (paper Sec. 4.2).

Run it with a launch config and a recipe (YAML keys = fields of our script arguments, TRL's
GRPOConfig and ModelConfig; a key that matches none is an error; command-line flags override the recipe):

    accelerate launch --config_file accelerate_configs/zero3.yaml -m dvmap_hf.training.grpo \
        --config training/recipes/qwen3-8b.yaml                       # 8 x A100, the paper's run
    accelerate launch --config_file accelerate_configs/single_gpu.yaml -m dvmap_hf.training.grpo \
        --config qwen3-0.6b --use_peft true                           # one GPU, LoRA; a packaged recipe by name
    dvmap train grpo --config tiny-cpu                                # one process, CPU, minutes

Stages (`stages.py`): logging and GPU-extra checks, resume from the last checkpoint
(`--resume_from_checkpoint true`), data and rewards, train, save, model card, push to the Hub.
Departures from the paper: TRL + Accelerate/DeepSpeed ZeRO-3 instead of verl + FSDP2; each recipe maps
the verl settings of the authors' script to TRL fields.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from .checks import check_launch_extras

if TYPE_CHECKING:  # trl, transformers and the trainers load only once the launch's extras are checked
    from trl import GRPOConfig, ModelConfig

    from .arguments import DVMapScriptArguments
    from .trainers import DVMapGRPOTrainer

logger = logging.getLogger("dvmap.training")


def main(argv: list[str] | None = None):
    check_launch_extras()  # before parsing: a DeepSpeed launch without deepspeed gets a clear message
    from .arguments import parse_grpo, with_recipe_path

    argv = with_recipe_path(sys.argv[1:] if argv is None else list(argv))
    return grpo_main(*parse_grpo(argv), argv=argv)


def grpo_trainer(
    script_args: DVMapScriptArguments, training_args: GRPOConfig, model_args: ModelConfig, argv=None
) -> DVMapGRPOTrainer:
    """A GRPO trainer with DVMap's rewards, ready to train."""
    from trl import get_peft_config

    from .corpus import load_training_data
    from .rewards import get_reward_funcs
    from .stages import prepare, run_info
    from .trainers import DVMapGRPOTrainer

    # 1. logging, GPU-only pieces, model init
    prepare(script_args, training_args, model_args, training_args.use_vllm)
    # 2. data and rewards
    train, evaluation = load_training_data(script_args, with_eval=training_args.eval_strategy != "no")
    check_distribution_reward(script_args, training_args, train.column_names)
    rewards = get_reward_funcs(
        script_args.reward_funcs, likert_alpha=script_args.likert_alpha, num_generations=training_args.num_generations
    )
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
    trainer.run_info = run_info(
        script_args, model_args, argv, train.column_names, script_args.reward_funcs, training_args.reward_weights
    )
    return trainer


def check_distribution_reward(script_args, training_args, columns) -> None:
    """`distribution_reward` reads each row's answer_counts and credits one prompt's rollouts as a group: a
    build without counts, or evaluation groups of another size, would fail mid-run."""
    from .checks import check_answer_counts

    if "distribution_reward" not in script_args.reward_funcs:
        return
    check_answer_counts("distribution_reward", script_args, columns)
    if training_args.num_generations_eval not in (None, training_args.num_generations):
        raise SystemExit(
            f"distribution_reward: num_generations_eval {training_args.num_generations_eval} differs from "
            f"num_generations {training_args.num_generations}; its groups are num_generations rollouts"
        )


def grpo_main(script_args, training_args, model_args, argv=None) -> DVMapGRPOTrainer:
    from .stages import train_and_publish

    return train_and_publish(grpo_trainer(script_args, training_args, model_args, argv), "DVMap GRPO (dvmap-hf)")


if __name__ == "__main__":
    from .launched import run_launched

    run_launched(main)
