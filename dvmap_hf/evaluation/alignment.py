"""Distribution alignment per row: a model's option distribution for a (profile, question) against the survey's
own answers of that profile (`answer_counts`), scored as the survey-alignment literature does.

Per row, with p the model's distribution and q the survey's shares over the row's K options (scale order):
- `total_variation` 0.5 sum |p - q|, `jensen_shannon` distance (log base 2, in [0, 1]);
- `wasserstein` the ordinal earth mover's distance sum_k |P(k) - Q(k)| over the CDFs, divided by K - 1
  (OpinionsQA, SubPOP), and `opinionsqa_alignment` = 1 - that (OpinionsQA's "alignment");
- `kl` KL(q || p) in nats, p smoothed as (p + KL_EPSILON) / (1 + K KL_EPSILON): a model that gives an
  option the survey chose no probability would otherwise score infinity;
- `brier_mode`: the model's probability c on the survey's mode (its first largest option) as a forecast that a
  respondent of the profile chose that option, which a share s of them did: s (1 - c)^2 + (1 - s) c^2; and
  `ece_mode`, the expected calibration error of c against s over `ECE_BINS` equal-width bins of c.
Over rows (each (profile, question) pair once), figures are plain means; `simbench_score` is SimBench's
100 (1 - TV / TV_uniform) with both means over the same rows (0 = no better than uniform, 100 = exact).

`human_floor` is the distance a perfect model would still show at each row's own sample size (SubPOP's
human-noise floor): the survey's shares resampled from a multinomial of the row's `support` respondents,
scored against the shares themselves, averaged over draws.

Numpy only, like `metrics`: the `evaluate` modules ship it unchanged.
"""

from __future__ import annotations

import numpy as np

try:
    from .metrics import option_matrix
except ImportError:  # on a Hub Space, `dvmap push-metrics` uploads the cores as top-level modules
    from metrics_core import option_matrix

KL_EPSILON = 1e-3
ECE_BINS = 10
#: The per-row figures, in the order tables print them; the lower-is-better distances first.
ROW_FIGURES = ("total_variation", "jensen_shannon", "wasserstein", "kl", "brier_mode", "opinionsqa_alignment")
#: Every summary figure (`figures_of`): the per-row figures' means, SimBench's score, the calibration error.
SUMMARY_FIGURES = (*ROW_FIGURES, "simbench_score", "ece_mode")
FLOOR_DRAWS = 200
FLOOR_CHUNK = 20  # resamples held at once: rows x options x 20 floats


def as_matrix(rows, num_options: np.ndarray, name: str) -> np.ndarray:
    """Per-row lists of K values as one (rows x widest K) float array, zero-padded (`metrics.option_matrix`);
    refuses a row whose list is not as long as its K, a negative or non-finite value, or a row that sums to 0."""
    k = np.asarray(num_options, dtype=np.int64).reshape(-1)
    matrix = option_matrix(rows, k, name)
    bad = ~np.isfinite(matrix).all(axis=1) | (matrix < 0).any(axis=1) | ~(matrix.sum(axis=1) > 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} of row {i} must be finite, >= 0 and not all 0; got {matrix[i, : k[i]].tolist()}")
    return matrix


def shares(matrix: np.ndarray) -> np.ndarray:
    return matrix / matrix.sum(axis=1, keepdims=True)


