"""Batched vs one-at-a-time generation with the transformers backend on a tiny random Qwen3.

Prints completions per second both ways and their ratio (goal: batched >= 5x), from one run.

    python bench/generate.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import dataset_folder, tiny_model  # noqa: E402
from common import best_of, line  # noqa: E402

PROMPTS = 64


def main(argv=None) -> list[dict]:
    from datasets import load_dataset

    from dvmap_hf.evaluation.backends import TransformersBackend
    from dvmap_hf.evaluation.config import InferenceConfig

    rows = load_dataset(str(dataset_folder()), "cross_demographic")["test"].select(range(PROMPTS)).to_list()
    backend = TransformersBackend.from_pretrained(str(tiny_model()), InferenceConfig(max_new_tokens=64, greedy=True))
    backend(rows[:2])  # warm-up
    batched = best_of(lambda: [backend(rows[i : i + 32]) for i in range(0, PROMPTS, 32)], 2)
    single = best_of(lambda: [backend([row]) for row in rows], 1)
    return [
        line("generation, one at a time", PROMPTS / single, "compl/s", "-", True),
        line("generation, batches of 32", PROMPTS / batched, "compl/s", "-", True),
        line("batched speed-up", single / batched, "x", ">= 5", single / batched >= 5),
    ]


if __name__ == "__main__":
    main()
