"""The paper's metrics (Sec. 5.1) in plain numpy: Accuracy, Likert Consistency, Wasserstein Distance; and
the distribution distances of the survey-alignment literature: total variation and Jensen-Shannon.

Inputs are 0-based option indices, -1 = invalid (unparseable) prediction; `num_options` (K) is a
scalar or one value per row. This module imports nothing but numpy, so `dvmap push-metrics` can ship
it beside the `evaluate` modules on a Hub Space unchanged.

Wasserstein Distance, per group (default country x question): the predicted and the real answers
give two probability distributions over the K ordered option positions; WD = sum_k |CDF_pred(k) -
CDF_real(k)| (the 1-D earth mover's distance with unit spacing), averaged over groups.
`normalize=True` (default) divides by K - 1, as OpinionsQA and SubPOP do, so 0 <= WD <= 1 whatever
K; `normalize=False` is the paper's raw formula. Invalid predictions are left out of the predicted
distribution and reported; a group with no valid prediction counts as the largest distance
(1 normalised, K - 1 raw) rather than disappearing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

INVALID = -1


def _whole(values, name: str) -> np.ndarray:
    """`values` as int64, refusing 1.7 or 4.9 rather than truncating them (an index is a whole number)."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    bad = ~np.isfinite(array) | (array != np.round(array))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be whole numbers; got {array[i]} at position {i}")
    return array.astype(np.int64)


def _validate(predictions, references, num_options) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if num_options is None:
        raise ValueError("num_options is required: K, the number of options (one for all rows or one per row)")
    pred = _whole(predictions, "predictions")
    ref = _whole(references, "references")
    if len(pred) != len(ref):
        raise ValueError(f"predictions and references differ in length: {len(pred)} vs {len(ref)}")
    k = np.broadcast_to(_whole(num_options, "num_options").reshape(np.shape(num_options)), ref.shape).copy()
    if np.ndim(num_options) and len(np.asarray(num_options).reshape(-1)) != len(ref):
        raise ValueError(f"num_options has {len(np.asarray(num_options).reshape(-1))} values for {len(ref)} rows")
    if len(ref) == 0:
        raise ValueError("no rows to score")
    if (k < 2).any():
        raise ValueError(f"num_options must be >= 2, got {int(k.min())}")
    bad_ref = (ref < 0) | (ref >= k)
    if bad_ref.any():
        i = int(np.flatnonzero(bad_ref)[0])
        raise ValueError(f"reference {ref[i]} at row {i} is out of range 0..{k[i] - 1}")
    bad_pred = (pred < INVALID) | (pred >= k)
    if bad_pred.any():
        i = int(np.flatnonzero(bad_pred)[0])
        raise ValueError(f"prediction {pred[i]} at row {i} is out of range -1..{k[i] - 1} (-1 = invalid)")
    return pred, ref, k


def _row_weights(weights, n: int) -> np.ndarray:
    """How many times each row counts (a bootstrap resample's multiplicities); None = once each."""
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(w) != n:
        raise ValueError(f"weights has {len(w)} values for {n} rows")
    if not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
        raise ValueError("weights must be finite, >= 0 and not all 0")
    return w


def accuracy(predictions, references, num_options=None, weights=None) -> float:
    """Share of exact matches; an invalid prediction is wrong. `weights`: how often each row counts."""
    if num_options is None:  # accuracy needs no scale: any K that holds every index will do
        num_options = max(2, int(np.max(predictions, initial=0)) + 1, int(np.max(references, initial=0)) + 1)
    pred, ref, _ = _validate(predictions, references, num_options)
    return float(np.average(pred == ref, weights=_row_weights(weights, len(ref))))