def _cdf_distance(p: np.ndarray, q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """sum_k |P(k) - Q(k)| / (K - 1) over the last axis but one (rows x options [x draws])."""
    inside = (np.arange(p.shape[1]) < (k[:, None] - 1)).reshape(*p.shape[:2], *([1] * (p.ndim - 2)))
    return (np.abs(np.cumsum(p - q, axis=1)) * inside).sum(axis=1) / (k - 1).reshape(-1, *([1] * (p.ndim - 2)))


def _distances(p: np.ndarray, q: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    """TV, JS (bits) and normalised WD between the rows of p and q (rows x options [x draws])."""
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_pm = np.where(p > 0, p * np.log2(p / m), 0.0).sum(axis=1)
        kl_qm = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=1)
    return {
        "total_variation": 0.5 * np.abs(p - q).sum(axis=1),
        "jensen_shannon": np.sqrt(np.maximum(0.5 * kl_pm + 0.5 * kl_qm, 0.0)),
        "wasserstein": _cdf_distance(p, q, k),
    }


def row_scores(model, counts, num_options) -> dict[str, np.ndarray]:
    """Every per-row figure (`ROW_FIGURES`) of the model's distributions against the survey's counts, plus the
    row's `mode_probability` c and `mode_share` s (what `brier_mode` and `ece_mode` are made of) and the
    uniform distribution's total variation (`uniform_total_variation`, SimBench's denominator)."""
    k = np.asarray(num_options, dtype=np.int64).reshape(-1)
    if (k < 2).any():
        raise ValueError(f"num_options must be >= 2, got {int(k.min())}")
    p, q = shares(as_matrix(model, k, "model distributions")), shares(as_matrix(counts, k, "answer counts"))
    inside = np.arange(p.shape[1]) < k[:, None]
    if (p[~inside] > 0).any() or (q[~inside] > 0).any():
        raise ValueError("a distribution puts weight past its row's num_options")
    out = _distances(p, q, k)
    smoothed = np.where(inside, (p + KL_EPSILON) / (1 + k[:, None] * KL_EPSILON), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["kl"] = np.where(q > 0, q * np.log(q / smoothed), 0.0).sum(axis=1)
    mode = np.argmax(q, axis=1)  # the first largest: ties to the earlier option, as the builds' `answer`
    c, s = p[np.arange(len(k)), mode], q[np.arange(len(k)), mode]
    out["brier_mode"] = s * (1 - c) ** 2 + (1 - s) * c**2
    out["opinionsqa_alignment"] = 1 - out["wasserstein"]
    uniform = np.where(inside, 1.0 / k[:, None], 0.0)
    out["uniform_total_variation"] = 0.5 * np.abs(uniform - q).sum(axis=1)
    out["mode_probability"], out["mode_share"] = c, s
    return out


def ece_bins(mode_probability: np.ndarray) -> np.ndarray:
    """Each row's calibration bin: `ECE_BINS` equal-width bins of c over [0, 1], the last one closed."""
    return np.minimum((np.asarray(mode_probability) * ECE_BINS).astype(np.int64), ECE_BINS - 1)


def row_columns(scores: dict[str, np.ndarray]) -> np.ndarray:
    """Every summary figure is a function of sums over rows of these columns (rows x columns): the per-row
    figures, the uniform distribution's TV, and per calibration bin c, s and the row itself. A bootstrap draw
    is then a weighted sum of rows (or of per-profile sums), as `figures_of` reads it."""
    one_hot = np.eye(ECE_BINS)[ece_bins(scores["mode_probability"])]
    values = [scores[name] for name in (*ROW_FIGURES, "uniform_total_variation")]
    return np.column_stack(
        [*values, one_hot * scores["mode_probability"][:, None], one_hot * scores["mode_share"][:, None], one_hot]
    )


def figures_of(sums: np.ndarray) -> dict[str, np.ndarray]:
    """The summary figures of each draw from its column sums (draws x `row_columns` columns): the mean of every
    per-row figure, SimBench's score (both TV means over the same rows) and the calibration error."""
    sums = np.atleast_2d(sums)
    named = len(ROW_FIGURES) + 1
    c, s, n = (sums[:, named + i * ECE_BINS : named + (i + 1) * ECE_BINS].T for i in range(3))
    rows = n.sum(axis=0)
    out = {name: sums[:, i] / rows for i, name in enumerate(ROW_FIGURES)}
    out["simbench_score"] = simbench_score(out["total_variation"], sums[:, named - 1] / rows)
    out["ece_mode"] = np.abs(c - s).sum(axis=0) / rows
    return out


def summary(scores: dict[str, np.ndarray], weights=None) -> dict[str, float]:
    """The mean of every per-row figure, SimBench's score and the calibration error (`weights`: how often each
    row counts, as a bootstrap draw has it)."""
    columns = row_columns(scores)
    w = np.ones(len(columns)) if weights is None else np.asarray(weights, dtype=np.float64)
    return {name: float(values[0]) for name, values in figures_of(w @ columns).items()}


def simbench_score(total_variation, uniform_total_variation):
    """100 (1 - TV / TV_uniform): 0 is the uniform distribution's score, 100 an exact match."""
    return 100 * (1 - np.asarray(total_variation) / np.asarray(uniform_total_variation))


def human_floor(counts, num_options, draws: int = FLOOR_DRAWS, seed: int = 0) -> dict[str, np.ndarray]:
    """Per row, the mean TV, JS and normalised WD between the survey's shares and `draws` multinomial resamples
    of its own `support` respondents (SubPOP's bootstrap floor: what a model that knew each profile's true
    distribution would still score against a sample of that size). Drawn `FLOOR_CHUNK` resamples at a time."""
    k = np.asarray(num_options, dtype=np.int64).reshape(-1)
    counts = as_matrix(counts, k, "answer counts")
    q, support = shares(counts), np.rint(counts.sum(axis=1)).astype(np.int64)
    rng = np.random.default_rng(seed)
    totals: dict[str, np.ndarray] = {}
    for start in range(0, draws, FLOOR_CHUNK):
        size = min(FLOOR_CHUNK, draws - start)
        sampled = np.stack([rng.multinomial(support, q) for _ in range(size)], axis=2)  # rows x options x draws
        reference = np.broadcast_to(q[:, :, None], sampled.shape)
        for name, values in _distances(sampled / support[:, None, None], reference, k).items():
            totals[name] = totals.get(name, 0.0) + values.sum(axis=1)
    return {name: total / draws for name, total in totals.items()}
