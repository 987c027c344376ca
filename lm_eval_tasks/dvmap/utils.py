"""lm-evaluation-harness tasks for the DVMap benchmark configs, scored with dvmap-hf's own parser and metrics.

Two variants per config: `dvmap_<config>` generates and parses an `<answer>` (Acc, LC, WD, TV, JS, and the
authors' lenient accuracy); `dvmap_<config>_mc` scores each option's log-likelihood as the answer (the same
metrics, the soft distribution distances too). The rows come from a `dvmap build` folder or Hub repo,
`--metadata '{"dataset": "PATH"}'` (default `dvmap`), optionally a seeded sample as `dvmap eval --limit N
--seed S` draws it: `"limit": N, "seed": S`.
"""

from __future__ import annotations

from datasets import DatasetDict

from dvmap_hf.data.prompts import answer_text, plain_prompt
from dvmap_hf.evaluation.loglik import option_probabilities
from dvmap_hf.evaluation.metrics import distribution_distances, wasserstein_distance
from dvmap_hf.evaluation.parsing import parse_answer


def load(dataset: str = "dvmap", config: str = "cross_value", limit: int | None = None, seed: int = 0, **_):
    """`custom_dataset`: the config's test split (the same seeded sample as `dvmap eval` with `limit`)."""
    from dvmap_hf.data.folder import load_split
    from dvmap_hf.data.sampling import sample_rows

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
    metrics = {
        "acc": float(parsed == gold),
        "lc": 0.0 if parsed < 0 else 1.0 - abs(parsed - gold) / (k - 1),
        "wd": item,
        "tv": item,
        "js": item,
    }
    if completion is not None:
        metrics["acc_release"] = float(parse_answer(completion, doc["options"], match="release") == gold)
    if probs is not None:
        metrics |= {"soft_tv": {**item, "probs": probs}, "soft_js": {**item, "probs": probs}}
    return metrics


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
