"""`dvmap analyze KIND`: the paper's analyses, from the library's registry."""

from __future__ import annotations

import argparse

from dvmap_hf.analysis import ANALYSES, AnalysisConfig
from dvmap_hf.options import add_options, from_args

from . import command


@command("analyze", f"the paper's analyses: {', '.join(ANALYSES)}")
def _analyze(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=list(ANALYSES), help="; ".join(f"{name}: {a.help}" for name, a in ANALYSES.items()))
    p.add_argument("--out", required=True, help="folder for the CSV, PNG and markdown summary")
    add_options(p, AnalysisConfig)

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.analysis import run_analysis

        print(run_analysis(args.kind, from_args(AnalysisConfig, args), args.out).summary)

    p.set_defaults(handler=run)
