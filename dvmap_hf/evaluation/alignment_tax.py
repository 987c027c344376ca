"""`dvmap alignment-tax`: does alignment cost general ability? The paper (Sec. 5) reports MMLU, ARC-E, GSM8K
and HellaSwag within 0.1% of the base model and IFEval +0.48. This runs lm-evaluation-harness's Python API
on the base and the trained model over the same tasks and tabulates each task's change with its standard
error (the two runs' stderrs combined, as independent) and whether it is within noise (|change| < 1.96 x
that). Needs the `harness` extra."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..data.folder import looks_like_hub_id
from ..errors import DvmapError
from ..io import atomic_file, model_folder

#: the metric reported per task, first found first (lm-eval's names)
PREFERRED = ("acc", "exact_match", "prompt_level_strict_acc", "acc_norm", "f1")
NOISE = 1.96


def _task_scores(results: dict) -> dict[str, tuple[str, float, float | None]]:
    """Per task: (metric, value, stderr) of its preferred metric."""
    scores = {}
    for task, values in results.items():
        by_metric = {}
        for key, value in values.items():
            metric, _, filt = key.partition(",")
            if isinstance(value, int | float) and not metric.endswith("_stderr") and not isinstance(value, bool):
                stderr = values.get(f"{metric}_stderr,{filt}")
                by_metric.setdefault(metric, (float(value), stderr if isinstance(stderr, int | float) else None))
        chosen = next((m for m in PREFERRED if m in by_metric), None) or next(iter(by_metric), None)
        if chosen is not None:
            scores[task] = (chosen, *by_metric[chosen])
    return scores


def _evaluate(model: str, tasks: list[str], limit: int | None, batch_size: int, device: str, include: list[str]):
    try:
        from lm_eval import simple_evaluate
        from lm_eval.tasks import TaskManager
    except ImportError as exc:
        raise DvmapError("alignment-tax needs lm-evaluation-harness: pip install -e '.[harness]'") from exc
    manager = TaskManager(include_path=include or None)
    unknown = [task for task in tasks if task not in manager.all_tasks]
    if unknown:
        raise DvmapError(f"unknown lm-eval task(s): {', '.join(unknown)} (see `lm_eval ls tasks`, or --include-path)")
    output = simple_evaluate(
        model="hf",
        model_args=f"pretrained={model}",
        tasks=tasks,
        limit=limit,
        batch_size=batch_size,
        device=device,
        task_manager=manager,
        random_seed=0,
        numpy_random_seed=0,
        torch_random_seed=0,
    )
    return _task_scores(output["results"])


def alignment_tax(
    base: str,
    trained: str,
    tasks: list[str],
    out: str | Path,
    limit: int | None = None,
    batch_size: int = 8,
    device: str = "cpu",
    include_path: list[str] | None = None,
) -> dict:
    """Both models on `tasks`; write alignment_tax.json and alignment_tax.md into `out`; return the table."""
    if not tasks:
        raise DvmapError("--tasks names no task")
    if Path(out).exists() and not Path(out).is_dir():  # known before hours of evaluation, not after
        raise DvmapError(f"{out}: exists and is not a folder")
    for model in (base, trained):  # a local folder must hold a model; lm-eval's own error is a traceback
        if Path(model).exists() or not looks_like_hub_id(model):
            model_folder(model)
    scores = {
        "base": _evaluate(base, tasks, limit, batch_size, device, include_path or []),
        "trained": _evaluate(trained, tasks, limit, batch_size, device, include_path or []),
    }
    rows = []
    for task in sorted(scores["base"]):
        metric, before, se_before = scores["base"][task]
        _, after, se_after = scores["trained"].get(task, (metric, math.nan, None))
        se = math.hypot(se_before, se_after) if se_before is not None and se_after is not None else None
        change = after - before
        rows.append(
            {
                "task": task,
                "metric": metric,
                "base": before,
                "trained": after,
                "change": change,
                "stderr": se,
                "within_noise": None if se is None else abs(change) < NOISE * se,
            }
        )
    result = {"base": base, "trained": trained, "limit": limit, "rows": rows}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_file(out / "alignment_tax.json") as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n")
    with atomic_file(out / "alignment_tax.md") as tmp:
        tmp.write_text(markdown(result))
    return result


def markdown(result: dict) -> str:
    sample = "" if result["limit"] is None else f", {result['limit']} rows each"
    lines = [
        f"# Alignment tax: {result['trained']} vs {result['base']}",
        "",
        f"lm-evaluation-harness, the same tasks for both{sample};"
        f" change = trained - base, stderr = both runs' stderrs combined; within noise: |change| < {NOISE} stderr.",
        "",
        "| task | metric | base | trained | change | stderr | within noise |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in result["rows"]:
        se = "n/a" if row["stderr"] is None else f"{row['stderr']:.4f}"
        noise = {None: "n/a", True: "yes", False: "no"}[row["within_noise"]]
        lines.append(
            f"| {row['task']} | {row['metric']} | {row['base']:.4f} | {row['trained']:.4f} | {row['change']:+.4f} | "
            f"{se} | {noise} |"
        )
    return "\n".join(lines) + "\n"
