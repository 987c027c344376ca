"""Do the kit's intervals cover, and do its paired tests hold their level? A simulation with a known truth.

    python bench/coverage.py [--full] [--replications N] [--resamples 1000] [--layouts release quickstart]

Quick mode (the default): 100 replications of each layout, ~1.5 minutes on 2 cores; `--full`: 400, ~6
minutes. With 100 replications a coverage of 0.95 is measured to about +-0.04 (two standard errors), with
400 to about +-0.02.

Each replication draws a benchmark in a fixed layout: profiles (each of one country, answering a set of
questions) drawn with replacement from the layout's profiles, a latent trait per profile that moves all
of its answers together (a Gaussian copula, correlation `RHO`: rows of one profile are not independent),
and each row's real answer from its (country x question) group's population distribution. Predictors
answer every row: `random` (uniform), `majority` (the group's population mode), `near_truth` (the real
answer 60% of the time, else a draw from 0.9 x the group's distribution + 0.1 x uniform), `pref_a` /
`pref_b` (right 80% of the time on even / odd profiles, 20% on the others, one option off when wrong).
Every figure's population value is known in closed form, so each printed interval is checked against it.

Layouts: `release` is the authors' released test split (460 profiles, 10 countries x 16 questions, groups
of ~46 rows, K in 3-5; its pooled real answers per group are the population distributions when
`--release` finds the split, else Dirichlet ones); `quickstart` is the quickstart table's shape (600 rows,
150 profiles of 4 rows, groups of ~4 rows).

Under a true null, pairs of predictors with equal population figures: `random` vs a second `random`,
`near_truth` vs `near_truth` drawn stratified within each group (the same distribution, less noise, so a
smaller bias), `pref_a` vs `pref_b` (equal accuracy, opposite preferences per profile: rows clustered by
profile). Goal: coverage >= 0.93 for every interval the kit prints unflagged, null rejection <= 0.07 for
every test it prints unflagged.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dvmap_hf.evaluation.statistics import RunRows, compare, intervals  # noqa: E402

RHO = 0.5
PREDICTORS = ("random", "majority", "near_truth", "pref_a")
NULL_PAIRS = (("random", "random_2"), ("near_truth", "near_truth_stratified"), ("pref_a", "pref_b"))
RELEASE = Path(__file__).resolve().parents[2] / "shared" / "release" / "test.parquet"


@dataclass(frozen=True)
class Layout:
    """Who answers what: per profile its country and questions; per group its population distribution."""

    profile_country: np.ndarray  # (P,)
    profile_questions: list[np.ndarray]  # P arrays of question codes
    options: np.ndarray  # K per question
    population: dict[tuple[int, int], np.ndarray]  # (country, question) -> answer shares


def _dirichlet_population(countries: int, options: np.ndarray, rng) -> dict:
    return {(c, q): rng.dirichlet(np.full(k, 0.8)) for c in range(countries) for q, k in enumerate(options)}


def release_layout(rng, path: Path = RELEASE) -> Layout:
    """460 profiles x 16 questions in 10 countries; the split's own answers pooled per group when present."""
    options = np.array([4] * 11 + [3] * 4 + [5])
    if not path.is_file():
        countries = np.repeat(np.arange(10), 46)
        return Layout(countries, [np.arange(16)] * 460, options, _dirichlet_population(10, options, rng))
    import pandas as pd

    frame = pd.read_parquet(path)
    split = frame["Options"].str.split(", ")
    frame = frame.assign(k=split.str.len(), a=[o.index(a) if a in o else -1 for o, a in zip(split, frame["answer"])])
    frame = frame[(frame["a"] >= 0) & frame.groupby("Q_id")["k"].transform(lambda k: k.nunique() == 1)]
    attributes = [c for c in frame.columns[1:12]]
    profile = frame[attributes].astype(str).agg("|".join, axis=1).factorize()[0]
    country, question = frame["Country"].factorize()[0], frame["Q_id"].factorize()[0]
    options = frame.groupby(question)["k"].first().to_numpy()
    population = {
        (c, q): np.bincount(part["a"], minlength=options[q]) / len(part)
        for (c, q), part in frame.assign(c=country, q=question).groupby(["c", "q"])
    }
    questions = [question[profile == p] for p in range(profile.max() + 1)]
    first = np.array([country[profile == p][0] for p in range(profile.max() + 1)])
    return Layout(first, questions, options, population)


