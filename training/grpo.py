"""DVMap GRPO training with TRL: binary accuracy reward + a small format reward (paper Sec. 4.2).

Run it with a launch config and a recipe (YAML keys = fields of our script arguments, TRL's
GRPOConfig and ModelConfig; a key that matches none is an error; command-line flags override the recipe):

    accelerate launch --config_file accelerate_configs/zero3.yaml training/grpo.py \
        --config training/recipes/qwen3-8b.yaml                       # 8 x A100, the paper's run
    accelerate launch --config_file accelerate_configs/single_gpu.yaml training/grpo.py \
        --config training/recipes/qwen3-0.6b.yaml --use_peft true     # one GPU, LoRA
    accelerate launch --config_file accelerate_configs/cpu.yaml training/grpo.py \
        --config training/recipes/tiny-cpu.yaml                       # CPU, minutes

Stages (in `dvmap_hf.training.grpo_main`): logging and GPU-extra checks, resume from the last checkpoint
(`--resume_from_checkpoint true`), data and rewards, train, save, model card, push to the Hub.
Departures from the paper: TRL + Accelerate/DeepSpeed ZeRO-3 instead of verl + FSDP2; each recipe maps
the verl settings of the authors' script to TRL fields.
"""

import sys

from dvmap_hf.training import check_launch_extras, grpo_main, parse_grpo


def main(script_args, training_args, model_args):
    return grpo_main(script_args, training_args, model_args, argv=sys.argv)


if __name__ == "__main__":
    check_launch_extras()  # before parsing: a DeepSpeed launch without deepspeed gets a clear message
    main(*parse_grpo())
