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


def _row_weights(weights, n: int) -> np.ndarray | None:
    """How many times each row counts (a bootstrap resample's multiplicities); None = once each."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    return draw_weights(w[None, :], n)[0]


def draw_weights(weights, n: int) -> np.ndarray:
    """Row weights of several draws at once, (draws x rows): each draw's figures are computed in one pass."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != n:
        raise ValueError(f"weights has {w.shape[-1] if w.ndim else 1} values for {n} rows")
    if not np.isfinite(w).all() or (w < 0).any() or not (w.sum(axis=1) > 0).all():
        raise ValueError("weights must be finite, >= 0 and not all 0")
    return w


def _mean(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each draw's weighted mean of per-row values."""
    return (w @ values.astype(np.float64)) / w.sum(axis=1)


def _one(weights, n: int) -> np.ndarray:
    """One draw's weights as the (1 x rows) matrix the batched functions take."""
    w = _row_weights(weights, n)
    return np.ones((1, n)) if w is None else w[None, :]


def accuracy(predictions, references, num_options=None, weights=None) -> float:
    """Share of exact matches; an invalid prediction is wrong. `weights`: how often each row counts."""
    if num_options is None:  # accuracy needs no scale: any K that holds every index will do
        num_options = max(2, int(np.max(predictions, initial=0)) + 1, int(np.max(references, initial=0)) + 1)
    pred, ref, _ = _validate(predictions, references, num_options)
    return float(_mean(pred == ref, _one(weights, len(ref)))[0])


def likert_scores(pred: np.ndarray, ref: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Each row's Likert consistency: 1 - |yhat - y| / (K - 1), 0 for an invalid prediction."""
    return np.where(pred == INVALID, 0.0, 1.0 - np.abs(pred - ref) / (k - 1))


def likert_consistency(predictions, references, num_options, weights=None) -> float:
    """LC = 1 - mean(|yhat - y| / (K - 1)); an invalid prediction scores 0."""
    pred, ref, k = _validate(predictions, references, num_options)
    return float(_mean(likert_scores(pred, ref, k), _one(weights, len(ref)))[0])


def entropy(counts) -> float:
    """Shannon entropy in nats of a distribution given by counts (zero counts ignored)."""
    counts = np.asarray(counts, dtype=np.float64)
    share = counts[counts > 0] / counts.sum()
    return float(-(share * np.log(share)).sum())


def invalid_rate(predictions, weights=None) -> float:
    pred = np.asarray(predictions).reshape(-1)
    return float(_mean(pred == INVALID, _one(weights, len(pred)))[0]) if len(pred) else 0.0


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


def _cell_sums(cells: np.ndarray, w: np.ndarray, n_cells: int) -> np.ndarray:
    """Per draw, the weights summed over the rows of each cell (draws x cells); a row of cell -1 is left out."""
    keep = np.flatnonzero(cells >= 0)
    order = keep[np.argsort(cells[keep], kind="stable")]
    out = np.zeros((w.shape[0], n_cells))
    if len(order):
        sorted_cells = cells[order]
        starts = np.flatnonzero(np.r_[True, sorted_cells[1:] != sorted_cells[:-1]])
        out[:, sorted_cells[starts]] = np.add.reduceat(w[:, order], starts, axis=1)
    return out


def _group_distributions(pred, ref, k, group, w):
    """Per draw and group: the real answer shares and the predicted ones over the group's options (rows
    padded to the widest K; draws x groups x K), whether any prediction of the group was valid and whether
    the group has rows at all (a group whose rows all weigh 0 is absent); and each group's K."""
    n_groups, width = int(group.max()) + 1, int(k.max())
    group_k = np.zeros(n_groups, dtype=np.int64)
    np.maximum.at(group_k, group, k)
    if (group_k[group] != k).any():
        raise ValueError("num_options must be the same for every row of a group")
    shape = (w.shape[0], n_groups, width)
    real = _cell_sums(group * width + ref, w, n_groups * width).reshape(shape)
    guess = _cell_sums(np.where(pred == INVALID, -1, group * width + pred), w, n_groups * width).reshape(shape)
    has_valid, present = guess.sum(axis=2) > 0, real.sum(axis=2) > 0
    real = real / np.where(present, real.sum(axis=2), 1)[..., None]
    guess = guess / np.where(has_valid, guess.sum(axis=2), 1)[..., None]
    return real, guess, has_valid, present, group_k


def _group_mean(distance: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Each draw's mean over the groups it holds."""
    return (distance * present).sum(axis=1) / present.sum(axis=1)


def wasserstein_values(pred, ref, k, group, w, normalize: bool = True) -> np.ndarray:
    """Per draw (rows of `w`), the mean over groups of the WD; inputs already checked (`_validate`,
    `group_index`, `draw_weights`)."""
    real, guess, has_valid, present, group_k = _group_distributions(pred, ref, k, group, w)
    inside = np.arange(real.shape[2]) < (group_k[:, None] - 1)  # the last CDF term is 1 - 1 = 0
    distance = (np.abs(np.cumsum(guess, axis=2) - np.cumsum(real, axis=2)) * inside).sum(axis=2)
    distance = np.where(has_valid, distance, group_k - 1)
    return _group_mean(distance / (group_k - 1) if normalize else distance, present)


def wasserstein_distance(
    predictions, references, num_options, groups: Sequence | None = None, normalize: bool = True, weights=None
) -> dict[str, float]:
    """Mean over groups of the WD between predicted and real answer distributions.

    Returns `wasserstein_distance`, `groups`, `groups_without_valid_prediction` and `invalid_rate`.
    """
    pred, ref, k = _validate(predictions, references, num_options)
    w, group = _one(weights, len(ref)), group_index(groups, len(ref))
    _, _, has_valid, present, _ = _group_distributions(pred, ref, k, group, w)
    return {
        "wasserstein_distance": float(wasserstein_values(pred, ref, k, group, w, normalize)[0]),
        "groups": int(present.sum()),
        "groups_without_valid_prediction": int((~has_valid & present).sum()),
        "invalid_rate": float(_mean(pred == INVALID, w)[0]),
    }


def option_matrix(probabilities, num_options: np.ndarray) -> np.ndarray:
    """Per-row option probabilities as one (rows x widest K) array, zero-padded; an array of that shape is
    taken as it is (so a bootstrap converts the lists once)."""
    width = int(num_options.max())
    if isinstance(probabilities, np.ndarray) and probabilities.shape == (len(num_options), width):
        return probabilities
    if len(probabilities) != len(num_options):
        raise ValueError(f"probabilities has {len(probabilities)} rows for {len(num_options)}")
    matrix = np.zeros((len(num_options), width))
    for row, probs in enumerate(probabilities):
        if len(probs) != num_options[row]:
            raise ValueError(f"probabilities of row {row} have {len(probs)} values for {num_options[row]} options")
        matrix[row, : len(probs)] = probs
    return matrix


def _tv_js(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Total variation 0.5 * sum |p - q| and Jensen-Shannon distance in bits (log base 2, so it lies in
    [0, 1]): sqrt(0.5 KL(p || m) + 0.5 KL(q || m)), m = (p + q) / 2; over the last axis."""
    m = (p + q) / 2

    def kl(a: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, a * np.log2(a / m), 0.0).sum(axis=-1)

    return 0.5 * np.abs(p - q).sum(axis=-1), np.sqrt(np.maximum(0.5 * kl(p) + 0.5 * kl(q), 0.0))


def distance_values(pred, ref, k, group, w, probabilities: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per draw (rows of `w`), the mean over groups of TV and JS (and, with an option-probability matrix,
    their soft versions); inputs already checked."""
    real, guess, has_valid, present, _ = _group_distributions(pred, ref, k, group, w)
    tv, js = _tv_js(guess, real)
    result = {
        "total_variation": _group_mean(np.where(has_valid, tv, 1.0), present),
        "jensen_shannon": _group_mean(np.where(has_valid, js, 1.0), present),
    }
    if probabilities is not None:
        n_groups = real.shape[1]
        soft = np.stack([_cell_sums(group, w * probabilities[:, j], n_groups) for j in range(real.shape[2])], axis=2)
        total = soft.sum(axis=2, keepdims=True)
        soft_tv, soft_js = _tv_js(soft / np.where(total > 0, total, 1), real)
        result |= {
            "soft_total_variation": _group_mean(soft_tv, present),
            "soft_jensen_shannon": _group_mean(soft_js, present),
        }
    return result


def distribution_distances(
    predictions, references, num_options, groups: Sequence | None = None, probabilities=None, weights=None
) -> dict[str, float]:
    """Mean over groups of the total variation and the Jensen-Shannon distance (base 2) between the
    predicted and the real answer distributions; a group with no valid prediction counts as 1 (the largest).

    With `probabilities` (one list of K option probabilities per row, as log-likelihood scoring gives) the
    "soft" versions use, per group, the mean predicted probabilities instead of the argmax counts.
    """
    pred, ref, k = _validate(predictions, references, num_options)
    w, group = _one(weights, len(ref)), group_index(groups, len(ref))
    probs = None if probabilities is None else option_matrix(probabilities, k)
    return {name: float(values[0]) for name, values in distance_values(pred, ref, k, group, w, probs).items()}
