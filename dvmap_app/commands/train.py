"""`dvmap train grpo|sft`: a training run in this process, from an installed package or a checkout. Many
processes or GPUs: the same run under `accelerate launch -m dvmap_hf.training.grpo|sft`."""

from __future__ import annotations

import argparse

from . import command

METHODS = ("grpo", "sft")


@command("train", "GRPO or the SFT cold start on TRL, in this process (several: accelerate launch -m ...)")
def _train(p: argparse.ArgumentParser) -> None:
    p.add_argument("method", choices=METHODS, help="grpo (DVMap's rewards) or sft (the cold start)")
    p.add_argument(
        "recipe_args",
        nargs=argparse.REMAINDER,
        metavar="...",
        help="--config RECIPE (a YAML file, or a packaged recipe's name: tiny-cpu, qwen3-8b ...), then TRL flags",
    )

    def run(args: argparse.Namespace) -> None:
        from importlib import import_module

        import_module(f"dvmap_hf.training.{args.method}").main(args.recipe_args)

    p.set_defaults(handler=run)
