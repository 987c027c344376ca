"""Every figure of a run, how sure it is, and whether two runs differ.

`figures` computes all of a run's metrics from its rows; `intervals` gives each a 95% interval from a
seeded bootstrap that resamples **profiles** (the rows of one profile share its attributes and are not
independent draws); `compare` gives, for two runs over the same rows, each figure's difference with a
paired interval and p-value (the same profiles drawn for both runs), and for accuracy the
cluster-adjusted McNemar test. `holm` adjusts a table's p-values for the number of tests in it.

An interval says where the figure would lie on another draw of as many profiles from the same
population. For a mean (Acc, LC) it is the basic bootstrap interval around the plug-in value. A distance
(WD, TV, JS) is biased upward by small groups (a country x question group of 40 rows looks farther from
the real answers than the same model on 4,000), so its estimate is the plug-in value less the
bootstrap's bias where that bias is worth correcting (at least `MIN_CORRECTED_BIAS_SE` standard errors),
and its interval is bias-aware (Armstrong & Kolesar 2020): wide enough for the bias it may still hold.
Where the data cannot support an interval (too few profiles, groups too small, a bias too large against
the standard error) the figure is flagged and neither interval nor p-value is given. `bench/coverage.py`
measures the coverage and the level.

A bootstrap draw is a weight per row (how often its profile was drawn), so every metric is computed by the
numpy core with `weights`, never by copying rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.schema import COUNTS, group_column
from .alignment import SUMMARY_FIGURES, figures_of, row_columns, row_scores
from .metrics import INVALID, Distributions, answer_cells, distances_of, group_options, likert_scores, wasserstein_of

METHOD = "bootstrap over profiles"
LEVEL = 0.95
#: The figures that are distances between two distributions of a group: biased upward by small groups.
DISTANCES = frozenset(
    {"wasserstein_distance", "total_variation", "jensen_shannon", "soft_total_variation", "soft_jensen_shannon"}
)
#: Below these the data cannot support an interval: profiles behind any figure, median rows per country x
#: question group behind a distance (bench/coverage.py: at ~4 rows a group no interval covered), and the
#: bootstrap bias of a distance in standard errors.
MIN_PROFILES = 20
MIN_GROUP_ROWS = 30
MAX_BIAS_SE = 4.0
#: How large the bias left after the correction may be, as a multiple of the correction: where a group's
#: two distributions nearly agree (|x| near 0) the bootstrap sees about half the bias; bench/coverage.py
#: measured 1.05-1.22x there, and ~0 where they differ.
RESIDUAL_BIAS = 1.5
#: Below this bias in standard errors a distance is not corrected (Efron & Tibshirani 1993, 10.6): the
#: correction's own noise then adds more variance than it removes bias. Measured (600 paired replications
#: of the released split's layout, two runs of the same predictor): the corrected difference varied
#: 1.05-1.08x the bootstrap SE, the uncorrected one 0.96-1.04x; the tests' level moved from 5.3-6.3% to
#: 4.8-5.7%.
MIN_CORRECTED_BIAS_SE = 0.25
#: How the tables describe a distance's estimate and interval (one wording for every table the kit prints).
DISTANCE_NOTE = (
    f"corrected for its bootstrap bias where that bias is at least {MIN_CORRECTED_BIAS_SE} SE, and its interval "
    "allows for the bias left"
)
ALIGNMENT_PREFIX = "alignment_"
#: The figures of a run, in the order tables show them (soft distances only with option probabilities).
FIGURES = (
    "accuracy",
    "accuracy_strict",
    "accuracy_release",
    "likert_consistency",
    "wasserstein_distance",
    "total_variation",
    "jensen_shannon",
    "soft_total_variation",
    "soft_jensen_shannon",
    "invalid_rate",
    # each row's predicted distribution against its profile's survey answers (`alignment`), where the rows
    # carry answer counts and the predictor a distribution: means over rows, so their intervals are basic
    *(ALIGNMENT_PREFIX + name for name in SUMMARY_FIGURES),
)


@dataclass(frozen=True)
class RunRows:
    """A run's rows as the arrays the metrics take, computed once and scored many times."""

    ids: np.ndarray
    profiles: np.ndarray  # profile code per row, 0..P-1
    predicted: np.ndarray
    reference: np.ndarray
    num_options: np.ndarray
    groups: np.ndarray  # country x question group code per row
    by_rule: dict[str, np.ndarray]  # the option each matching rule credits (`parsed_<rule>` columns)
    probabilities: np.ndarray | None  # rows x widest K option probabilities (log-likelihood scoring)
    alignment: np.ndarray | None = None  # rows x `alignment.row_columns`; zero where a row has no distribution

    @classmethod
    def from_columns(
        cls, ids, profiles, predicted, reference, num_options, groups, by_rule=None, probabilities=None, alignment=None
    ) -> RunRows:
        """From per-row values: profile and group labels become codes, option probabilities one matrix."""
        from .metrics import option_matrix

        k = np.asarray(num_options)
        return cls(
            ids=np.asarray(ids),
            profiles=pd.factorize(pd.Series(profiles))[0],
            predicted=np.asarray(predicted),
            reference=np.asarray(reference),
            num_options=k,
            groups=pd.factorize(pd.Series(groups))[0],
            by_rule={rule: np.asarray(parsed) for rule, parsed in (by_rule or {}).items()},
            probabilities=None if probabilities is None else option_matrix(probabilities, k),
            alignment=alignment,
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> RunRows:
        """From a run's rows joined with their predictions (`runner.evaluated_frame`)."""
        return cls.from_columns(
            frame["id"],
            frame["profile_id"],
            frame["parsed"],
            frame["answer_index"],
            frame["num_options"],
            frame[group_column(frame.columns)].astype(str) + "|" + frame["question_id"],
            {c.removeprefix("parsed_"): frame[c] for c in frame.columns if c.startswith("parsed_")},
            frame["option_probs"].tolist() if "option_probs" in frame else None,
            alignment_columns(frame),
        )

    def subset(self, keep: np.ndarray) -> RunRows:
        """The rows at positions `keep` (in that order)."""
        return RunRows(
            ids=self.ids[keep],
            profiles=pd.factorize(self.profiles[keep])[0],
            predicted=self.predicted[keep],
            reference=self.reference[keep],
            num_options=self.num_options[keep],
            groups=pd.factorize(self.groups[keep])[0],
            by_rule={rule: parsed[keep] for rule, parsed in self.by_rule.items()},
            probabilities=None if self.probabilities is None else self.probabilities[keep],
            alignment=None if self.alignment is None else self.alignment[keep],
        )


def alignment_columns(frame: pd.DataFrame) -> np.ndarray | None:
    """Each row's `alignment.row_columns` (its distribution against its answer counts), zero for a row without
    a distribution (so it adds nothing, not even to the row count); None where the rows have no answer counts
    or the predictor gave no distribution."""
    if COUNTS not in frame or "distribution" not in frame:
        return None
    known = frame["distribution"].notna().to_numpy()
    if not known.any():
        return None
    part = frame[known]
    scores = row_scores(part["distribution"].tolist(), part[COUNTS].tolist(), part["num_options"].to_numpy())
    columns = row_columns(scores)
    out = np.zeros((len(frame), columns.shape[1]))
    out[known] = columns
    return out


@dataclass(frozen=True)
class ProfileSums:
    """Every figure of a run is a function of sums over its rows: each mean figure's numerator and the
    row count, and per country x question group the real answers, the valid predictions and the option
    probabilities per option. A bootstrap draw counts each profile's rows as often as it drew the profile,
    so a draw's sums are its profile counts times these per-profile sums: B draws are one product of a
    (B x profiles) count matrix, not B passes over the rows."""

    means: np.ndarray  # profiles x (mean figures + 1): per profile each figure's numerator, then its rows
    mean_names: tuple[str, ...]
    cells: object  # scipy.sparse CSR, cells x profiles: real | guess [| soft] sums per group x option cell
    shape: tuple[int, int]  # groups, widest K
    group_k: np.ndarray
    alignment: np.ndarray | None = None  # profiles x `alignment.row_columns`: each profile's rows summed

    @classmethod
    def of(cls, rows: RunRows) -> ProfileSums:
        from scipy.sparse import csr_matrix

        pred, ref, k, group, profiles = rows.predicted, rows.reference, rows.num_options, rows.groups, rows.profiles
        group_k, count = group_options(k, group), _count(rows)
        values = {"accuracy": pred == ref}
        values |= {f"accuracy_{rule}": parsed == ref for rule, parsed in rows.by_rule.items()}
        values |= {"likert_consistency": likert_scores(pred, ref, k), "invalid_rate": pred == INVALID}
        columns = np.column_stack([*values.values(), np.ones(len(ref))]).astype(np.float64)
        means = np.stack([np.bincount(profiles, c, count) for c in columns.T], axis=1)
        real, guess, width = answer_cells(pred, ref, k, group)
        n_cells = len(group_k) * width
        valid = guess >= 0
        cell, profile = [real, guess[valid] + n_cells], [profiles, profiles[valid]]
        weight = [np.ones(len(ref)), np.ones(int(valid.sum()))]
        if rows.probabilities is not None:  # soft: each row's option probabilities in its group's cells
            cell.append((group[:, None] * width + np.arange(width)).reshape(-1) + 2 * n_cells)
            profile.append(np.repeat(profiles, width))
            weight.append(rows.probabilities[:, :width].reshape(-1))
        blocks = 3 if rows.probabilities is not None else 2
        data = (np.concatenate(weight), (np.concatenate(cell), np.concatenate(profile)))
        cells = csr_matrix(data, shape=(blocks * n_cells, count))
        alignment = None
        if rows.alignment is not None:
            alignment = np.stack([np.bincount(profiles, c, count) for c in rows.alignment.T], axis=1)
        return cls(means, tuple(values), cells, (len(group_k), width), group_k, alignment)

    def figures(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Every figure of each draw, given how often each draw drew each profile (draws x profiles)."""
        counts = np.asarray(counts, dtype=np.float64)
        sums = counts @ self.means
        out = {name: sums[:, i] / sums[:, -1] for i, name in enumerate(self.mean_names)}
        blocks = (self.cells @ np.ascontiguousarray(counts.T)).reshape(-1, *self.shape, len(counts))
        distributions = Distributions.of(blocks[0], blocks[1])
        out["wasserstein_distance"] = wasserstein_of(distributions, self.group_k)
        out |= distances_of(distributions, blocks[2] if len(blocks) == 3 else None)
        if self.alignment is not None:
            out |= {ALIGNMENT_PREFIX + name: v for name, v in figures_of(counts @ self.alignment).items()}
        return out


def figure_draws(rows: RunRows, counts: np.ndarray, sums: ProfileSums | None = None) -> dict[str, np.ndarray]:
    """Every figure of the rows under each draw's profile counts (draws x profiles), in `FIGURES` order."""
    out = (sums or ProfileSums.of(rows)).figures(counts)
    return {name: out[name] for name in FIGURES if name in out}


def figures(rows: RunRows, sums: ProfileSums | None = None) -> dict[str, float]:
    """Every figure of the rows."""
    draws = figure_draws(rows, np.ones((1, _count(rows))), sums)
    return {name: float(values[0]) for name, values in draws.items()}


#: draws x group-option cells scored at once: each intermediate array (1 MB) stays in the core's cache;
#: on the released test split's 2,400 cells, 54 draws a chunk took 0.24 s for 10,000 draws, 1,024 0.36 s
CHUNK_CELLS = 2**17


def resample_counts(profiles: int, resamples: int, seed: int, chunk: int = 1024) -> Iterator[np.ndarray]:
    """How often each of `resamples` bootstrap draws drew each profile, in chunks of draws x profiles: as
    many profiles as there are, drawn with replacement. The draws are those of one
    `rng.integers(profiles, size=profiles)` per resample from `default_rng(seed)`, as the kit drew them
    one at a time before (the same intervals for the same seed)."""
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        drawn = rng.integers(profiles, size=(size, profiles)) + profiles * np.arange(size)[:, None]
        yield np.bincount(drawn.reshape(-1), minlength=size * profiles).reshape(size, profiles)


def draws_of(rows: RunRows, resamples: int, seed: int, sums: ProfileSums | None = None) -> dict[str, np.ndarray]:
    """Every figure of `resamples` profile-bootstrap draws of the rows (figure -> one value per draw)."""
    sums = sums or ProfileSums.of(rows)
    chunk = max(1, min(1024, CHUNK_CELLS // sums.cells.shape[0]))
    parts = [figure_draws(rows, c, sums) for c in resample_counts(_count(rows), resamples, seed, chunk)]
    return {name: np.concatenate([c[name] for c in parts]) for name in parts[0]} if parts else {}


def basic_interval(draws: np.ndarray, estimate: float) -> list[float]:
    """The basic bootstrap interval: [2 * estimate - upper quantile, 2 * estimate - lower quantile]."""
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    return [float(2 * estimate - high), float(2 * estimate - low)]


def basic_p_value(draws: np.ndarray, estimate: float) -> float:
    """Two-sided p-value of "the value is 0", consistent with `basic_interval` (which excludes 0 at levels
    below 1 - p); counted with the usual +1, so it is never below 2 / (B + 1)."""
    above, below = int((draws >= 2 * estimate).sum()), int((draws <= 2 * estimate).sum())
    return float(min(1.0, 2 * (min(above, below) + 1) / (len(draws) + 1)))


def bias_aware_critical(ratio: float) -> float:
    """c with P(|N(ratio, 1)| <= c) = LEVEL: the half-width in standard errors of an interval that covers
    whatever the sign of a remaining bias of up to `ratio` standard errors (Armstrong & Kolesar 2020)."""
    from scipy.optimize import brentq
    from scipy.stats import norm

    return float(brentq(lambda c: norm.cdf(c - ratio) - norm.cdf(-c - ratio) - LEVEL, 0.0, ratio + 10.0))


def bias_aware_p_value(estimate: float, se: float, ratio: float) -> float:
    """Two-sided p of "the value is 0" consistent with the bias-aware interval: P(|N(ratio, 1)| >= |z|)."""
    from scipy.stats import norm

    if se <= 0:
        return 1.0 if estimate == 0 else 0.0
    z = abs(estimate) / se
    return float(min(1.0, norm.cdf(ratio - z) + norm.cdf(-ratio - z)))


def summarize(name: str, observed: float, draws: np.ndarray, flag: str | None) -> dict:
    """A figure as the kit prints it, from its plug-in value and its bootstrap draws.

    A mean (Acc, LC, invalid) is unbiased: its estimate is the plug-in value, its interval the basic one. A
    distance (WD, TV, JS) is biased upward by the sampling noise of small groups: from `MIN_CORRECTED_BIAS_SE`
    standard errors its estimate is corrected by the bootstrap's bias (plug-in - (mean of draws - plug-in))
    and its interval, centred there, is bias-aware: wide enough for a remaining bias of up to
    `RESIDUAL_BIAS` times the correction; below, the estimate is the plug-in value and the interval allows
    for all of a bias the bootstrap may see half of (1 + `RESIDUAL_BIAS` times it). `flag` (or a bias over
    `MAX_BIAS_SE` standard errors) withholds interval and p-value."""
    se = float(np.std(draws, ddof=1)) if len(draws) > 1 else 0.0
    bias = float(np.mean(draws) - observed)
    ratio = abs(bias) / se if se > 0 else (0.0 if bias == 0 else float("inf"))
    entry = {"plug_in": float(observed), "bias": bias, "se": se, "bias_se": ratio}
    if name not in DISTANCES:
        entry |= {"estimate": float(observed), "interval": basic_interval(draws, observed)}
        entry["p_value"] = basic_p_value(draws, observed)
    else:
        corrected = ratio >= MIN_CORRECTED_BIAS_SE
        estimate = float(observed - bias) if corrected else float(observed)
        left = (RESIDUAL_BIAS if corrected else 1 + RESIDUAL_BIAS) * ratio
        flag = flag or (f"bias {ratio:.2f} SE > {MAX_BIAS_SE}" if ratio > MAX_BIAS_SE else None)
        half = bias_aware_critical(left) * se if np.isfinite(ratio) else float("inf")
        entry |= {"estimate": estimate, "corrected": bool(corrected), "interval": [estimate - half, estimate + half]}
        entry["p_value"] = bias_aware_p_value(estimate, se, left)
    if flag:
        entry |= {"interval": None, "p_value": None}
    return entry | {"flag": flag}


def support_flags(rows: RunRows) -> dict[str, str | None]:
    """Why the data cannot support a figure's interval, per figure (None: it can): too few profiles for
    any bootstrap, or country x question groups too small for a distance between two of their
    distributions."""
    profiles = _count(rows)
    median_rows = float(np.median(np.bincount(rows.groups))) if len(rows.groups) else 0.0
    few_profiles = f"{profiles} profiles < {MIN_PROFILES}" if profiles < MIN_PROFILES else None
    small_groups = (
        f"a median group of {median_rows:g} rows < {MIN_GROUP_ROWS}" if median_rows < MIN_GROUP_ROWS else None
    )
    return {name: few_profiles or (small_groups if name in DISTANCES else None) for name in FIGURES}


def intervals(rows: RunRows, resamples: int, seed: int) -> dict:
    """Every figure's estimate, bias, standard error and 95% interval (or the flag that withholds it);
    `resamples` 0 gives none."""
    info = {"method": METHOD, "level": LEVEL, "resamples": resamples, "seed": seed, "profiles": _count(rows)}
    info |= {"median_group_rows": float(np.median(np.bincount(rows.groups))) if len(rows.groups) else 0.0}
    if resamples < 2:
        return {**info, "overall": {}, "figures": {}}
    sums = ProfileSums.of(rows)
    estimates, draws, flags = figures(rows, sums), draws_of(rows, resamples, seed, sums), support_flags(rows)
    summaries = {name: summarize(name, estimates[name], draws[name], flags[name]) for name in estimates}
    overall = {name: s["interval"] for name, s in summaries.items() if s["interval"] is not None}
    return {**info, "overall": overall, "figures": summaries}


def _count(rows: RunRows) -> int:
    return int(rows.profiles.max()) + 1 if len(rows.profiles) else 0


def cluster_mcnemar(base_correct: np.ndarray, other_correct: np.ndarray, profiles: np.ndarray) -> float:
    """McNemar's test for rows clustered by profile (Durkalski et al. 2003): per profile the discordant
    counts b (only base right) and c (only other right); X = (sum b - sum c)^2 / sum (b - c)^2, chi-square
    with 1 df. Rows of one profile are not independent, so the row-level exact test rejects too often."""
    from scipy.stats import chi2

    count = int(profiles.max()) + 1
    b = np.bincount(profiles, base_correct & ~other_correct, count)
    c = np.bincount(profiles, other_correct & ~base_correct, count)
    spread = float(((b - c) ** 2).sum())
    if spread == 0:
        return 1.0
    return float(chi2.sf((b.sum() - c.sum()) ** 2 / spread, 1))


def compare(base: RunRows, other: RunRows, resamples: int, seed: int) -> dict[str, dict]:
    """`other` minus `base` for every figure both have: the difference as `summarize` gives it (corrected
    for bias where a distance is), a paired bootstrap interval (the same profiles drawn for both runs) and
    its two-sided p-value, or the flag that withholds them; accuracy also the cluster-adjusted McNemar p.
    The rows must be the same, in the same order."""
    if not np.array_equal(base.ids, other.ids):
        raise ValueError("the runs must hold the same rows in the same order")
    sums_base, sums_other = ProfileSums.of(base), ProfileSums.of(other)
    observed_base, observed_other = figures(base, sums_base), figures(other, sums_other)
    names = [name for name in observed_base if name in observed_other]
    draws_base, draws_other = draws_of(base, resamples, seed, sums_base), draws_of(other, resamples, seed, sums_other)
    flags = support_flags(base)
    result = {}
    for name in names:
        observed = observed_other[name] - observed_base[name]
        if resamples < 2:
            result[name] = {
                "difference": observed,
                "plug_in": observed,
                "interval": None,
                "p_value": None,
                "flag": None,
            }
            continue
        own = [
            summarize(name, o[name], d[name], flags[name])["flag"]
            for o, d in ((observed_base, draws_base), (observed_other, draws_other))
        ]
        flag = flags[name] or next((f"a run's {f}" for f in own if f), None)
        entry = summarize(name, observed, draws_other[name] - draws_base[name], flag)
        result[name] = {"difference": entry.pop("estimate"), **entry}
    correct = (base.predicted == base.reference, other.predicted == other.reference)
    result["accuracy"]["mcnemar_cluster_p"] = cluster_mcnemar(*correct, base.profiles)
    return result


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment: each p-value made valid for the whole family of tests it belongs to."""
    order = np.argsort(p_values)
    adjusted, running = np.empty(len(p_values)), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()
