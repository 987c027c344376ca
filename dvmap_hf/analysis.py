"""The paper's analyses as commands (`dvmap analyze ...`), each writing CSV + PNG + a markdown summary.

- entropy (Fig. 1a-b): Shannon entropy (natural log) of each value question's answers within a country;
- importance (Fig. 1c): random forest per question on the one-hot 11 attributes, mean-decrease-impurity
  summed over each attribute's one-hot columns;
- consensus (Sec. 3): per country, respondents sharing their profile and (profile, question) pairs the
  strict filter drops, for several --min-support values;
- semantic (App. J): cosine distances of each cross-value question to the training questions (nearest and
  average) from a local embedding model, and Pearson r with accuracy gains between two runs;
- difficulty (Sec. 5.3): per question, answer entropy in the evaluated split vs the run's accuracy.
All read WVS files through the builder's reader, profiles and consensus code: no second implementation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .codebook import ATTRIBUTE_NAMES, CROSS_VALUE_QUESTIONS, QUESTIONS, TRAINING_QUESTIONS
from .consensus import answer_matrix, consensus_stats, pair_table
from .errors import DvmapError
from .io import atomic_file
from .metrics import entropy
from .profiles import profile_frame
from .wvs import WVSData, read_wvs


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    _plt().close(fig)


def _write(out: Path, name: str, frame: pd.DataFrame, summary: str) -> None:
    with atomic_file(out / f"{name}.csv") as tmp:
        frame.to_csv(tmp, index=False)
    with atomic_file(out / f"{name}.md") as tmp:
        tmp.write_text(summary.strip() + "\n")


def _answers(wvs: str | Path) -> tuple[WVSData, np.ndarray]:
    data = read_wvs(wvs)
    return data, answer_matrix(data, list(QUESTIONS.values()))


def analyze_entropy(wvs: str | Path, country: str, out: str | Path) -> pd.DataFrame:
    out = Path(out)
    data, answers = _answers(wvs)
    codes = data.codes
    if country not in set(codes["country"]):
        raise DvmapError(f"{wvs}: --country {country} is not in the file")
    mine = answers[(codes["country"] == country).to_numpy()]
    rows = []
    for j, question in enumerate(QUESTIONS.values()):
        valid = mine[:, j][mine[:, j] >= 0]
        if len(valid):
            counts = np.bincount(valid, minlength=len(question.options))
            rows.append(
                {
                    "question_id": question.id,
                    "respondents": len(valid),
                    "entropy": entropy(counts),
                    "max_entropy": float(np.log(len(question.options))),
                    "counts": counts.tolist(),
                }
            )
    table = pd.DataFrame(rows).sort_values("entropy", ascending=False)
    top = table.iloc[0]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(table["entropy"], bins=12, color="#4C72B0")
    ax.axvline(1.0, color="grey", linestyle="--")
    ax.set(xlabel="entropy (nats)", ylabel="questions", title=f"Answer entropy per question, {country}")
    fig.tight_layout()
    _save(fig, out / "entropy_histogram.png")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    options = QUESTIONS[top["question_id"]].options
    ax.bar(range(len(options)), np.asarray(top["counts"]) / top["respondents"], color="#DD8452")
    ax.set_xticks(range(len(options)), options, rotation=25, ha="right", fontsize=8)
    ax.set(ylabel="share", title=f"{top['question_id']} in {country}: H = {top['entropy']:.2f}")
    fig.tight_layout()
    _save(fig, out / "highest_entropy_question.png")
    share = float((table["entropy"] > 1.0).mean())
    _write(
        out,
        "entropy",
        table,
        f"""# Answer entropy within {country}

{len(table)} questions; entropy in nats (natural log). Share with H > 1.0: {share:.1%}.
Highest: {top["question_id"]} (H = {top["entropy"]:.3f} of at most {top["max_entropy"]:.3f}).
""",
    )
    return table


def analyze_importance(wvs: str | Path, out: str | Path, seed: int = 0, trees: int = 100) -> pd.DataFrame:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.preprocessing import OneHotEncoder

    if trees < 1:
        raise DvmapError(f"--trees must be >= 1, not {trees}")
    out = Path(out)
    data, answers = _answers(wvs)
    profiles = profile_frame(data)
    encoder = OneHotEncoder(handle_unknown="ignore")
    features = encoder.fit_transform(profiles[list(ATTRIBUTE_NAMES)].astype(str))
    owner = np.repeat(np.arange(len(ATTRIBUTE_NAMES)), [len(c) for c in encoder.categories_])
    rows = []
    for j, question in enumerate(QUESTIONS.values()):
        valid = answers[:, j] >= 0
        if valid.sum() < 20 or len(np.unique(answers[valid, j])) < 2:
            continue
        forest = RandomForestClassifier(n_estimators=trees, random_state=seed, n_jobs=-1, min_samples_leaf=2)
        forest.fit(features[valid], answers[valid, j])
        per_attribute = np.bincount(owner, weights=forest.feature_importances_, minlength=len(ATTRIBUTE_NAMES))
        rows.append({"question_id": question.id, **dict(zip(ATTRIBUTE_NAMES, per_attribute, strict=True))})
    table = pd.DataFrame(rows)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(table) + 2))
    image = ax.imshow(table[list(ATTRIBUTE_NAMES)].to_numpy(), cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(ATTRIBUTE_NAMES)), ATTRIBUTE_NAMES, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(table)), table["question_id"], fontsize=8)
    fig.colorbar(image, label="importance (MDI)")
    ax.set_title("Attribute importance per question (random forest)")
    fig.tight_layout()
    _save(fig, out / "importance_heatmap.png")
    lines = []
    for _, row in table.iterrows():
        rivals = {r: row[r] for r in ("religion", "income_bracket", "occupation")}
        verdict = ", ".join(f"{'above' if row['country'] > v else 'below'} {r}" for r, v in rivals.items())
        lines.append(
            f"- {row['question_id']}: country ranks {verdict}; most important: "
            f"{max(ATTRIBUTE_NAMES, key=lambda a: row[a])}"
        )
    _write(
        out,
        "importance",
        table,
        f"""# Attribute importance (random forest, seed {seed}, {trees} trees)

