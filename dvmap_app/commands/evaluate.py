"""Commands that evaluate: `eval`, `robustness` (one attribute flipped) and `compare` (the paper table)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dvmap_hf.errors import DvmapError
from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig
from dvmap_hf.options import add_options, from_args

from . import command


def _model_options(p: argparse.ArgumentParser) -> None:
    """What to ask and how to generate: the fields of EvalConfig and InferenceConfig, and the run folder."""
    add_options(p, EvalConfig)
    add_options(p, InferenceConfig)
    p.add_argument("--out", required=True, help="run folder (an interrupted run resumes in it)")


def _spec(args: argparse.Namespace) -> EvalConfig:
    return from_args(EvalConfig, args, generation=from_args(InferenceConfig, args))


@command("eval", "evaluate a model or a reference predictor on one config/split (resumable)")
def _eval(p: argparse.ArgumentParser) -> None:
    _model_options(p)

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.evaluation.report import alignment_table, paper_table
        from dvmap_hf.evaluation.runner import run_eval

        metrics = run_eval(_spec(args), args.out)
        print(paper_table([metrics]))
        if alignment_table([metrics]):
            print(f"\n{alignment_table([metrics])}")
        print(f"report: {args.out}/report.md")

    p.set_defaults(handler=run)


def _flips(pairs: list[str]) -> dict[str, str]:
    flips = {}
    for pair in pairs:
        a, sep, b = pair.partition("=")
        if not sep or not a.strip() or not b.strip():
            raise DvmapError(f"--flip expects A=B, got {pair!r}")
        flips |= {a.strip(): b.strip(), b.strip(): a.strip()}
    return flips


@command("robustness", "flip one attribute (income Low <-> High by default) and report the value flip rate")
def _robustness(p: argparse.ArgumentParser) -> None:
    _model_options(p)
    p.add_argument("--attribute", default="income_bracket", help="the attribute to flip (default: income_bracket)")
    p.add_argument(
        "--flip",
        action="append",
        default=[],
        metavar="A=B",
        help="value pair to swap (repeatable; default for income_bracket: Low income=High income)",
    )

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.evaluation.robustness import DEFAULT_FLIPS, run_robustness

        flips = _flips(args.flip) or DEFAULT_FLIPS.get(args.attribute)
        if not flips:
            raise DvmapError(f"--attribute {args.attribute} needs at least one --flip A=B")
        result = run_robustness(_spec(args), args.attribute, flips, args.out)
        print((Path(args.out) / "robustness.md").read_text())
        print(f"overall flip rate: {result['overall']['flip_rate']}")

    p.set_defaults(handler=run)


@command("compare", "several runs side by side with intervals, and each against a baseline (paired tests)")
def _compare(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", help="run folders written by `dvmap eval`")
    p.add_argument("--baseline", help="the run the others are compared with (default: the first)")
    p.add_argument("--bootstrap", type=int, default=1000, help="resamples of the paired bootstrap (default: 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the resamples (default: 0)")
    p.add_argument("--common-rows", action="store_true", help="compare runs over the rows they share")
    p.add_argument("--json", metavar="FILE", help="also write every figure's difference and test as JSON")

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.evaluation.compare import compare_runs
        from dvmap_hf.evaluation.config import check_resamples

        check_resamples("bootstrap", args.bootstrap)
        text, results = compare_runs(args.runs, args.baseline, args.bootstrap, args.seed, args.common_rows)
        if args.json:
            import json

            from dvmap_hf.io import atomic_file

            with atomic_file(args.json) as tmp:
                tmp.write_text(json.dumps(results, indent=2) + "\n")
        print(text)

    p.set_defaults(handler=run)


@command("alignment-tax", "general benchmarks (lm-evaluation-harness) on the base and the trained model, side by side")
def _alignment_tax(p: argparse.ArgumentParser) -> None:
    from dvmap_hf.options import csv_list

    p.add_argument("--base", required=True, help="the model before DVMap training (folder or Hub id)")
    p.add_argument("--trained", required=True, help="the model after it")
    p.add_argument("--tasks", required=True, type=csv_list, help="lm-eval tasks, e.g. mmlu,arc_easy,gsm8k,hellaswag")
    p.add_argument("--out", required=True, help="folder for alignment_tax.json and alignment_tax.md")
    p.add_argument("--limit", type=int, help="rows per task (default: all)")
    p.add_argument("--batch-size", type=int, default=8, help="lm-eval batch size (default: 8)")
    p.add_argument("--device", default="cpu", help="lm-eval device: cpu, cuda, cuda:0 ... (default: cpu)")
    p.add_argument("--include-path", action="append", default=[], help="a folder of task YAMLs of your own")

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.evaluation.alignment_tax import alignment_tax, markdown
        from dvmap_hf.options import at_least

        at_least("limit", args.limit)
        at_least("batch_size", args.batch_size)
        result = alignment_tax(
            args.base,
            args.trained,
            list(args.tasks),
            args.out,
            args.limit,
            args.batch_size,
            args.device,
            args.include_path,
        )
        print(markdown(result))

    p.set_defaults(handler=run)
