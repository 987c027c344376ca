"""Does training help? The tiny model's held-out accuracy after the cold start and after GRPO, over seeds.

Runs the quickstart once (synthetic default, seed 0), then trains the tiny model again from scratch with
other seeds on the same dataset, and evaluates every model after the SFT cold start and after GRPO on
the quickstart's seeded rows of cross_demographic. Prints each seed, the mean and spread, the majority
and tabular rows, and says plainly whether GRPO added to the cold start and whether the trained model
beat the majority predictor. Not a test: a measurement.

    python bench/learning_check.py [--seeds 0,1,2 --sft-steps N --grpo-steps M --eval-rows 600]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import line  # noqa: E402


def _scores(run: Path) -> tuple[float, float]:
    overall = json.loads((run / "metrics.json").read_text())["overall"]
    return 100 * overall["accuracy"], 100 * overall["likert_consistency"]


def _spread(values: list[float]) -> str:
    return f"{statistics.mean(values):.1f} (min {min(values):.1f}, max {max(values):.1f})"


def main(argv=None) -> list[dict]:
    from dvmap_app.quickstart import QuickstartSpec, evaluate_on_sample, quickstart, train_tiny

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="training seeds (the data stays that of seed 0)")
    parser.add_argument("--sft-steps", type=int, default=QuickstartSpec.sft_steps)
    parser.add_argument("--grpo-steps", type=int, default=QuickstartSpec.grpo_steps)
    parser.add_argument("--eval-rows", type=int, default=QuickstartSpec.eval_rows)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    root = Path(tempfile.mkdtemp(prefix="dvmap-learning-"))
    base = QuickstartSpec(
        out=root / "qs", sft_steps=args.sft_steps, grpo_steps=args.grpo_steps, eval_rows=args.eval_rows
    )
    print(quickstart(base))
    dataset, results = base.out / "dvmap", {}
    for seed in seeds:
        spec = dataclasses.replace(base, seed=seed, out=root / f"seed-{seed}")
        runs = base.out / "runs" if seed == base.seed else train_tiny(spec.out, spec, dataset).parent
        sft = evaluate_on_sample(str(runs / "tiny-sft"), f"sft-seed{seed}", root, base, dataset)
        grpo = evaluate_on_sample(str(runs / "tiny-grpo"), f"grpo-seed{seed}", root, base, dataset)
        results[seed] = {"sft": _scores(sft), "grpo": _scores(grpo)}
        print(f"seed {seed}: after SFT Acc/LC {results[seed]['sft']}, after SFT+GRPO {results[seed]['grpo']}")
    majority = _scores(base.out / "runs" / "eval-majority")
    tabular = _scores(base.out / "runs" / "eval-tabular")
    acc = {phase: [r[phase][0] for r in results.values()] for phase in ("sft", "grpo")}
    lc = {phase: [r[phase][1] for r in results.values()] for phase in ("sft", "grpo")}
    print(f"after SFT:      Acc {_spread(acc['sft'])}, LC {_spread(lc['sft'])}")
    print(f"after SFT+GRPO: Acc {_spread(acc['grpo'])}, LC {_spread(lc['grpo'])}")
    print(f"majority Acc {majority[0]:.1f} LC {majority[1]:.1f}; tabular Acc {tabular[0]:.1f} LC {tabular[1]:.1f}")
    gain = statistics.mean(acc["grpo"]) - statistics.mean(acc["sft"])
    above = statistics.mean(acc["grpo"]) - majority[0]
    print(
        f"GRPO {'added' if gain > 0 else 'did NOT add'} {gain:+.1f} Acc points to the cold start (mean of seeds); "
        f"the trained model is {above:+.1f} points from the majority predictor"
    )
    return [
        line("tiny Acc after SFT (mean of seeds)", statistics.mean(acc["sft"]), "%", "-", True),
        line("tiny Acc after SFT+GRPO (mean of seeds)", statistics.mean(acc["grpo"]), "%", "-", True),
        line("GRPO gain over the cold start", gain, "pts", "> 0", gain > 0),
        line("trained minus majority accuracy", above, "pts", "> 0", above > 0),
    ]


if __name__ == "__main__":
    main()
