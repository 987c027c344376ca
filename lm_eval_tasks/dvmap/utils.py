"""lm-evaluation-harness tasks for the DVMap benchmark configs, scored with dvmap-hf's own parser and metrics.

Three variants per config: `dvmap_<config>` generates and parses an `<answer>` (Acc, LC, WD, TV, JS, and the
authors' lenient accuracy); `dvmap_<config>_mc` scores each option's log-likelihood as the answer (the same
metrics, the soft distribution distances too); `dvmap_<config>_distribution`, on a build with answer counts
(`--consensus distribution`, `--survey`), scores each row's option probabilities against its profile's answer
counts (`evaluation/alignment`: TV, JS, WD, KL, Brier, OpinionsQA alignment, SimBench, ECE). The rows come
from a `dvmap build` folder or Hub repo, `--metadata '{"dataset": "PATH"}'` (default `dvmap`), optionally a
seeded sample as `dvmap eval --limit N --seed S` draws it: `"limit": N, "seed": S`.
"""

from __future__ import annotations

from datasets import DatasetDict

from dvmap_hf.data.prompts import answer_text, plain_prompt
from dvmap_hf.evaluation.alignment import SUMMARY_FIGURES, row_scores, summary
from dvmap_hf.evaluation.loglik import option_probabilities
from dvmap_hf.evaluation.metrics import distribution_distances, wasserstein_distance
from dvmap_hf.evaluation.parsing import parse_answer


def load(dataset: str = "dvmap", config: str = "cross_value", limit: int | None = None, seed: int = 0, **_):
    """`custom_dataset`: the config's test split (the same seeded sample as `dvmap eval` with `limit`)."""
    from dvmap_hf.data.folder import load_split
    from dvmap_hf.data.sampling import sample_rows

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"dvmap task metadata: limit must be a whole number >= 1 (or absent), not {limit!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"dvmap task metadata: seed must be a whole number, not {seed!r}")

    return DatasetDict({"test": sample_rows(load_split(dataset, config, "test"), limit, seed)})


def doc_to_text(doc: dict) -> str:
    """The user message (generation, under --apply_chat_template; a system message of the row is passed
    with --system_instruction)."""
    return doc["prompt"][-1]["content"]


def doc_to_text_plain(doc: dict) -> str:
    """The whole conversation as one text (log-likelihood): what `dvmap eval --no-chat-template` scores."""
    return plain_prompt(doc["prompt"])


def doc_to_choice(doc: dict) -> list[str]:
    return [answer_text(option) for option in doc["options"]]


def _row_metrics(doc: dict, parsed: int, completion: str | None = None, probs: list[float] | None = None) -> dict:
    gold, k = doc["answer_index"], doc["num_options"]
    item = {"group": f"{doc['country']}|{doc['question_id']}", "parsed": parsed, "gold": gold, "k": k}
    item |= {"id": doc["id"], "profile": doc["profile_id"]}
    metrics = {
        "acc": float(parsed == gold),
        "lc": 0.0 if parsed < 0 else 1.0 - abs(parsed - gold) / (k - 1),
        "wd": item,
        "tv": item,
        "js": item,
    }
    if completion is not None:
        item["release"] = parse_answer(completion, doc["options"], match="release")
        metrics["acc_release"] = float(item["release"] == gold)
    if probs is not None:
        item["probs"] = probs
        metrics |= {"soft_tv": item, "soft_js": item}
    return metrics | {f"{name}_se": item for name in metrics}


def process_generation(doc: dict, results: list[str]) -> dict:
    return _row_metrics(doc, parse_answer(results[0], doc["options"]), completion=results[0])


def process_loglik(doc: dict, results: list) -> dict:
    logprobs = [loglik for loglik, _ in results]
    probs = option_probabilities(logprobs)
    return _row_metrics(doc, max(range(len(probs)), key=lambda i: (logprobs[i], -i)), probs=probs)


