"""Metric and parsing speed on the benchmark's size (21,553 rows, as the paper's three test sets).

Prints, from one run: LC + WD through the `evaluate` modules vs the bare numpy core (goal: overhead
<= 3x, absolute under 1 s) and answer-parsing throughput (goal: >= 100,000 completions/s).

    python bench/metrics.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_of, line  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ROWS = 21_553


def main(argv=None) -> list[dict]:
    import evaluate

    from dvmap_hf.data.codebook import QUESTIONS
    from dvmap_hf.evaluation.metrics import likert_consistency, wasserstein_distance
    from dvmap_hf.evaluation.parsing import parse_answers

    rng = np.random.default_rng(0)
    questions = list(QUESTIONS.values())
    chosen = rng.integers(len(questions), size=ROWS)
    k = np.array([len(questions[i].options) for i in chosen])
    ref = rng.integers(0, k)
    pred = np.where(rng.random(ROWS) < 0.05, -1, rng.integers(0, k))
    groups = [f"C{c}|{questions[i].id}" for c, i in zip(rng.integers(18, size=ROWS), chosen, strict=True)]
    lc = evaluate.load(str(ROOT / "evaluate_metrics" / "likert_consistency"))
    wd = evaluate.load(str(ROOT / "evaluate_metrics" / "wasserstein_distance"))

    def core():
        likert_consistency(pred, ref, k)
        wasserstein_distance(pred, ref, k, groups)

    def modules():
        lc.compute(predictions=pred, references=ref, num_options=k)
        wd.compute(predictions=pred, references=ref, num_options=k, groups=groups)

    t_core, t_modules = best_of(core, 5), best_of(modules, 5)
    options = [questions[i].options for i in chosen]
    completions = [f"Reasoning about the persona...\n<answer>{o[rng.integers(len(o))]}</answer>" for o in options]
    t_parse = best_of(lambda: parse_answers(completions, options), 3)
    return [
        line("LC + WD, numpy core (21,553 rows)", t_core, "s", "-", True),
        line("LC + WD, evaluate modules", t_modules, "s", "< 1", t_modules < 1),
        line("evaluate overhead (modules / core)", t_modules / t_core, "x", "<= 3", t_modules / t_core <= 3),
        line("answer parsing throughput", ROWS / t_parse, "compl/s", ">= 100000", ROWS / t_parse >= 100_000),
    ]


if __name__ == "__main__":
    main()
