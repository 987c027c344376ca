"""Does training help? The tiny model's held-out accuracy after the cold start and after GRPO, over seeds.

Runs the quickstart once (synthetic default, seed 0), then trains the tiny model again from scratch with
other seeds on the same dataset, and evaluates every model after the SFT cold start and after GRPO on
the quickstart's seeded rows of cross_demographic, greedily (the quickstart table) and sampled at the
paper's T = 0.7. Prints each seed, the mean and spread, GRPO's gain per seed, the majority and tabular
rows. Not a test: a measurement.

    python bench/learning_check.py [--seeds 0,1,2 --sft-steps N --grpo-steps M --eval-rows 600]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import line  # noqa: E402


def _spread(values: list[float]) -> str:
    return f"{statistics.mean(values):.1f} (min {min(values):.1f}, max {max(values):.1f})"


DECODINGS = {"greedy": True, "T=0.7": False}  # the quickstart table's decoding, and the paper's


def main(argv=None) -> list[dict]:
    from dvmap_app.quickstart import QuickstartConfig, evaluate_on_sample, quickstart, scores, train_tiny

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="training seeds (the data stays that of seed 0)")
    parser.add_argument("--sft-steps", type=int, default=QuickstartConfig.sft_steps)
    parser.add_argument("--grpo-steps", type=int, default=QuickstartConfig.grpo_steps)
    parser.add_argument("--eval-rows", type=int, default=QuickstartConfig.eval_rows)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    root = Path(tempfile.mkdtemp(prefix="dvmap-learning-"))
    base = QuickstartConfig(
        out=root / "qs", sft_steps=args.sft_steps, grpo_steps=args.grpo_steps, eval_rows=args.eval_rows
    )
    print(quickstart(base))
    dataset, measured = base.out / "dvmap", {}  # (phase, decoding) -> [(Acc, LC) per seed]
    for seed in seeds:
        spec = dataclasses.replace(base, seed=seed, out=root / f"seed-{seed}")
        runs = base.out / "runs" if seed == base.seed else train_tiny(spec.out, spec, dataset).parent
        for phase in ("sft", "grpo"):
            for decoding, greedy in DECODINGS.items():
                # beside the models, as the quickstart names them: seed 0's runs are the quickstart's own
                model = str(runs / f"tiny-{phase}")
                run = evaluate_on_sample(model, f"tiny-{phase}", runs.parent, base, dataset, greedy)
                measured.setdefault((phase, decoding), []).append(scores(run))
        print(f"seed {seed}: " + "; ".join(f"{p} {d} Acc/LC {v[-1]}" for (p, d), v in measured.items()), flush=True)
    majority = scores(base.out / "runs" / "eval-majority")
    tabular = scores(base.out / "runs" / "eval-tabular")
    lines = []
    for decoding in DECODINGS:
        for phase, label in (("sft", "after SFT"), ("grpo", "after SFT+GRPO")):
            acc = [a for a, _ in measured[phase, decoding]]
            lc = [c for _, c in measured[phase, decoding]]
            print(f"{decoding:<7}{label:<16}Acc {_spread(acc)}, LC {_spread(lc)}")
        paired = [g - s for (g, _), (s, _) in zip(measured["grpo", decoding], measured["sft", decoding], strict=True)]
        print(f"{decoding:<7}GRPO gain per seed: {', '.join(f'{g:+.1f}' for g in paired)} Acc points")
        lines.append(
            line(
                f"GRPO gain over the cold start, {decoding} (mean of seeds)",
                statistics.mean(paired),
                "pts",
                "> 0",
                statistics.mean(paired) > 0,
            )
        )
    print(f"majority Acc {majority[0]:.1f} LC {majority[1]:.1f}; tabular Acc {tabular[0]:.1f} LC {tabular[1]:.1f}")
    above = statistics.mean(a for a, _ in measured["grpo", "greedy"]) - majority[0]
    print(f"the trained model (greedy, the quickstart table's decoding) is {above:+.1f} points from the majority row")
    return lines + [line("trained minus majority accuracy (greedy)", above, "pts", "> 0", above > 0)]


if __name__ == "__main__":
    main()
