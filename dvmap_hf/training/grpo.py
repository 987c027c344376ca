"""DVMap GRPO training with TRL: binary accuracy reward + a small format reward (paper Sec. 4.2).

Run it with a launch config and a recipe (YAML keys = fields of our script arguments, TRL's
GRPOConfig and ModelConfig; a key that matches none is an error; command-line flags override the recipe):

    accelerate launch --config_file accelerate_configs/zero3.yaml -m dvmap_hf.training.grpo \
        --config training/recipes/qwen3-8b.yaml                       # 8 x A100, the paper's run
    accelerate launch --config_file accelerate_configs/single_gpu.yaml -m dvmap_hf.training.grpo \
        --config qwen3-0.6b --use_peft true                           # one GPU, LoRA; a packaged recipe by name
    dvmap train grpo --config tiny-cpu                                # one process, CPU, minutes

Stages (`dvmap_hf.training.mains`): logging and GPU-extra checks, resume from the last checkpoint
(`--resume_from_checkpoint true`), data and rewards, train, save, model card, push to the Hub.
Departures from the paper: TRL + Accelerate/DeepSpeed ZeRO-3 instead of verl + FSDP2; each recipe maps
the verl settings of the authors' script to TRL fields.
"""

from __future__ import annotations

import sys

from .checks import check_launch_extras


def main(argv: list[str] | None = None):
    check_launch_extras()  # before parsing: a DeepSpeed launch without deepspeed gets a clear message
    from .arguments import parse_grpo, with_recipe_path
    from .mains import grpo_main

    argv = with_recipe_path(sys.argv[1:] if argv is None else list(argv))
    return grpo_main(*parse_grpo(argv), argv=argv)


if __name__ == "__main__":
    from .launched import run_launched

    run_launched(main)
