"""Every benchmark of the kit, one table of figures with the goal beside each. Ratios come from one run.

    python bench/run_all.py [--skip learning_check]

Figures: build/read ratio and peak RSS (build.py), evaluate-module overhead and parsing throughput
(metrics.py), the profile bootstrap's cost (bootstrap.py), batched-generation speed-up (generate.py),
reward overhead in a GRPO step (grpo_step.py), the SFT cold start's loss paths (sft_step.py) and the tiny
model's accuracy before/after training (learning_check.py, the slowest).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHES = ("build", "startup", "metrics", "bootstrap", "generate", "grpo_step", "sft_step", "learning_check")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip", nargs="*", default=[], choices=BENCHES)
    args = parser.parse_args(argv)
    rows = []
    for name in BENCHES:
        if name in args.skip:
            continue
        print(f"\n== {name}", flush=True)
        rows += [{**row, "bench": name} for row in importlib.import_module(name).main([])]
    print(f"\n## dvmap-hf benchmarks, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores\n")
    print("| bench | figure | value | goal | met |\n|---|---|---:|---|---|")
    for row in rows:
        print(
            f"| {row['bench']} | {row['name']} | {row['value']:.3f} {row['unit']} | {row['goal']} | "
            f"{'yes' if row['ok'] else 'no'} |"
        )


if __name__ == "__main__":
    main()
