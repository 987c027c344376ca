"""Cold start before GRPO: supervised fine-tuning on `<answer>{gold option}</answer>` (TRL SFTTrainer).

A small or random model rarely writes a well-formed <answer> on its own, so every GRPO reward is 0 and
there is no gradient (`frac_reward_zero_std` = 1). A short SFT on the corpus teaches the format first;
GRPO then starts from that checkpoint. The paper trains Qwen3 models directly with GRPO; this step is
for small models and CPU runs.

    accelerate launch --config_file accelerate_configs/cpu.yaml training/sft.py \
        --config training/recipes/tiny-cpu-sft.yaml
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from trl import ModelConfig, SFTConfig, SFTTrainer, TrlParser, get_peft_config

from dvmap_hf.training import (
    DVMapScriptArguments,
    check_gpu_extras,
    check_launch_extras,
    final_metrics,
    load_training_data,
    model_card,
    recipe_path,
    resume_checkpoint,
)

logger = logging.getLogger("dvmap.sft")


def to_prompt_completion(row: dict) -> dict:
    """TRL's conversational prompt-completion format: the loss is on the answer only."""
    return {"completion": [{"role": "assistant", "content": f"<answer>{row['answer']}</answer>"}]}


class DVMapSFTTrainer(SFTTrainer):
    dvmap_info: dict = {}

    def create_model_card(self, model_name=None, dataset_name=None, tags=None):
        if self.is_world_process_zero():
            text = model_card(metrics=final_metrics(self.state.log_history), method="SFT", **self.dvmap_info)
            Path(self.args.output_dir, "README.md").write_text(text)


def main(
    script_args: DVMapScriptArguments, training_args: SFTConfig, model_args: ModelConfig, argv: list[str] | None = None
):
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=training_args.get_process_log_level()
    )
    check_gpu_extras(False, model_args.attn_implementation)
    training_args.model_init_kwargs = {
        "revision": model_args.model_revision,
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
        **(training_args.model_init_kwargs or {}),
    }
    checkpoint = resume_checkpoint(training_args.resume_from_checkpoint, training_args.output_dir)
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
    trainer.dvmap_info = {
        "base_model": model_args.model_name_or_path,
        "dataset": script_args.dataset_name,
        "config": script_args.dataset_config,
        "recipe": recipe_path(argv or sys.argv),
        "rewards": [],
        "weights": [],
    }
    trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(training_args.output_dir)
    trainer.create_model_card()
    if training_args.push_to_hub:
        trainer.push_to_hub(commit_message="DVMap SFT cold start (dvmap-hf)")
    trainer.end()
    return trainer


def parse(argv: list[str] | None = None):
    parser = TrlParser((DVMapScriptArguments, SFTConfig, ModelConfig))
    return parser.parse_args_and_config(argv, fail_with_unknown_args=True)


if __name__ == "__main__":
    check_launch_extras()
    main(*parse(), argv=sys.argv)
