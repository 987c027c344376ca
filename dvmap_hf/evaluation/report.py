"""How a run reads: the markdown report, plots, metrics.json read back, and the paper-style table over runs
(the figures themselves come from `scoring.py`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DvmapError
from ..io import atomic_file
from ..paper import paper
from .statistics import DISTANCE_NOTE

METRICS_FILE = "metrics.json"


def _table(rows: dict[str, dict], label: str) -> str:
    lines = [f"| {label} | rows | Acc | LC | WD | invalid |", "|---|---:|---:|---:|---:|---:|"]
    for key, s in rows.items():
        lines.append(
            f"| {key} | {s['rows']} | {s['accuracy']:.1%} | {s['likert_consistency']:.1%} | "
            f"{s['wasserstein_distance']:.4f} | {s['invalid_rate']:.1%} |"
        )
    return "\n".join(lines)


def _overall_table(metrics: dict) -> str:
    """The run's overall figures as the paper-style tables print them, with their intervals and notes."""
    s = metrics["overall"]
    lines = ["| rows | Acc | LC | WD | invalid |", "|---:|---:|---:|---:|---:|"]
    acc, lc = figure_cell(metrics, "accuracy", 100, 1), figure_cell(metrics, "likert_consistency", 100, 1)
    wd = figure_cell(metrics, "wasserstein_distance", 1, 4)
    lines.append(f"| {s['rows']} | {acc} | {lc} | {wd} | {100 * s['invalid_rate']:.1f} |")
    note = interval_note([metrics])
    return "\n".join(lines) + (f"\n\n{note}." if note else "")


def _decoding(generation: dict) -> str:
    """How the answers were decoded, as one unbroken phrase (values never split from their names)."""
    if generation["greedy"]:
        return f"greedy decoding, seed {generation['seed']}"
    settings = (generation["temperature"], generation.get("top_p"), generation.get("top_k"), generation["seed"])
    return "temperature {}, top_p {}, top_k {}, seed {}".format(*settings)


def markdown_report(metrics: dict) -> str:
    run, ent, group = metrics["run"], metrics["entropy_vs_accuracy"], metrics.get("group", "country")
    r = (
        "n/a (needs >= 3 questions with varying entropy and accuracy)"
        if ent["pearson_r"] is None
        else (f"{ent['pearson_r']:.3f} (p = {ent['p_value']:.3g}; paper: {paper('difficulty_r')})")
    )
    return f"""# dvmap eval: {run["model"]} on {run["dataset"]} / {run["config"]}

Scoring `{run.get("scoring", "generate")}` ({SCORING_NOTE[run.get("scoring", "generate")]}){_route(run)}; prompts
as {run.get("prompt_format", "chat messages")}.
Backend `{run["backend"]}`, {run["rows"]} rows, {_decoding(run["generation"])}.
Answers matched with the `{run.get("match", "strict")}` rule. WD is normalised by K - 1 over {group} x
question groups; invalid answers score 0 in Acc and LC.

Accuracy under each answer-matching rule (strict: the kit's exact match; release: the authors'
evaluation script, which also credits an answer containing exactly one option):
{", ".join(f"{rule} {acc:.1%}" for rule, acc in metrics.get("accuracy_by_match", {}).items())}.

## Overall

{_overall_table(metrics)}

{_distances(metrics["overall"], group)}

{_intervals(metrics.get("intervals", {}))}
{_alignment_section(metrics)}
The breakdowns below give plug-in figures without intervals: a distance over a few small groups there is
biased upward.

## Per {group}

{_table(metrics[f"per_{group}"], group)}

![per-{group} accuracy](per_{group}_accuracy.png)

## Per category

{_table(metrics["per_category"], "category")}

![per-category accuracy](per_category_accuracy.png)

## Per question

{_table(metrics["per_question"], "question")}

Entropy of the answer distribution vs accuracy, per question: Pearson r = {r}.
"""


def _route(run: dict) -> str:
    """The distribution route and the control, where the run used them."""
    text = (
        f", {run['samples']} completions a row (their answers' shares are its distribution)"
        if "samples" in run
        else ""
    )
    if run.get("profiles") == "shuffled":
        text += ", each row asked with another profile of its question (the conditioning control)"
    return text


SCORING_NOTE = {
    "generate": "a sampled completion, parsed",
    "loglik": "each option's log-likelihood as the answer; the most probable option is the prediction",
    "stated": "the model states a percentage per option; the largest is the prediction, a reply that states no "
    "distribution is invalid",
}


def _distances(overall: dict, group: str = "country") -> str:
    """The distribution distances of the run, as a sentence."""
    text = (
        f"Distribution distances (plug-in), per {group} x question group, averaged over groups: total variation "
        f"{overall['total_variation']:.4f}, Jensen-Shannon distance (log base 2) {overall['jensen_shannon']:.4f}"
    )
    if "soft_total_variation" in overall:
        text += (
            "; from the mean predicted option probabilities (soft): total variation "
            f"{overall['soft_total_variation']:.4f}, Jensen-Shannon {overall['soft_jensen_shannon']:.4f}"
        )
    return text + "."


