"""Seeded choices of rows, shared by `dvmap eval`, the harness tasks, the quickstart and the training
callbacks: the same seed gives the same rows and the same per-row seed wherever a row is asked."""

from __future__ import annotations

import zlib


def row_seed(seed: int, row_id: str) -> int:
    """A row's own sampling seed: independent of the batch it is asked in, so batching and resuming change
    nothing."""
    return zlib.crc32(f"{seed}:{row_id}".encode())


def sample_indices(n: int, limit: int | None, seed: int) -> list[int]:
    """All of range(n), or a seeded sample of `limit` of them in increasing order: every country and
    question stays represented (the rows are sorted by country), and the same seed gives the same rows."""
    if limit is None or limit >= n:
        return list(range(n))
    import numpy as np

    return sorted(np.random.default_rng(seed).choice(n, size=limit, replace=False).tolist())


def sample_rows(split, limit: int | None, seed: int):
    """A `datasets` split, or its seeded sample of `limit` rows in dataset order."""
    return split if limit is None else split.select(sample_indices(len(split), limit, seed))
