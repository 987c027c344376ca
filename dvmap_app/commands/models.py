"""Commands that make models: `tiny-model` (a tiny random Qwen3) and `quickstart` (the whole kit on a CPU)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dvmap_hf.options import add_options, from_args

from . import command, out_options


@command("quickstart", "the whole kit on the embedded synthetic default, on a CPU, in minutes")
def _quickstart(p: argparse.ArgumentParser) -> None:
    from ..quickstart import QuickstartConfig

    add_options(p, QuickstartConfig)

    def run(args: argparse.Namespace) -> None:
        from ..quickstart import quickstart

        print(quickstart(from_args(QuickstartConfig, args)))

    p.set_defaults(handler=run)


@command("tiny-model", "save a tiny random Qwen3 with a locally trained tokenizer (CPU runs, no download)")
def _tiny_model(p: argparse.ArgumentParser) -> None:
    from dvmap_hf.training.tiny import TinyModelConfig

    out_options(p, "model folder to write")
    add_options(p, TinyModelConfig)

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.io import check_output_dir
        from dvmap_hf.training.tiny import MODEL_FOLDER, build_tiny_model

        check_output_dir(args.out, force=args.force, kind=MODEL_FOLDER)
        print(f"wrote {build_tiny_model(Path(args.out), from_args(TinyModelConfig, args))}")

    p.set_defaults(handler=run)
