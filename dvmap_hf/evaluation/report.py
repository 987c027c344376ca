"""Scores, breakdowns, the markdown report, plots, and the paper-style table over several runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DvmapError
from ..io import atomic_file
from ..paper import paper
from .metrics import (
    accuracy,
    distribution_distances,
    entropy,
    invalid_rate,
    likert_consistency,
    wasserstein_distance,
)

METRICS_FILE = "metrics.json"


def _scores(frame: pd.DataFrame) -> dict:
    pred, ref, k = frame["parsed"].to_numpy(), frame["answer_index"].to_numpy(), frame["num_options"].to_numpy()
    groups = (frame["country"] + "|" + frame["question_id"]).tolist()
    probabilities = frame["option_probs"].tolist() if "option_probs" in frame else None
    return {
        "rows": int(len(frame)),
        "accuracy": accuracy(pred, ref, k),
        "likert_consistency": likert_consistency(pred, ref, k),
        "wasserstein_distance": wasserstein_distance(pred, ref, k, groups)["wasserstein_distance"],
        **distribution_distances(pred, ref, k, groups, probabilities),
        "invalid_rate": invalid_rate(pred),
    }


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


def accuracy_by_match(frame: pd.DataFrame) -> dict[str, float]:
    """Accuracy under each answer-matching rule (`parsed_<rule>` columns), whichever the run scores with."""
    ref = frame["answer_index"].to_numpy()
    return {
        column.removeprefix("parsed_"): float(np.mean(frame[column].to_numpy() == ref)) if len(frame) else 0.0
        for column in frame.columns
        if column.startswith("parsed_")
    }


def score(frame: pd.DataFrame) -> dict:
    """Overall scores, breakdowns per country / category / question, and entropy vs accuracy."""
    return {
        "overall": _scores(frame),
        "accuracy_by_match": accuracy_by_match(frame),
        "per_country": _breakdown(frame, "country"),
        "per_category": _breakdown(frame, "category"),
        "per_question": _breakdown(frame, "question_id"),
        "entropy_vs_accuracy": entropy_vs_accuracy(frame),
    }


def _table(rows: dict[str, dict], label: str) -> str:
    lines = [f"| {label} | rows | Acc | LC | WD | invalid |", "|---|---:|---:|---:|---:|---:|"]
    for key, s in rows.items():
        lines.append(
            f"| {key} | {s['rows']} | {s['accuracy']:.1%} | {s['likert_consistency']:.1%} | "
            f"{s['wasserstein_distance']:.4f} | {s['invalid_rate']:.1%} |"
        )
    return "\n".join(lines)


def markdown_report(metrics: dict) -> str:
    run, ent = metrics["run"], metrics["entropy_vs_accuracy"]
    r = (
        "n/a (needs >= 3 questions with varying entropy and accuracy)"
        if ent["pearson_r"] is None
        else (f"{ent['pearson_r']:.3f} (p = {ent['p_value']:.3g}; paper: {paper('difficulty_r')})")
    )
    return f"""# dvmap eval: {run["model"]} on {run["dataset"]} / {run["config"]}

Scoring `{run.get("scoring", "generate")}` ({SCORING_NOTE[run.get("scoring", "generate")]}); prompts
as {run.get("prompt_format", "chat messages")}.
Backend `{run["backend"]}`, {run["rows"]} rows, temperature {run["generation"]["temperature"]}
{"(greedy)" if run["generation"]["greedy"] else ""}, top_p {run["generation"].get("top_p")}, top_k
{run["generation"].get("top_k")}, seed {run["generation"]["seed"]}. Answers matched with the
`{run.get("match", "strict")}` rule. WD is normalised by K - 1 over country x question groups; invalid
answers score 0 in Acc and LC.

Accuracy under each answer-matching rule (strict: the kit's exact match; release: the authors'
evaluation script, which also credits an answer containing exactly one option):
{", ".join(f"{rule} {acc:.1%}" for rule, acc in metrics.get("accuracy_by_match", {}).items())}.

## Overall

{_table({"all": metrics["overall"]}, "rows")}

{_distances(metrics["overall"])}

## Per country

{_table(metrics["per_country"], "country")}

![per-country accuracy](per_country_accuracy.png)

## Per category

{_table(metrics["per_category"], "category")}

![per-category accuracy](per_category_accuracy.png)

## Per question

{_table(metrics["per_question"], "question")}

Entropy of the answer distribution vs accuracy, per question: Pearson r = {r}.
"""


SCORING_NOTE = {
    "generate": "a sampled completion, parsed",
    "loglik": "each option's log-likelihood as the answer; the most probable option is the prediction",
}


def _distances(overall: dict) -> str:
    """The distribution distances of the run, as a sentence."""
    text = (
        "Distribution distances, per country x question group, averaged over groups: total variation "
        f"{overall['total_variation']:.4f}, Jensen-Shannon distance (log base 2) {overall['jensen_shannon']:.4f}"
    )
    if "soft_total_variation" in overall:
        text += (
            "; from the mean predicted option probabilities (soft): total variation "
            f"{overall['soft_total_variation']:.4f}, Jensen-Shannon {overall['soft_jensen_shannon']:.4f}"
        )
    return text + "."


def _bar_plot(path: Path, scores: dict[str, dict], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(scores)
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(labels) + 2), 4))
    ax.bar(range(len(labels)), [100 * s["accuracy"] for s in scores.values()], color="#4C72B0")
    ax.set_xticks(range(len(labels)), [label[:28] for label in labels], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def write_report(out: Path, metrics: dict, frame: pd.DataFrame) -> None:
    with atomic_file(out / METRICS_FILE) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2, default=_plain) + "\n")
    _bar_plot(out / "per_country_accuracy.png", metrics["per_country"], "Accuracy per country")
    _bar_plot(out / "per_category_accuracy.png", metrics["per_category"], "Accuracy per category")
    with atomic_file(out / "report.md") as tmp:
        tmp.write_text(markdown_report(metrics))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _model_name(model: str) -> str:
    """A local checkpoint shows as its folder name; Hub ids and predictor names as they are."""
    return Path(model).name if Path(model).is_dir() else model


def read_metrics(run: str | Path) -> dict:
    """The metrics.json of a finished run folder."""
    path = Path(run) / METRICS_FILE
    if not path.is_file():
        raise DvmapError(f"{run}: no {METRICS_FILE} (not a finished dvmap eval run)")
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise DvmapError(f"{path}: not valid JSON ({exc}); evaluate the run again to rewrite it") from None


def paper_table(runs: list[dict]) -> str:
    """The paper-style table (model, Acc, LC, WD, invalid) over runs' metrics, as markdown."""
    lines = ["| model | config | rows | Acc | LC | WD | invalid |", "|---|---|---:|---:|---:|---:|---:|"]
    for metrics in runs:
        s, info = metrics["overall"], metrics["run"]
        lines.append(
            f"| {_model_name(info['model'])} | {info['config']} | {s['rows']} | {100 * s['accuracy']:.1f} | "
            f"{100 * s['likert_consistency']:.1f} | {s['wasserstein_distance']:.4f} | "
            f"{100 * s['invalid_rate']:.1f} |"
        )
    return "\n".join(lines)
