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

from .checks import check_launch_extras


def main(argv: list[str] | None = None):
    check_launch_extras()
    from .arguments import parse_sft, with_recipe_path
    from .mains import sft_main

    argv = with_recipe_path(sys.argv[1:] if argv is None else list(argv))
    return sft_main(*parse_sft(argv), argv=argv)


if __name__ == "__main__":
    from .launched import run_launched

    run_launched(main)