def likert_scores(pred: np.ndarray, ref: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Each row's Likert consistency: 1 - |yhat - y| / (K - 1), 0 for an invalid prediction."""
    return np.where(pred == INVALID, 0.0, 1.0 - np.abs(pred - ref) / (k - 1))


def likert_consistency(predictions, references, num_options, weights=None) -> float:
    """LC = 1 - mean(|yhat - y| / (K - 1)); an invalid prediction scores 0."""
    pred, ref, k = _validate(predictions, references, num_options)
    return float(np.average(likert_scores(pred, ref, k), weights=_row_weights(weights, len(ref))))


def entropy(counts) -> float:
    """Shannon entropy in nats of a distribution given by counts (zero counts ignored)."""
    counts = np.asarray(counts, dtype=np.float64)
    share = counts[counts > 0] / counts.sum()
    return float(-(share * np.log(share)).sum())


def invalid_rate(predictions, weights=None) -> float:
    pred = np.asarray(predictions).reshape(-1)
    return float(np.average(pred == INVALID, weights=_row_weights(weights, len(pred)))) if len(pred) else 0.0


def group_index(groups: Sequence | None, n: int) -> np.ndarray:
    """Each row's group as a code 0..G-1 (one group when `groups` is None)."""
    if groups is None:
        return np.zeros(n, dtype=np.int64)
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} values for {n} rows")
    codes = np.asarray(groups)
    if codes.dtype.kind not in "iu":  # labels; integer codes (a bootstrap's) are taken as they are
        codes = codes.astype(object).astype(str)
    return np.unique(codes, return_inverse=True)[1].reshape(-1)


