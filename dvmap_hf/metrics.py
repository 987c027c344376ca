"""The paper's metrics (Sec. 5.1) in plain numpy: Accuracy, Likert Consistency, Wasserstein Distance.

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


def accuracy(predictions, references, num_options=None) -> float:
    """Share of exact matches; an invalid prediction is wrong."""
    if num_options is None:  # accuracy needs no scale: any K that holds every index will do
        num_options = max(2, int(np.max(predictions, initial=0)) + 1, int(np.max(references, initial=0)) + 1)
    pred, ref, _ = _validate(predictions, references, num_options)
    return float((pred == ref).mean())


def likert_consistency(predictions, references, num_options) -> float:
    """LC = 1 - mean(|yhat - y| / (K - 1)); an invalid prediction scores 0."""
    pred, ref, k = _validate(predictions, references, num_options)
    score = 1.0 - np.abs(pred - ref) / (k - 1)
    return float(np.where(pred == INVALID, 0.0, score).mean())


def entropy(counts) -> float:
    """Shannon entropy in nats of a distribution given by counts (zero counts ignored)."""
    counts = np.asarray(counts, dtype=np.float64)
    share = counts[counts > 0] / counts.sum()
    return float(-(share * np.log(share)).sum())


def invalid_rate(predictions) -> float:
    pred = np.asarray(predictions).reshape(-1)
    return float((pred == INVALID).mean()) if len(pred) else 0.0


def wasserstein_distance(
    predictions, references, num_options, groups: Sequence | None = None, normalize: bool = True
) -> dict[str, float]:
    """Mean over groups of the WD between predicted and real answer distributions.

    Returns `wasserstein_distance`, `groups`, `groups_without_valid_prediction` and `invalid_rate`.
    """
    pred, ref, k = _validate(predictions, references, num_options)
    if groups is None:
        group = np.zeros(len(ref), dtype=np.int64)
    else:
        if len(groups) != len(ref):
            raise ValueError(f"groups has {len(groups)} values for {len(ref)} rows")
        _, group = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    n_groups, width = int(group.max()) + 1, int(k.max())
    group_k = np.zeros(n_groups, dtype=np.int64)
    np.maximum.at(group_k, group, k)
    if (group_k[group] != k).any():
        raise ValueError("num_options must be the same for every row of a group")
    real = np.bincount(group * width + ref, minlength=n_groups * width).reshape(n_groups, width)
    valid = pred != INVALID
    guess = np.bincount(group[valid] * width + pred[valid], minlength=n_groups * width).reshape(n_groups, width)
    has_valid = guess.sum(axis=1) > 0
    real_cdf = np.cumsum(real / real.sum(axis=1, keepdims=True), axis=1)
    guess_cdf = np.cumsum(guess / np.maximum(guess.sum(axis=1, keepdims=True), 1), axis=1)
    inside = np.arange(width)[None, :] < (group_k[:, None] - 1)  # the last CDF term is 1 - 1 = 0
    distance = (np.abs(guess_cdf - real_cdf) * inside).sum(axis=1)
    distance = np.where(has_valid, distance, group_k - 1)
    if normalize:
        distance = distance / (group_k - 1)
    return {
        "wasserstein_distance": float(distance.mean()),
        "groups": n_groups,
        "groups_without_valid_prediction": int((~has_valid).sum()),
        "invalid_rate": float((~valid).mean()),
    }
