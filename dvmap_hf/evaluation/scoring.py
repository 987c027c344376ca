"""A run's figures from its rows joined with their predictions: overall, per country / category /
question, entropy against accuracy, and the intervals. `report.py` renders them; the runner writes them."""

from __future__ import annotations

import pandas as pd

from ..data.schema import group_column
from .metrics import entropy
from .statistics import RunRows, figures, intervals


def _scores(frame: pd.DataFrame, figures_: dict | None = None) -> dict:
    """Rows and every figure but the per-rule accuracies (those are `accuracy_by_match`)."""
    figures_ = figures(RunRows.from_frame(frame)) if figures_ is None else figures_
    return {"rows": int(len(frame)), **{k: v for k, v in figures_.items() if not k.startswith("accuracy_")}}


def _breakdown(frame: pd.DataFrame, column: str) -> dict[str, dict]:
    return {str(key): _scores(part) for key, part in frame.groupby(column, sort=True)}


def entropy_vs_accuracy(frame: pd.DataFrame) -> dict:
    """Per question: entropy (natural log) of the real answers in this split vs accuracy; Pearson r
    (the paper's `difficulty_r`: controversial questions are harder)."""
    from scipy.stats import pearsonr

    rows = []
    for question_id, part in frame.groupby("question_id", sort=True):
        rows.append(
            {
                "question_id": str(question_id),
                "entropy": entropy(part["answer_index"].value_counts().to_numpy()),
                "accuracy": float((part["parsed"] == part["answer_index"]).mean()),
            }
        )
    table = pd.DataFrame(rows)
    result = {"per_question": rows, "pearson_r": None, "p_value": None}
    if len(table) >= 3 and table["entropy"].nunique() > 1 and table["accuracy"].nunique() > 1:
        r, p = pearsonr(table["entropy"], table["accuracy"])
        result.update(pearson_r=float(r), p_value=float(p))
    return result


def score(frame: pd.DataFrame, resamples: int = 0, seed: int = 0) -> dict:
    """Overall scores, breakdowns per group (`per_country` in a WVS build, `per_<group>` in a survey build) /
    category / question, entropy vs accuracy, and (with `resamples`) a profile-bootstrap interval for every
    overall figure."""
    rows = RunRows.from_frame(frame)
    overall = figures(rows)
    group = group_column(frame.columns)
    return {
        "group": group,
        "overall": _scores(frame, overall),
        "accuracy_by_match": {k.removeprefix("accuracy_"): v for k, v in overall.items() if k.startswith("accuracy_")},
        "intervals": intervals(rows, resamples, seed),
        f"per_{group}": _breakdown(frame, group),
        "per_category": _breakdown(frame, "category"),
        "per_question": _breakdown(frame, "question_id"),
        "entropy_vs_accuracy": entropy_vs_accuracy(frame),
    }
