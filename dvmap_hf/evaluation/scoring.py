"""A run's figures from its rows joined with their predictions: overall, per country / category /
question, entropy against accuracy, and the intervals. `report.py` renders them; the runner writes them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.schema import COUNTS, group_column
from .alignment import FLOOR_DRAWS, KL_EPSILON, SUMMARY_FIGURES, human_floor, row_scores, simbench_score
from .metrics import entropy
from .statistics import ALIGNMENT_PREFIX, MIN_PROFILES, RunRows, figures, intervals


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
    overall figure; on rows with answer counts scored by a predictor that gives distributions, the distribution
    alignment (`distribution`)."""
    rows = RunRows.from_frame(frame)
    overall = figures(rows)
    group = group_column(frame.columns)
    info = intervals(rows, resamples, seed)
    return {
        "group": group,
        "overall": _scores(frame, overall),
        "accuracy_by_match": {k.removeprefix("accuracy_"): v for k, v in overall.items() if k.startswith("accuracy_")},
        "intervals": info,
        f"per_{group}": _breakdown(frame, group),
        "per_category": _breakdown(frame, "category"),
        "per_question": _breakdown(frame, "question_id"),
        "entropy_vs_accuracy": entropy_vs_accuracy(frame),
        **({"distribution": distribution_alignment(frame, overall, info, seed)} if _has_distributions(frame) else {}),
    }


def _has_distributions(frame: pd.DataFrame) -> bool:
    """A distributional build's rows (`answer_counts`) scored by a predictor that gives its distribution."""
    return COUNTS in frame and "distribution" in frame and len(frame) > 0


def distribution_alignment(frame: pd.DataFrame, overall: dict, info: dict, seed: int = 0) -> dict:
    """The model's distribution per row against the survey's (`alignment`), as the run's figures and intervals
    hold it (`alignment_*`: means over rows, basic profile-bootstrap intervals, flagged under `MIN_PROFILES`
    profiles), with the human-noise floor of the distances beside it and the uniform distribution's TV
    (SimBench's denominator). Rows whose distribution is unknown (a stated one that did not parse, k samples
    none of which did) are left out and counted."""
    known = frame["distribution"].notna().to_numpy()
    missing, frame = int((~known).sum()), frame[known]
    if frame.empty:
        return {"rows": 0, "rows_without_distribution": missing, "figures": {}, "human_floor": {}}
    profiles = int(frame["profile_id"].nunique())
    flag = f"{profiles} profiles < {MIN_PROFILES}" if profiles < MIN_PROFILES else None
    figures = {}
    for name in SUMMARY_FIGURES:
        entry = info.get("figures", {}).get(ALIGNMENT_PREFIX + name)
        figures[name] = (
            {key: entry[key] for key in ("estimate", "interval", "se", "flag")}
            if entry is not None
            else {"estimate": overall[ALIGNMENT_PREFIX + name], "interval": None, "flag": flag}
        )
    k = frame["num_options"].to_numpy()
    floor = {name: float(v.mean()) for name, v in human_floor(frame[COUNTS].tolist(), k, seed=seed).items()}
    scores = row_scores(frame["distribution"].tolist(), frame[COUNTS].tolist(), k)
    uniform = float(scores["uniform_total_variation"].mean())
    floor |= {"simbench_score": float(simbench_score(floor["total_variation"], uniform))}
    floor["opinionsqa_alignment"] = 1 - floor["wasserstein"]
    return {
        "rows": len(frame),
        "rows_without_distribution": missing,
        "profiles": profiles,
        "median_support": float(np.median(frame["support"])),
        "figures": figures,
        "human_floor": floor,
        "uniform_total_variation": uniform,
        "kl_epsilon": KL_EPSILON,
        "floor_draws": FLOOR_DRAWS,
    }
