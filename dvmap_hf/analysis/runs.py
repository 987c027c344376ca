"""The analyses of evaluation runs: semantic distance of the cross-value questions (App. J) and answer
entropy vs accuracy per question (Sec. 5.3). Each returns an `AnalysisResult`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..data.codebook import CROSS_VALUE_QUESTIONS, QUESTIONS, TRAINING_QUESTIONS
from ..errors import DvmapError
from ..options import OptionError
from ..paper import paper
from . import AnalysisResult
from .plots import pyplot


def embed_texts(texts: list[str], embedder: str | Path) -> np.ndarray:
    """Mean-pooled last hidden states of a local HF model (or a sentence-transformers folder)."""
    embedder = Path(embedder)
    if not embedder.is_dir():
        raise OptionError("embedder", f"{embedder}: not a local model folder")
    if (embedder / "modules.json").is_file():
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise OptionError(
                "embedder",
                f"{embedder} is a sentence-transformers folder: "
                "pip install sentence-transformers (or pass a plain HF model folder)",
            ) from exc

        return np.asarray(SentenceTransformer(str(embedder)).encode(texts))
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer, model = AutoTokenizer.from_pretrained(embedder), AutoModel.from_pretrained(embedder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return ((hidden * mask).sum(1) / mask.sum(1)).numpy()


def _accuracy_per_question(run: str | Path) -> dict[str, float]:
    """Per-question accuracy of a finished cross_value run (the questions semantic distance is about)."""
    from ..evaluation.report import read_metrics

    metrics = read_metrics(run)
    if metrics["run"]["config"] != "cross_value":
        raise DvmapError(f"{run}: a run of {metrics['run']['config']}; the semantic analysis needs cross_value runs")
    return {q: s["accuracy"] for q, s in metrics["per_question"].items()}


def _question_texts(dataset: str | Path | None) -> dict[str, str]:
    """Question wording from a dataset folder (e.g. an imported release), else from the codebook."""
    texts = {q.id: q.text for q in QUESTIONS.values()}
    if dataset is not None:
        from ..data.folder import load_split

        for config, split in (("corpus", "train"), ("cross_value", "test")):
            frame = load_split(dataset, config, split).select_columns(["question_id", "question"]).to_pandas()
            texts |= dict(zip(frame["question_id"], frame["question"], strict=True))
    return texts


def semantic(
    embedder: str | Path, run: str | Path | None, base_run: str | Path | None, dataset: str | Path | None
) -> AnalysisResult:
    train, cross = list(TRAINING_QUESTIONS), list(CROSS_VALUE_QUESTIONS)
    texts = _question_texts(dataset)
    vectors = embed_texts([texts[q.id] for q in train + cross], embedder)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    distance = 1.0 - vectors[len(train) :] @ vectors[: len(train)].T
    table = pd.DataFrame(
        {
            "question_id": [q.id for q in cross],
            "nearest_training_question": [train[i].id for i in distance.argmin(1)],
            "nearest_distance": distance.min(1),
            "average_distance": distance.mean(1),
        }
    )
    summary = f"# Semantic distance of the cross-value questions (embedder `{Path(embedder).name}`)\n"
    if run is not None and base_run is not None:
        from scipy.stats import pearsonr

        after, before = _accuracy_per_question(run), _accuracy_per_question(base_run)
        table["accuracy_gain"] = [after.get(q, np.nan) - before.get(q, np.nan) for q in table["question_id"]]
        known = table.dropna(subset=["accuracy_gain"])
        for column in ("nearest_distance", "average_distance"):
            if len(known) >= 3 and known["accuracy_gain"].nunique() > 1:
                r, p = pearsonr(known[column], known["accuracy_gain"])
                summary += f"\nPearson r, accuracy gain vs {column}: {r:.3f} (p = {p:.3g})"
        summary += (
            f"\n(paper: {paper('semantic_r_average')} with the average distance, "
            f"{paper('semantic_r_nearest')} with the nearest)"
        )
    fig, ax = pyplot().subplots(figsize=(5, 3.5))
    ax.scatter(table["nearest_distance"], table["average_distance"])
    for _, row in table.iterrows():
        ax.annotate(row["question_id"], (row["nearest_distance"], row["average_distance"]), fontsize=8)
    ax.set(xlabel="nearest distance", ylabel="average distance", title="Cross-value questions")
    fig.tight_layout()
    return AnalysisResult("semantic", table, summary, {"semantic.png": fig})


def difficulty(run: str | Path) -> AnalysisResult:
    from ..evaluation.runner import evaluated_frame
    from ..evaluation.scoring import entropy_vs_accuracy

    frame = evaluated_frame(run)
    result = entropy_vs_accuracy(frame)
    table = pd.DataFrame(result["per_question"])
    r = "n/a" if result["pearson_r"] is None else f"{result['pearson_r']:.3f} (p = {result['p_value']:.3g})"
    summary = f"""# Entropy vs accuracy per question ({run})

Pearson r = {r} over {len(table)} questions and {len(frame):,} rows (paper: {paper("difficulty_r")}).
"""
    fig, ax = pyplot().subplots(figsize=(5, 3.5))
    ax.scatter(table["entropy"], 100 * table["accuracy"])
    for _, row in table.iterrows():
        ax.annotate(row["question_id"], (row["entropy"], 100 * row["accuracy"]), fontsize=8)
    ax.set(xlabel="answer entropy (nats)", ylabel="accuracy (%)", title=f"r = {r.split(' ')[0]}")
    fig.tight_layout()
    return AnalysisResult("difficulty", table, summary, {"difficulty.png": fig})
