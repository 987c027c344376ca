"""The analyses of a WVS file: answer entropy per question (Fig. 1a-b), attribute importance (Fig. 1c)
and the consensus filter per country (Sec. 4.1). Each returns an `AnalysisResult`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..data.codebook import ATTRIBUTE_NAMES, QUESTIONS, TRAINING_QUESTIONS
from ..data.consensus import answer_matrix, consensus_stats, pair_table
from ..data.profiles import profile_frame
from ..data.wvs import WVSData, read_wvs
from ..evaluation.metrics import entropy
from ..options import OptionError
from ..paper import paper
from . import AnalysisResult
from .plots import pyplot


def _answers(wvs: str | Path) -> tuple[WVSData, np.ndarray]:
    data = read_wvs(wvs)
    return data, answer_matrix(data, list(QUESTIONS.values()))


def answer_entropy(wvs: str | Path, country: str) -> AnalysisResult:
    data, answers = _answers(wvs)
    codes = data.codes
    if country not in set(codes["country"]):
        raise OptionError("country", f"{country} is not in {wvs}")
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
    plt = pyplot()
    histogram, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(table["entropy"], bins=12, color="#4C72B0")
    ax.axvline(1.0, color="grey", linestyle="--")
    ax.set(xlabel="entropy (nats)", ylabel="questions", title=f"Answer entropy per question, {country}")
    histogram.tight_layout()
    highest, ax = plt.subplots(figsize=(6, 3.5))
    options = QUESTIONS[top["question_id"]].options
    ax.bar(range(len(options)), np.asarray(top["counts"]) / top["respondents"], color="#DD8452")
    ax.set_xticks(range(len(options)), options, rotation=25, ha="right", fontsize=8)
    ax.set(ylabel="share", title=f"{top['question_id']} in {country}: H = {top['entropy']:.2f}")
    highest.tight_layout()
    share = float((table["entropy"] > 1.0).mean())
    summary = f"""# Answer entropy within {country}

{len(table)} questions; entropy in nats (natural log). Share with H > 1.0: {share:.1%}.
Highest: {top["question_id"]} (H = {top["entropy"]:.3f} of at most {top["max_entropy"]:.3f}).
"""
    figures = {"entropy_histogram.png": histogram, "highest_entropy_question.png": highest}
    return AnalysisResult("entropy", table, summary, figures)


def importance(wvs: str | Path, seed: int, trees: int) -> AnalysisResult:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.preprocessing import OneHotEncoder

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
    fig, ax = pyplot().subplots(figsize=(9, 0.35 * len(table) + 2))
    image = ax.imshow(table[list(ATTRIBUTE_NAMES)].to_numpy(), cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(ATTRIBUTE_NAMES)), ATTRIBUTE_NAMES, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(table)), table["question_id"], fontsize=8)
    fig.colorbar(image, label="importance (MDI)")
    ax.set_title("Attribute importance per question (random forest)")
    fig.tight_layout()
    lines = []
    for _, row in table.iterrows():
        rivals = {r: row[r] for r in ("religion", "income_bracket", "occupation")}
        verdict = ", ".join(f"{'above' if row['country'] > v else 'below'} {r}" for r, v in rivals.items())
        lines.append(
            f"- {row['question_id']}: country ranks {verdict}; most important: "
            f"{max(ATTRIBUTE_NAMES, key=lambda a: row[a])}"
        )
    summary = f"""# Attribute importance (random forest, seed {seed}, {trees} trees)

One-hot attributes; mean-decrease-impurity summed over each attribute's columns.

{chr(10).join(lines)}
"""
    return AnalysisResult("importance", table, summary, {"importance_heatmap.png": fig})


def consensus(wvs: str | Path, min_support: tuple[int, ...]) -> AnalysisResult:
    data = read_wvs(wvs)
    profiles = profile_frame(data)
    answers = answer_matrix(data, list(TRAINING_QUESTIONS))
    rows = []
    for country in sorted(set(data.codes["country"])):
        mine = (data.codes["country"] == country).to_numpy()
        codes = pd.factorize(profiles.loc[mine, "profile_key"])[0]
        table = pair_table(codes, answers[mine])
        for support in min_support:
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
    first = frame[frame["min_support"] == min_support[0]]
    summary = f"""# Consensus per country (strict filter, training questions)

Paper: {paper("shared_profiles")} of respondents share their profile; {paper("divergent_dropped")} of divergent
samples dropped.
Here (min support {min_support[0]}), mean over countries: {first["share_respondents_with_shared_profile"].mean():.1%}
of respondents share their profile; {first["share_pairs_divergent"].mean():.1%} of (profile, question) pairs
are divergent. `share_pairs_kept` shows how --min-support {", ".join(map(str, min_support))} changes what is kept.
"""
    fig, ax = pyplot().subplots(figsize=(7, 3.5))
    for support, part in frame.groupby("min_support"):
        ax.plot(part["country"], part["share_pairs_kept"], marker="o", label=f"min support {support}")
    ax.set(ylabel="pairs kept", title="Strict consensus filter per country")
    ax.tick_params(axis="x", rotation=60, labelsize=7)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return AnalysisResult("consensus", frame, summary, {"consensus.png": fig})