def quickstart_layout(rng) -> Layout:
    """150 profiles of 4 rows each in 10 countries x 16 questions: 600 rows, groups of ~4 rows."""
    options = np.array([4] * 11 + [3] * 4 + [5])
    countries = np.repeat(np.arange(10), 15)
    questions = [rng.choice(16, 4, replace=False) for _ in range(150)]
    return Layout(countries, questions, options, _dirichlet_population(10, options, rng))


def _draw(shares: np.ndarray, uniform: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per row, the option whose cumulative share first exceeds the row's uniform draw."""
    return np.minimum((np.cumsum(shares, axis=1) < uniform[:, None]).sum(axis=1), k - 1)


def draw_benchmark(layout: Layout, rng) -> dict:
    """One simulated benchmark: its rows and every predictor's predictions."""
    n_profiles = len(layout.profile_country)
    chosen = rng.integers(n_profiles, size=n_profiles)
    profile = np.concatenate([np.full(len(layout.profile_questions[p]), i) for i, p in enumerate(chosen)])
    question = np.concatenate([layout.profile_questions[p] for p in chosen])
    country = layout.profile_country[chosen][profile]
    k = layout.options[question]
    width = int(layout.options.max())
    shares = np.zeros((len(profile), width))
    for row, (c, q) in enumerate(zip(country, question)):
        shares[row, : k[row]] = layout.population[c, q]
    trait = rng.standard_normal(n_profiles)[profile]
    latent = norm.cdf(RHO * trait + np.sqrt(1 - RHO**2) * rng.standard_normal(len(profile)))
    answer = _draw(shares, latent, k)
    uniform = np.where(np.arange(width) < k[:, None], 1.0 / k[:, None], 0.0)
    mixed = 0.9 * shares + 0.1 * uniform
    group = country * 100 + question
    copy = rng.random(len(profile)) < 0.6
    off = (answer + 1) % k
    right_a = rng.random(len(profile)) < np.where(chosen[profile] % 2 == 0, 0.8, 0.2)
    right_b = rng.random(len(profile)) < np.where(chosen[profile] % 2 == 1, 0.8, 0.2)
    predictions = {
        "random": _draw(uniform, rng.random(len(profile)), k),
        "random_2": _draw(uniform, rng.random(len(profile)), k),
        "majority": np.argmax(shares, axis=1),
        "near_truth": np.where(copy, answer, _draw(mixed, rng.random(len(profile)), k)),
        "near_truth_stratified": np.where(copy, answer, _draw(mixed, _stratified(group, rng), k)),
        "pref_a": np.where(right_a, answer, off),
        "pref_b": np.where(right_b, answer, off),
    }
    return {"profile": profile, "answer": answer, "k": k, "group": group, "shares": shares, "predictions": predictions}


def _stratified(group: np.ndarray, rng) -> np.ndarray:
    """Uniform draws that fill each group's [0, 1) evenly (one per slot of width 1 / rows, shuffled)."""
    out = np.empty(len(group))
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        out[rows] = (rng.permutation(len(rows)) + rng.random(len(rows))) / len(rows)
    return out


def _distances(p: np.ndarray, q: np.ndarray) -> dict[str, float]:
    """WD (normalised by K - 1), TV and JS (base 2) of two distributions over K ordered options."""
    k = len(q)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = [np.where(a > 0, a * np.log2(a / m), 0.0).sum() for a in (p, q)]
    return {
        "wasserstein_distance": float(np.abs(np.cumsum(p) - np.cumsum(q))[:-1].sum() / (k - 1)),
        "total_variation": float(0.5 * np.abs(p - q).sum()),
        "jensen_shannon": float(np.sqrt(max(0.5 * kl[0] + 0.5 * kl[1], 0.0))),
    }


def _group_truth(name: str, q: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A predictor's population answer distribution in a group of real shares q, its accuracy and LC there
    (for pref_a / pref_b: averaged over even and odd profiles, as many of each)."""
    k = len(q)
    u = np.full(k, 1.0 / k)
    closeness = 1 - np.abs(np.arange(k)[:, None] - np.arange(k)[None, :]) / (k - 1)  # [predicted, real]
    shifted = np.roll(np.eye(k), 1, axis=1)  # one option off: y -> (y + 1) mod K
    if name.startswith("random"):
        joint = np.outer(u, q)
    elif name == "majority":
        joint = np.outer(np.eye(k)[np.argmax(q)], q)
    elif name.startswith("near_truth"):
        joint = 0.6 * np.diag(q) + 0.4 * np.outer(0.9 * q + 0.1 * u, q)
    else:  # pref_a / pref_b: right half the time on average
        joint = 0.5 * np.diag(q) + 0.5 * shifted.T * q[None, :]
    return joint.sum(axis=1), float(np.trace(joint)), float((joint * closeness).sum())


def population_figures(layout: Layout, name: str) -> dict[str, float]:
    """Every figure of predictor `name` with unlimited profiles: row figures over the layout's rows,
    distances over its groups."""
    rows = [(c, q) for c, qs in zip(layout.profile_country, layout.profile_questions) for q in qs]
    per_row = np.array([_group_truth(name, layout.population[key])[1:] for key in rows])
    groups = [_distances(_group_truth(name, q)[0], q) for q in layout.population.values()]
    return {
        "accuracy": float(per_row[:, 0].mean()),
        "likert_consistency": float(per_row[:, 1].mean()),
        **{figure: float(np.mean([g[figure] for g in groups])) for figure in groups[0]},
    }


def benchmark_rows(bench: dict, name: str) -> RunRows:
    """A predictor's simulated run as the rows the kit scores."""
    return RunRows.from_columns(
        np.arange(len(bench["answer"])),
        bench["profile"],
        bench["predictions"][name],
        bench["answer"],
        bench["k"],
        bench["group"],
    )


def _row_mcnemar(a: RunRows, b: RunRows) -> float:
    """McNemar's exact test row by row, as the kit ran it before: blind to profiles."""
    from scipy.stats import binomtest

    right_a, right_b = a.predicted == a.reference, b.predicted == b.reference
    only_a, only_b = int((right_a & ~right_b).sum()), int((right_b & ~right_a).sum())
    return 1.0 if only_a + only_b == 0 else float(binomtest(only_a, only_a + only_b, 0.5).pvalue)


def _covered(entry: dict, truth: float) -> bool:
    low, high = entry["interval"]
    return bool(low <= truth <= high)


def run_layout(name: str, replications: int, resamples: int, seed: int) -> tuple[list[dict], list[dict]]:
    """Per predictor and figure: how often flagged, coverage when not, estimate inside its interval; per
    null pair and figure: rejection rate of the unflagged tests at 5% (and cluster McNemar's for Acc)."""
    rng = np.random.default_rng(seed)
    layout = release_layout(rng) if name == "release" else quickstart_layout(rng)
    truths = {p: population_figures(layout, p) for p in PREDICTORS}
    cover = {(p, f): [] for p in PREDICTORS for f in truths[p]}
    reject = {(a, b, f): [] for a, b in NULL_PAIRS for f in truths[PREDICTORS[0]]}
    reject |= {
        (a, b, test): [] for a, b in NULL_PAIRS for test in ("mcnemar_cluster", "mcnemar_rows (no longer used)")
    }
    for rep in range(replications):
        bench = draw_benchmark(layout, rng)
        rows = {p: benchmark_rows(bench, p) for p in bench["predictions"]}
        for p in PREDICTORS:
            figures_ = intervals(rows[p], resamples, rep)["figures"]
            for f, truth in truths[p].items():
                entry = figures_[f]
                inside = entry["interval"] is None or _covered(entry, entry["estimate"])
                cover[p, f].append(
                    (
                        entry["flag"] is None,
                        entry["interval"] is not None and _covered(entry, truth),
                        inside,
                        entry["bias_se"],
                    )
                )
        for a, b in NULL_PAIRS:
            result = compare(rows[a], rows[b], resamples, rep)
            for f in truths[PREDICTORS[0]]:
                entry = result[f]
                reject[a, b, f].append(
                    (entry["flag"] is None, entry["p_value"] is not None and entry["p_value"] < 0.05)
                )
            reject[a, b, "mcnemar_cluster"].append((True, result["accuracy"]["mcnemar_cluster_p"] < 0.05))
            reject[a, b, "mcnemar_rows (no longer used)"].append((False, _row_mcnemar(rows[a], rows[b]) < 0.05))
    coverage = [_coverage_row(name, p, f, truths[p][f], np.array(v, dtype=float)) for (p, f), v in cover.items()]
    level = [_level_row(name, f"{a} vs {b}", f, np.array(v, dtype=float)) for (a, b, f), v in reject.items()]
    return coverage, level


def _coverage_row(layout: str, predictor: str, figure: str, truth: float, v: np.ndarray) -> dict:
    shown = v[:, 0] == 1
    return {
        "layout": layout,
        "predictor": predictor,
        "figure": figure,
        "truth": truth,
        "flagged": float(1 - shown.mean()),
        "coverage": float(v[shown, 1].mean()) if shown.any() else None,
        "inside": float(v[:, 2].mean()),
        "bias_se": float(np.median(v[:, 3])),
        "raw": v,
    }


def _level_row(layout: str, pair: str, figure: str, v: np.ndarray) -> dict:
    shown = (v[:, 0] == 1) | figure.endswith("(no longer used)")
    return {
        "layout": layout,
        "pair": pair,
        "figure": figure,
        "flagged": float(1 - shown.mean()),
        "rejection": float(v[shown, 1].mean()) if shown.any() else None,
    }


def _cell(value: float | None) -> str:
    return "flagged" if value is None else f"{value:.3f}"


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="400 replications (default: 100, the quick mode)")
    parser.add_argument("--replications", type=int, help="replications of each layout (overrides --full)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--layouts", nargs="+", default=["release", "quickstart"], choices=["release", "quickstart"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.replications = args.replications or (400 if args.full else 100)
    lines, coverage_ok, level_ok = [], True, True
    for layout in args.layouts:
        coverage, level = run_layout(layout, args.replications, args.resamples, args.seed)
        shape = f"{args.replications} replications, B = {args.resamples:,}"
        print(f"\n### {layout}: coverage of the 95% intervals ({shape})\n")
        print("| predictor | figure | truth | flagged | coverage when shown | estimate inside | median bias/SE |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for r in coverage:
            cells = [r["predictor"], r["figure"], f"{r['truth']:.4f}", f"{r['flagged']:.2f}", _cell(r["coverage"])]
            print("| " + " | ".join([*cells, f"{r['inside']:.2f}", f"{r['bias_se']:.2f}"]) + " |")
            coverage_ok &= r["coverage"] is None or r["coverage"] >= 0.93
        print(f"\n### {layout}: rejection under a true null at the 5% level\n")
        print("| pair | figure | flagged | rejection when shown |\n|---|---|---:|---:|")
        for r in level:
            print(f"| {r['pair']} | {r['figure']} | {r['flagged']:.2f} | {_cell(r['rejection'])} |")
            level_ok &= r["rejection"] is None or r["rejection"] <= 0.07 or r["figure"].endswith("(no longer used)")
        lines += coverage + level
    noise = 2 * np.sqrt(0.05 * 0.95 / args.replications)
    print(f"\nMonte Carlo error at {args.replications} replications: a true 0.95 coverage or 0.05 level reads within")
    print(f"+-{noise:.3f} 19 times in 20 (each row of a table; the goals below leave room for it only with --full).")
    verdict = {True: "yes", False: "NO"}
    print(
        f"\ncoverage >= 0.93 wherever shown: {verdict[coverage_ok]}; null rejection <= 0.07 wherever shown: ", end=""
    )
    print(verdict[level_ok])
    return lines


if __name__ == "__main__":
    main()