One-hot attributes; mean-decrease-impurity summed over each attribute's columns.

{chr(10).join(lines)}
""",
    )
    return table


def analyze_consensus(wvs: str | Path, out: str | Path, min_supports: tuple[int, ...] = (1, 2, 3, 5)) -> pd.DataFrame:
    out = Path(out)
    data = read_wvs(wvs)
    profiles = profile_frame(data)
    answers = answer_matrix(data, list(TRAINING_QUESTIONS))
    rows = []
    for country in sorted(set(data.codes["country"])):
        mine = (data.codes["country"] == country).to_numpy()
        codes = pd.factorize(profiles.loc[mine, "profile_key"])[0]
        table = pair_table(codes, answers[mine])
        for support in min_supports:
            stats = consensus_stats(codes, table, "strict", support)
            rows.append(
                {
                    "country": country,
                    "min_support": support,
                    **stats,
                    "share_pairs_kept": stats["pairs_kept"] / max(stats["pairs"], 1),
                }
            )
    frame = pd.DataFrame(rows)
    first = frame[frame["min_support"] == min_supports[0]]
    _write(
        out,
        "consensus",
        frame,
        f"""# Consensus per country (strict filter, training questions)

Paper: 32.8% of respondents share their profile; 9.2% of divergent samples dropped.
Here (min support {min_supports[0]}), mean over countries: {first["share_respondents_with_shared_profile"].mean():.1%}
of respondents share their profile; {first["share_pairs_divergent"].mean():.1%} of (profile, question) pairs
are divergent. `share_pairs_kept` shows how --min-support {", ".join(map(str, min_supports))} changes what is kept.
""",
    )
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for support, part in frame.groupby("min_support"):
        ax.plot(part["country"], part["share_pairs_kept"], marker="o", label=f"min support {support}")
    ax.set(ylabel="pairs kept", title="Strict consensus filter per country")
    ax.tick_params(axis="x", rotation=60, labelsize=7)
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, out / "consensus.png")
    return frame


def embed_texts(texts: list[str], embedder: str | Path) -> np.ndarray:
    """Mean-pooled last hidden states of a local HF model (or a sentence-transformers folder)."""
    embedder = Path(embedder)
    if not embedder.is_dir():
        raise DvmapError(f"--embedder {embedder}: not a local model folder")
    if (embedder / "modules.json").is_file():
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise DvmapError(
                f"--embedder {embedder} is a sentence-transformers folder: "
                "pip install sentence-transformers (or pass a plain HF model folder)"
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
    metrics = json.loads((Path(run) / "metrics.json").read_text())
    return {q: s["accuracy"] for q, s in metrics["per_question"].items()}


def _question_texts(dataset: str | Path | None) -> dict[str, str]:
    """Question wording from a dataset folder (e.g. an imported release), else from the codebook."""
    texts = {q.id: q.text for q in QUESTIONS.values()}
    if dataset is not None:
        from .dataset_folder import load_split

        for config, split in (("corpus", "train"), ("cross_value", "test")):
            frame = load_split(dataset, config, split).select_columns(["question_id", "question"]).to_pandas()
            texts |= dict(zip(frame["question_id"], frame["question"], strict=True))
    return texts


def analyze_semantic(
    embedder: str | Path,
    out: str | Path,
    run: str | Path | None = None,
    base_run: str | Path | None = None,
    dataset: str | Path | None = None,
) -> pd.DataFrame:
    out = Path(out)
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
        summary += "\n(paper: -0.451 with the average distance, -0.198 with the nearest)"
    _write(out, "semantic", table, summary)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.scatter(table["nearest_distance"], table["average_distance"])
    for _, row in table.iterrows():
        ax.annotate(row["question_id"], (row["nearest_distance"], row["average_distance"]), fontsize=8)
    ax.set(xlabel="nearest distance", ylabel="average distance", title="Cross-value questions")
    fig.tight_layout()
    _save(fig, out / "semantic.png")
    return table


def analyze_difficulty(run: str | Path, out: str | Path) -> pd.DataFrame:
    from .evaluation import evaluated_frame
    from .report import entropy_vs_accuracy

    out = Path(out)
    result = entropy_vs_accuracy(evaluated_frame(run))
    table = pd.DataFrame(result["per_question"])
    r = "n/a" if result["pearson_r"] is None else f"{result['pearson_r']:.3f} (p = {result['p_value']:.3g})"
    _write(
        out,
        "difficulty",
        table,
        f"""# Entropy vs accuracy per question ({run})

Pearson r = {r} (paper: -0.857).
""",
    )
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.scatter(table["entropy"], 100 * table["accuracy"])
    for _, row in table.iterrows():
        ax.annotate(row["question_id"], (row["entropy"], 100 * row["accuracy"]), fontsize=8)
    ax.set(xlabel="answer entropy (nats)", ylabel="accuracy (%)", title=f"r = {r.split(' ')[0]}")
    fig.tight_layout()
    _save(fig, out / "difficulty.png")
    return table