def group_options(k: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each group's K, refusing a group whose rows disagree on it."""
    group_k = np.zeros(int(group.max()) + 1, dtype=np.int64)
    np.maximum.at(group_k, group, k)
    if (group_k[group] != k).any():
        raise ValueError("num_options must be the same for every row of a group")
    return group_k


def answer_cells(pred, ref, k, group) -> tuple[np.ndarray, np.ndarray, int]:
    """Each row's cell (group x option, the options padded to the widest K) of its real answer and of its
    prediction (-1 when invalid), and the widest K: a group's answer counts are sums over these cells."""
    width = int(k.max())
    return group * width + ref, np.where(pred == INVALID, -1, group * width + pred), width


def _cell_sums(cells: np.ndarray, w: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The row weights summed per cell, as (groups x options x 1 draw); a row of cell -1 is left out."""
    keep = cells >= 0
    return np.bincount(cells[keep], w[keep], shape[0] * shape[1]).reshape(*shape, 1)


def _group_sums(pred, ref, k, group, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The weights of the real and of the predicted answers per group and option, and each group's K."""
    group_k = group_options(k, group)
    real_cells, guess_cells, width = answer_cells(pred, ref, k, group)
    shape = (len(group_k), width)
    return _cell_sums(real_cells, w, shape), _cell_sums(guess_cells, w, shape), group_k


# The distances below take summed weights shaped (groups x options x draws): a bootstrap's draws last, so
# every sum over a group's few options adds whole rows of draws (numpy is slow over an axis of 3-11 values).


def _shares(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each group's shares over its options, and whether it has any weight at all (groups x draws)."""
    total = sums.sum(axis=1)
    return sums / np.where(total > 0, total, 1)[:, None, :], total > 0


def _group_mean(distance: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Each draw's mean over the groups it holds."""
    return (distance * present).sum(axis=0) / present.sum(axis=0)


class Distributions(NamedTuple):
    """Per group and draw, the real and the predicted answer shares (groups x options x draws), whether the
    group has rows (a group whose rows all weigh 0, not drawn, is absent) and any valid prediction."""

    real: np.ndarray
    guess: np.ndarray
    present: np.ndarray
    has_valid: np.ndarray

    @classmethod
    def of(cls, real_sums: np.ndarray, guess_sums: np.ndarray) -> Distributions:
        """From the summed weights of the real answers and of the valid predictions per group and option."""
        (real, present), (guess, has_valid) = _shares(real_sums), _shares(guess_sums)
        return cls(real, guess, present, has_valid)


def wasserstein_of(d: Distributions, group_k: np.ndarray, normalize: bool = True) -> np.ndarray:
    """Per draw, the mean over groups of the WD between the predicted and the real answers; a group
    without a valid prediction counts as the largest distance."""
    real, guess, present, has_valid = d
    inside = np.arange(real.shape[1]) < (group_k[:, None] - 1)  # the last CDF term is 1 - 1 = 0
    distance = (np.abs(np.cumsum(guess - real, axis=1)) * inside[:, :, None]).sum(axis=1)
    distance = np.where(has_valid, distance, (group_k - 1)[:, None])
    return _group_mean(distance / (group_k - 1)[:, None] if normalize else distance, present)


def distances_of(d: Distributions, soft_sums: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per draw, the mean over groups of TV and JS (and their soft versions, from the groups' summed
    option probabilities, groups x options x draws); a group without a valid prediction counts as 1."""
    real, guess, present, has_valid = d
    tv, js = _tv_js(guess, real)
    result = {
        "total_variation": _group_mean(np.where(has_valid, tv, 1.0), present),
        "jensen_shannon": _group_mean(np.where(has_valid, js, 1.0), present),
    }
    if soft_sums is not None:
        soft_tv, soft_js = _tv_js(_shares(soft_sums)[0], real)
        result |= {
            "soft_total_variation": _group_mean(soft_tv, present),
            "soft_jensen_shannon": _group_mean(soft_js, present),
        }
    return result


def wasserstein_distance(
    predictions, references, num_options, groups: Sequence | None = None, normalize: bool = True, weights=None
) -> dict[str, float]:
    """Mean over groups of the WD between predicted and real answer distributions.

    Returns `wasserstein_distance`, `groups`, `groups_without_valid_prediction` and `invalid_rate`.
    """
    pred, ref, k = _validate(predictions, references, num_options)
    w = _row_weights(weights, len(ref))
    real_sums, guess_sums, group_k = _group_sums(pred, ref, k, group_index(groups, len(ref)), w)
    d = Distributions.of(real_sums, guess_sums)
    return {
        "wasserstein_distance": float(wasserstein_of(d, group_k, normalize)[0]),
        "groups": int(d.present.sum()),
        "groups_without_valid_prediction": int((~d.has_valid & d.present).sum()),
        "invalid_rate": float(np.average(pred == INVALID, weights=w)),
    }


def option_matrix(rows, num_options: np.ndarray, name: str = "probabilities") -> np.ndarray:
    """Per-row lists of K values as one (rows x widest K) float array, zero-padded; an array of that shape is
    taken as it is (so a bootstrap converts the lists once). `name` names the input in an error."""
    k = np.asarray(num_options, dtype=np.int64).reshape(-1)
    width = int(k.max(initial=0))
    if isinstance(rows, np.ndarray) and rows.shape == (len(k), width):
        return rows.astype(np.float64, copy=False)
    if len(rows) != len(k):
        raise ValueError(f"{name} has {len(rows)} rows for {len(k)} num_options")
    matrix = np.zeros((len(k), width))
    for i, values in enumerate(rows):
        if len(values) != k[i]:
            raise ValueError(f"{name} of row {i} has {len(values)} values for {k[i]} options")
        matrix[i, : len(values)] = values
    return matrix


def _tv_js(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Total variation 0.5 * sum |p - q| and Jensen-Shannon distance in bits (log base 2, so it lies in
    [0, 1]): sqrt(0.5 KL(p || m) + 0.5 KL(q || m)), m = (p + q) / 2; over the options (axis 1)."""
    m = (p + q) / 2

    def kl(a: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, a * np.log2(a / m), 0.0).sum(axis=1)

    return 0.5 * np.abs(p - q).sum(axis=1), np.sqrt(np.maximum(0.5 * kl(p) + 0.5 * kl(q), 0.0))


def distribution_distances(
    predictions, references, num_options, groups: Sequence | None = None, probabilities=None, weights=None
) -> dict[str, float]:
    """Mean over groups of the total variation and the Jensen-Shannon distance (base 2) between the
    predicted and the real answer distributions; a group with no valid prediction counts as 1 (the largest).

    With `probabilities` (one list of K option probabilities per row, as log-likelihood scoring gives) the
    "soft" versions use, per group, the mean predicted probabilities instead of the argmax counts.
    """
    pred, ref, k = _validate(predictions, references, num_options)
    w, group = _row_weights(weights, len(ref)), group_index(groups, len(ref))
    real_sums, guess_sums, _ = _group_sums(pred, ref, k, group, w)
    soft_sums = None
    if probabilities is not None:
        probs = option_matrix(probabilities, k) * w[:, None]
        soft_sums = np.stack([np.bincount(group, probs[:, j], len(real_sums)) for j in range(probs.shape[1])], 1)
        soft_sums = soft_sums[:, :, None]
    distances = distances_of(Distributions.of(real_sums, guess_sums), soft_sums)
    return {name: float(values[0]) for name, values in distances.items()}
