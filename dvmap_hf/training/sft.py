"""Cold start before GRPO: supervised fine-tuning on `<answer>{gold option}</answer>` (TRL SFTTrainer).

A small or random model rarely writes a well-formed <answer> on its own, so every GRPO reward is 0 and
there is no gradient (`frac_reward_zero_std` = 1). A short SFT on the corpus teaches the format first;
GRPO then starts from that checkpoint. The paper trains Qwen3 models directly with GRPO; this step is
for small models and CPU runs.

    accelerate launch --config_file accelerate_configs/cpu.yaml -m dvmap_hf.training.sft --config tiny-cpu-sft
    dvmap train sft --config tiny-cpu-sft
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .checks import check_launch_extras

if TYPE_CHECKING:  # trl, transformers and the trainers load only once the launch's extras are checked
    from trl import ModelConfig, SFTConfig

    from .arguments import DVMapScriptArguments
    from .trainers import DVMapSFTTrainer


def main(argv: list[str] | None = None):
    check_launch_extras()
    from .arguments import parse_sft, with_recipe_path

    argv = with_recipe_path(sys.argv[1:] if argv is None else list(argv))
    return sft_main(*parse_sft(argv), argv=argv)


def sft_trainer(
    script_args: DVMapScriptArguments, training_args: SFTConfig, model_args: ModelConfig, argv=None
) -> DVMapSFTTrainer:
    """The cold start (SFT on the gold option in the answer format the prompt asks for) or, with
    `sft_target: distribution`, soft-target SFT toward each row's answer distribution."""
    from .corpus import load_training_data
    from .stages import prepare, run_info

    prepare(script_args, training_args, model_args, use_vllm=False)
    train, evaluation = load_training_data(script_args, with_eval=training_args.eval_strategy != "no")
    columns = train.column_names
    if script_args.sft_target == "distribution":
        trainer = _soft_target_trainer(script_args, training_args, model_args, train, evaluation)
    else:
        trainer = _label_trainer(script_args, training_args, model_args, train, evaluation)
    method = "SFT" if script_args.sft_target == "label" else f"soft-target SFT ({script_args.distribution_loss})"
    trainer.run_info = run_info(script_args, model_args, argv, columns, method=method)
    return trainer


def _label_trainer(script_args, training_args, model_args, train, evaluation):
    from trl import get_peft_config

    from .corpus import to_prompt_completion
    from .trainers import DVMapSFTTrainer

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
    return trainer


def _soft_target_trainer(script_args, training_args, model_args, train, evaluation):
    """Rows keep their prompt, options and answer_counts; the collator packs each row's options after its prompt."""
    from transformers import AutoTokenizer
    from trl import get_peft_config

    from .checks import check_answer_counts
    from .soft_targets import NEEDED_COLUMNS, OptionsCollator
    from .trainers import DVMapSoftTargetTrainer

    check_answer_counts("sft_target distribution", script_args, train.column_names)
    training_args.dataset_kwargs = {**(training_args.dataset_kwargs or {}), "skip_prepare_dataset": True}
    training_args.remove_unused_columns = False
    tokenizer = AutoTokenizer.from_pretrained(model_args.model_name_or_path, revision=model_args.model_revision)
    select = list(NEEDED_COLUMNS)
    trainer = DVMapSoftTargetTrainer(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=train.select_columns(select),
        eval_dataset=evaluation.select_columns(select) if evaluation is not None else None,
        processing_class=tokenizer,
        data_collator=OptionsCollator(tokenizer, training_args.max_length),
        peft_config=get_peft_config(model_args),
    )
    trainer.distribution_loss = script_args.distribution_loss
    return trainer


def sft_main(script_args, training_args, model_args, argv=None) -> DVMapSFTTrainer:
    from .stages import train_and_publish

    trainer = sft_trainer(script_args, training_args, model_args, argv)
    return train_and_publish(trainer, "DVMap SFT cold start (dvmap-hf)")


if __name__ == "__main__":
    from .launched import run_launched

    run_launched(main)