def _intervals(info: dict) -> str:
    """The overall figures' estimates and intervals, as a sentence naming the method."""
    if not info.get("figures") and not info.get("overall"):
        return "No intervals (`--bootstrap 0`)."
    if not info.get("figures"):  # a run written before the kit corrected distances
        shown = ", ".join(f"{name} [{lo:.4g}, {hi:.4g}]" for name, (lo, hi) in info["overall"].items())
    else:
        shown = ", ".join(_figure_text(name, s) for name, s in info["figures"].items())
    return (
        f"{info['level']:.0%} intervals ({info['method']}: {info['profiles']} profiles drawn with replacement, "
        f"{info['resamples']:,} resamples, seed {info['seed']}; rows of one profile are not independent; a "
        f"distance is {DISTANCE_NOTE}; its plug-in value and bias are in {METRICS_FILE}): {shown}."
    )


def _figure_text(name: str, summary: dict) -> str:
    if summary["flag"]:
        return f"{name} {summary['estimate']:.4g} (no interval: {summary['flag']})"
    low, high = summary["interval"]
    return f"{name} {summary['estimate']:.4g} [{low:.4g}, {high:.4g}]"


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
    group = metrics.get("group", "country")
    _bar_plot(out / f"per_{group}_accuracy.png", metrics[f"per_{group}"], f"Accuracy per {group}")
    _bar_plot(out / "per_category_accuracy.png", metrics["per_category"], "Accuracy per category")
    with atomic_file(out / "report.md") as tmp:
        tmp.write_text(markdown_report(metrics))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def model_name(model: str) -> str:
    """A local checkpoint shows as its folder name; Hub ids and predictor names as they are."""
    return Path(model).name if Path(model).is_dir() else model


def read_metrics(run: str | Path) -> dict:
    """The metrics.json of a finished run folder."""
    path = Path(run) / METRICS_FILE
    if not path.is_file():
        raise DvmapError(f"{run}: no {METRICS_FILE} (not a finished dvmap eval run)")
    try:
        metrics = json.loads(path.read_text())
    except ValueError as exc:
        raise DvmapError(f"{path}: not valid JSON ({exc}); evaluate the run again to rewrite it") from None
    missing = [k for k in ("overall", "run") if not isinstance(metrics, dict) or not isinstance(metrics.get(k), dict)]
    if missing:
        raise DvmapError(f"{path}: no {' or '.join(missing)} (not written by dvmap eval); evaluate the run again")
    return metrics


def _summary(metrics: dict, name: str) -> dict:
    """A figure as tables print it: its estimate, and its interval or the flag that withholds it (a run
    without a bootstrap, or written before the kit corrected distances, gives its plug-in value)."""
    info = metrics.get("intervals", {})
    if name in info.get("figures", {}):
        return info["figures"][name]
    return {"estimate": metrics["overall"][name], "interval": info.get("overall", {}).get(name), "flag": None}


def figure_cell(metrics: dict, name: str, scale: float, digits: int) -> str:
    """A figure, with its interval when the run has one: `56.7 [54.1, 59.2]`; `0.2700†` where the data
    cannot support it (the flag's reason goes in the table's notes)."""
    summary = _summary(metrics, name)
    text = f"{summary['estimate'] * scale:.{digits}f}"
    if summary["flag"]:
        return text + "†"
    bounds = summary["interval"]
    return text if not bounds else f"{text} [{bounds[0] * scale:.{digits}f}, {bounds[1] * scale:.{digits}f}]"


def interval_note(
    runs: list[dict], shown: tuple[str, ...] = ("accuracy", "likert_consistency", "wasserstein_distance")
) -> str:
    """What the brackets and the daggers of a table mean, or '' when no run has intervals."""
    described = {
        (i["method"], i["resamples"], i["level"])
        for m in runs
        if (i := m.get("intervals", {})).get("overall") or i.get("figures")
    }
    notes = [
        f"[a, b]: {level:.0%} interval, {method} (B = {b:,}): basic for means (Acc, LC); a distance (WD, TV, JS) "
        f"is {DISTANCE_NOTE}"
        for method, b, level in sorted(described)
    ]
    reasons: dict[str, list[str]] = {}
    for metrics in runs:
        for name in shown:
            flag = metrics.get("intervals", {}).get("figures", {}).get(name, {}).get("flag")
            if flag:
                label = f"{LABELS.get(name, name)} of {model_name(metrics['run']['model'])}"
                reasons.setdefault(flag, []).append(label)
    notes += [
        f"†: not supported by the data, no interval ({flag}): {', '.join(labels)}" for flag, labels in reasons.items()
    ]
    return "; ".join(notes)


