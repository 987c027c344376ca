"""What DVMap's rewards cost inside a GRPO step, on the tiny CPU recipe.

One GRPO run of a few steps with our rewards; from the same run: the mean step time, the time the reward
functions take on the step's completions (goal: <= 2% of a step), and microseconds per completion for
each reward function. A second run with a constant reward gives the end-to-end step-time ratio (noisy
on a shared machine: the within-run share above is the figure to trust).

    python bench/grpo_step.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import dataset_folder, tiny_model, workspace  # noqa: E402
from common import line  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STEPS = 8


def _run(rewards: list[str], name: str):
    from dvmap_hf.training.arguments import parse_grpo
    from dvmap_hf.training.grpo import grpo_main

    args = parse_grpo(
        [
            "--config",
            str(ROOT / "training/recipes/tiny-cpu.yaml"),
            "--model_name_or_path",
            str(tiny_model()),
            "--dataset_name",
            str(dataset_folder()),
            "--max_steps",
            str(STEPS),
            "--save_strategy",
            "no",
            "--output_dir",
            str(workspace() / name),
            "--reward_funcs",
            *rewards,
            "--reward_weights",
            *["1.0"] * len(rewards),
            "--disable_tqdm",
            "true",
        ]
    )
    return grpo_main(*args, argv=["bench"])


def constant_reward(completions, **kwargs) -> list[float]:
    """0.0 for everything: the baseline our rewards' overhead is measured against (named by import path)."""
    return [0.0] * len(completions)


def _step_time(trainer) -> float:
    times = [e["step_time"] for e in trainer.state.log_history if "step_time" in e][1:]  # skip the first step
    return sum(times) / len(times)


def main(argv=None) -> list[dict]:
    from datasets import load_dataset

    from dvmap_hf.training.rewards import accuracy_reward, format_reward, get_likert_reward

    os.environ.setdefault("TQDM_DISABLE", "1")
    ours = _step_time(_run(["accuracy_reward", "format_reward"], "ours"))
    constant = _step_time(_run(["grpo_step.constant_reward"], "constant"))
    rows = load_dataset(str(dataset_folder()), "corpus")["train"].select(range(512)).to_list()
    completions = [f"<answer>{r['options'][i % r['num_options']]}</answer>" for i, r in enumerate(rows)]
    columns = {k: [r[k] for r in rows] for k in ("options", "answer_index", "num_options")}
    per_completion = {}
    for fn in (accuracy_reward, format_reward, get_likert_reward()):
        start = time.perf_counter()
        for _ in range(20):
            fn(completions, **columns)
        per_completion[fn.__name__] = (time.perf_counter() - start) / (20 * len(rows)) * 1e6
    completions_per_step = 16  # tiny-cpu.yaml: per_device_train_batch_size
    share = (per_completion["accuracy_reward"] + per_completion["format_reward"]) * completions_per_step / 1e6 / ours
    out = [
        line("GRPO step, our rewards (tiny CPU recipe)", ours, "s", "-", True),
        line("GRPO step, constant reward", constant, "s", "-", True),
        line("step time ratio ours / constant (noisy)", ours / constant, "x", "-", True),
        line("reward share of a step (within run)", 100 * share, "%", "<= 2", share <= 0.02),
    ]
    out += [line(f"{name} per completion", us, "us", "-", True) for name, us in per_completion.items()]
    return out


if __name__ == "__main__":
    main()