def _columns(items: list[dict]) -> tuple[list, list, list, list]:
    return (
        [i["parsed"] for i in items],
        [i["gold"] for i in items],
        [i["k"] for i in items],
        [i["group"] for i in items],
    )


def wd(items: list[dict]) -> float:
    return wasserstein_distance(*_columns(items))["wasserstein_distance"]


def tv(items: list[dict]) -> float:
    return distribution_distances(*_columns(items))["total_variation"]


def js(items: list[dict]) -> float:
    return distribution_distances(*_columns(items))["jensen_shannon"]


def soft_tv(items: list[dict]) -> float:
    return distribution_distances(*_columns(items), [i["probs"] for i in items])["soft_total_variation"]


def soft_js(items: list[dict]) -> float:
    return distribution_distances(*_columns(items), [i["probs"] for i in items])["soft_jensen_shannon"]


#: The kit's name of each task metric, for its profile-bootstrap standard error (`<metric>_se`).
FIGURE_OF = {
    "acc": "accuracy",
    "acc_release": "accuracy_release",
    "lc": "likert_consistency",
    "wd": "wasserstein_distance",
    "tv": "total_variation",
    "js": "jensen_shannon",
    "soft_tv": "soft_total_variation",
    "soft_js": "soft_jensen_shannon",
}
SE_RESAMPLES = 200


def _standard_error(items: list[dict], metric: str) -> float:
    """The metric's standard error from a seeded bootstrap over profiles (rows of one profile are not
    independent), as `dvmap eval` resamples; NaN where `dvmap eval` withholds the figure's interval (too
    few profiles, too small groups, or a distance's bias too large: `statistics.support_flags`). The
    harness gives none for custom aggregations and a row-level one for means."""
    from dvmap_hf.evaluation.statistics import RunRows, intervals

    rows = RunRows.from_columns(
        [i["id"] for i in items],
        [i["profile"] for i in items],
        *_columns(items),
        {"release": [i["release"] for i in items]} if "release" in items[0] else None,
        [i["probs"] for i in items] if "probs" in items[0] else None,
    )
    summary = intervals(rows, SE_RESAMPLES, 0)["figures"][FIGURE_OF[metric]]
    return float("nan") if summary["flag"] else summary["se"]


def _se(metric: str):
    """The `<metric>_se` aggregation a task YAML names (`!function utils.wd_se`)."""

    def standard_error(items: list[dict]) -> float:
        return _standard_error(items, metric)

    standard_error.__name__ = f"{metric}_se"
    return standard_error


acc_se, acc_release_se, lc_se, wd_se, tv_se, js_se, soft_tv_se, soft_js_se = map(_se, FIGURE_OF)


def process_distribution(doc: dict, results: list) -> dict:
    """Each row's option probabilities (from the options' log-likelihoods) beside its answer counts, for every
    alignment figure's aggregation."""
    if doc.get("answer_counts") is None:
        raise ValueError(
            f"row {doc['id']} has no answer_counts: the distribution tasks need a build with them "
            "(dvmap build --consensus distribution, or --survey)"
        )
    item = {"probs": option_probabilities([loglik for loglik, _ in results]), "counts": doc["answer_counts"]}
    return {name: item for name in SUMMARY_FIGURES}


def _alignment(name: str):
    """The aggregation of one alignment figure over a task's rows (`!function utils.alignment_tv`, ...)."""

    def aggregate(items: list[dict]) -> float:
        counts = [i["counts"] for i in items]
        return summary(row_scores([i["probs"] for i in items], counts, [len(c) for c in counts]))[name]

    aggregate.__name__ = f"alignment_{name}"
    return aggregate


(
    alignment_total_variation,
    alignment_jensen_shannon,
    alignment_wasserstein,
    alignment_kl,
    alignment_brier_mode,
    alignment_opinionsqa_alignment,
    alignment_simbench_score,
    alignment_ece_mode,
) = map(_alignment, SUMMARY_FIGURES)