LABELS = {"accuracy": "Acc", "likert_consistency": "LC", "wasserstein_distance": "WD", "total_variation": "TV"}


#: The distribution-alignment columns of the tables: (figure, header, scale, decimals); lower is better but
#: for SimBench's score and OpinionsQA's alignment.
ALIGNMENT_COLUMNS = (
    ("total_variation", "TV", 1, 3),
    ("jensen_shannon", "JS", 1, 3),
    ("wasserstein", "WD/(K-1)", 1, 3),
    ("kl", "KL", 1, 3),
    ("simbench_score", "SimBench", 1, 1),
    ("opinionsqa_alignment", "OQA align", 1, 3),
    ("brier_mode", "Brier", 1, 3),
    ("ece_mode", "ECE", 1, 3),
)
ALIGNMENT_NOTE = (
    "each row's predicted distribution against its profile's survey answers (`answer_counts`), averaged over "
    "rows; SimBench = 100 (1 - TV / TV of the uniform distribution); Brier and ECE of the probability on the "
    "survey's mode; the human floor is what a model that knew each profile's true distribution would score "
    "against samples of the rows' own sizes"
)


def _alignment_cell(entry: dict, scale: float, decimals: int) -> str:
    value = f"{scale * entry['estimate']:.{decimals}f}"
    if entry.get("interval") is None:
        return value + ("†" if entry.get("flag") else "")
    low, high = (scale * x for x in entry["interval"])
    return f"{value} [{low:.{decimals}f}, {high:.{decimals}f}]"


def alignment_table(runs: list[dict]) -> str:
    """The distribution-alignment table over runs that scored distributions, with the human floor of the first
    run's rows below (empty when no run did)."""
    runs = [m for m in runs if m.get("distribution", {}).get("rows")]
    if not runs:
        return ""
    header = " | ".join(h for _, h, _, _ in ALIGNMENT_COLUMNS)
    lines = [f"| model | config | rows | {header} |", "|---|---|---:|" + "---:|" * len(ALIGNMENT_COLUMNS)]
    for metrics in runs:
        figures, info = metrics["distribution"]["figures"], metrics["run"]
        cells = " | ".join(_alignment_cell(figures[n], scale, d) for n, _, scale, d in ALIGNMENT_COLUMNS)
        lines.append(
            f"| {model_name(info['model'])} | {info['config']} | {metrics['distribution']['rows']} | {cells} |"
        )
    floor = runs[0]["distribution"]["human_floor"]
    cells = " | ".join(f"{floor[n]:.{d}f}" if n in floor else "-" for n, _, _, d in ALIGNMENT_COLUMNS)
    lines.append(f"| human floor | {runs[0]['run']['config']} | {runs[0]['distribution']['rows']} | {cells} |")
    flags = sorted({e["flag"] for m in runs for e in m["distribution"]["figures"].values() if e.get("flag")})
    note = f"{ALIGNMENT_NOTE}" + (f"; †: no interval ({', '.join(flags)})" if flags else "")
    return "\n".join(lines) + f"\n\n{note[0].upper()}{note[1:]}."


def _alignment_section(metrics: dict) -> str:
    if "distribution" not in metrics:
        return ""
    d = metrics["distribution"]
    unknown = f"{d['rows_without_distribution']:,} rows without a distribution (a reply that stated none, or no "
    unknown += "valid sample) are left out."
    if not d["rows"]:
        return f"\n## Distribution alignment\n\nNo row has a distribution: {unknown}\n"
    left_out = f" {unknown}" if d["rows_without_distribution"] else ""
    return f"""
## Distribution alignment

{alignment_table([metrics])}
{d["profiles"]} profiles, median support {d["median_support"]:g} respondents a row; KL smoothed with epsilon
{d["kl_epsilon"]:g}; the floor from {d["floor_draws"]} resamples a row.{left_out}
"""


def paper_table(runs: list[dict]) -> str:
    """The paper-style table (model, Acc, LC, WD, invalid) over runs' metrics, as markdown; each figure with
    its 95% interval where the run has one."""
    lines = ["| model | config | rows | Acc | LC | WD | invalid |", "|---|---|---:|---:|---:|---:|---:|"]
    for metrics in runs:
        s, info = metrics["overall"], metrics["run"]
        lines.append(
            f"| {model_name(info['model'])} | {info['config']} | {s['rows']} | "
            f"{figure_cell(metrics, 'accuracy', 100, 1)} | {figure_cell(metrics, 'likert_consistency', 100, 1)} | "
            f"{figure_cell(metrics, 'wasserstein_distance', 1, 4)} | "
            f"{100 * s['invalid_rate']:.1f} |"
        )
    note = interval_note(runs)
    return "\n".join(lines) + (f"\n\n{note}." if note else "")
