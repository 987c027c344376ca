"""Does training help? The tiny model's held-out accuracy before and after, beside the majority predictor.

Runs the quickstart (synthetic default, SFT cold start, GRPO) and also evaluates the untrained model and
the SFT checkpoint on the same seeded rows of cross_demographic. Prints the table and says plainly
whether the trained model beat the majority predictor. Not a test: a measurement.

    python bench/learning_check.py [--sft-steps 150 --grpo-steps 30 --eval-rows 600]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import line  # noqa: E402


def main(argv=None) -> list[dict]:
    from dvmap_hf.quickstart import QuickstartSpec, evaluate_on_sample, quickstart
    from dvmap_hf.report import paper_table

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sft-steps", type=int, default=QuickstartSpec.sft_steps)
    parser.add_argument("--grpo-steps", type=int, default=QuickstartSpec.grpo_steps)
    parser.add_argument("--eval-rows", type=int, default=QuickstartSpec.eval_rows)
    args = parser.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="dvmap-learning-")) / "qs"
    spec = QuickstartSpec(out=out, sft_steps=args.sft_steps, grpo_steps=args.grpo_steps, eval_rows=args.eval_rows)
    quickstart(spec)
    before = evaluate_on_sample(str(out / "runs/tiny-qwen3"), "before", out, spec)
    sft = evaluate_on_sample(str(out / "runs/tiny-sft"), "after-sft", out, spec)
    runs = {
        "before": before,
        "after SFT": sft,
        "after SFT+GRPO": out / "runs/eval-tiny-grpo",
        "majority": out / "runs/eval-majority",
        "random": out / "runs/eval-random",
    }
    print(paper_table(list(runs.values())))
    acc = {k: json.loads((v / "metrics.json").read_text())["overall"]["accuracy"] for k, v in runs.items()}
    beat = acc["after SFT+GRPO"] > acc["majority"]
    print(
        f"trained tiny model {'BEAT' if beat else 'did NOT beat'} the majority predictor "
        f"({acc['after SFT+GRPO']:.1%} vs {acc['majority']:.1%})"
    )
    return [line(f"tiny model accuracy, {k}", 100 * v, "%", "-", True) for k, v in acc.items()] + [
        line("trained minus majority accuracy", 100 * (acc["after SFT+GRPO"] - acc["majority"]), "pts", "> 0", beat)
    ]


if __name__ == "__main__":
    main()
