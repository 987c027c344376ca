"""Cold start before GRPO: supervised fine-tuning on `<answer>{gold option}</answer>` (TRL SFTTrainer).

A small or random model rarely writes a well-formed <answer> on its own, so every GRPO reward is 0 and
there is no gradient (`frac_reward_zero_std` = 1). A short SFT on the corpus teaches the format first;
GRPO then starts from that checkpoint. The paper trains Qwen3 models directly with GRPO; this step is
for small models and CPU runs.

    accelerate launch --config_file accelerate_configs/cpu.yaml training/sft.py \
        --config training/recipes/tiny-cpu-sft.yaml
"""

import sys

from dvmap_hf.training import check_launch_extras, parse_sft, sft_main


def main(script_args, training_args, model_args):
    return sft_main(script_args, training_args, model_args, argv=sys.argv)


if __name__ == "__main__":
    check_launch_extras()
    main(*parse_sft())
