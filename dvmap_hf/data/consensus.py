"""High-consensus profiles: Shannon entropy of each (profile, question) answer distribution.

Entropy uses the natural log (a near-uniform 3-way split gives H ~= 1.09, as the paper's Fig. 1
implies). `strict` keeps pairs with H == 0 (every respondent of the profile gave the same answer,
the paper's filter); `majority` keeps every pair with its mode answer (the H >= 0 ablation; ties
go to the option earlier in scale order); `distribution` keeps every pair as `majority` does and with it
the respondents' answer counts in scale order (they sum to `support`). All of it is numpy over the whole
file: no per-row loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DvmapError
from ..options import one_of
from .codebook import Question

if TYPE_CHECKING:  # pandas is imported where frames are made: `dvmap --help` stays light
    import pandas as pd
    import pyarrow as pa

    from .wvs import WVSData

CONSENSUS_MODES = ("strict", "majority", "distribution")


def answer_matrix(data: WVSData, questions: list[Question]) -> np.ndarray:
    """(respondents x questions) option indices; -1 where the respondent gave no valid answer."""
    out = np.empty((len(data.codes), len(questions)), dtype=np.int8)
    for j, question in enumerate(questions):
        codes = data.codes[question.id].to_numpy()
        bad = codes > question.num_codes
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DvmapError(
                f"{data.path}: column {question.id}, data row {data.row_of(row)}: code {codes[row]} is outside the "
                f"codebook range 1-{question.num_codes} (negative codes mean missing)"
            )
        out[:, j] = question.option_index(codes)
    return out


@dataclass
class PairTable:
    """One row per (profile, question) with at least one valid answer."""

    frame: pd.DataFrame  # profile (int), question (int), answer_index (mode), support, entropy, distinct
    counts: np.ndarray  # options x pairs: how many of the pair's respondents gave each option (frame's order)

    def answer_counts(self, pairs: np.ndarray, num_options: np.ndarray) -> pa.ListArray:
        """Each pair's counts over its own `num_options` options, in scale order, as an arrow list column."""
        import pyarrow as pa

        rows = np.zeros((len(pairs), max(len(self.counts), int(num_options.max(initial=0)))), dtype=np.int32)
        rows[:, : len(self.counts)] = self.counts[:, pairs].T
        keep = np.arange(rows.shape[1]) < num_options[:, None]
        offsets = np.r_[0, np.cumsum(num_options)].astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(rows[keep], pa.int32()))

    def kept(self, consensus: str = "strict", min_support: int = 1) -> pd.DataFrame:
        one_of("consensus", consensus, CONSENSUS_MODES)
        keep = self.frame["support"] >= min_support
        if consensus == "strict":
            keep &= self.frame["distinct"] == 1
        return self.frame[keep]


def pair_table(profile: np.ndarray, answers: np.ndarray) -> PairTable:
    """Aggregate respondents' answers per (profile, question).

    Two `bincount`s, no sort: answers per pair, then per (option, pair). Most pairs are unanimous
    (often a single respondent); the mode and entropy are computed only for the others.

    Args:
        profile: (n,) integer profile code per respondent (0..P-1).
        answers: (n, Q) option indices, -1 for missing.
    """
    num_questions = answers.shape[1]
    valid = answers >= 0
    pair = (profile.astype(np.int64)[:, None] * num_questions + np.arange(num_questions))[valid]
    option = answers[valid].astype(np.int64)
    support = np.bincount(pair)
    pair_ids = np.flatnonzero(support)
    slot = (np.cumsum(support > 0) - 1)[pair]  # each answer's pair, numbered 0..len(pair_ids)-1
    width = int(option.max(initial=0)) + 1
    counts = np.bincount(option * len(pair_ids) + slot, minlength=width * len(pair_ids)).reshape(width, -1)
    distinct = np.count_nonzero(counts, axis=0)
    mode = np.zeros(len(pair_ids), dtype=np.int8)
    mode[slot] = option  # the mode of every unanimous pair
    entropy = np.zeros(len(pair_ids))
    divided = np.flatnonzero(distinct > 1)
    mode[divided], entropy[divided] = _mode_and_entropy(counts[:, divided])
    import pandas as pd

    frame = pd.DataFrame(
        {
            "profile": pair_ids // num_questions,
            "question": pair_ids % num_questions,
            "answer_index": mode,
            "support": support[pair_ids].astype(np.int32),
            "entropy": entropy,
            "distinct": distinct.astype(np.int16),
        }
    )
    return PairTable(frame, counts)


def _mode_and_entropy(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Most frequent option (the earliest on ties) and Shannon entropy (nats) of each column of
    `counts` (options x pairs)."""
    share = counts / counts.sum(axis=0)
    surprise = np.zeros_like(share)
    np.log(share, out=surprise, where=counts > 0)
    mode, most = np.zeros(counts.shape[1], dtype=np.int8), counts[0].copy()
    for option in range(1, len(counts)):
        better = counts[option] > most
        mode[better], most[better] = option, counts[option][better]
    return mode, np.abs((-share * surprise).sum(axis=0))  # abs: -0.0 -> 0.0


def consensus_stats(profile: np.ndarray, pairs: PairTable, consensus: str, min_support: int) -> dict[str, float]:
    """The paper's two figures (shared profiles, divergent samples dropped: `paper.FIGURES`) for this data."""
    sizes = np.bincount(profile)
    frame = pairs.frame
    divergent = frame["distinct"] > 1
    kept = pairs.kept(consensus, min_support)
    return {
        "respondents": int(len(profile)),
        "profiles": int((sizes > 0).sum()),
        "share_respondents_with_shared_profile": float((sizes[profile] >= 2).mean()) if len(profile) else 0.0,
        "pairs": int(len(frame)),
        "share_pairs_divergent": float(divergent.mean()) if len(frame) else 0.0,
        "share_answers_in_divergent_pairs": (
            float(frame.loc[divergent, "support"].sum() / frame["support"].sum()) if len(frame) else 0.0
        ),
        "pairs_kept": int(len(kept)),
        "share_kept_divergent": float((kept["distinct"] > 1).mean()) if len(kept) else 0.0,
    }
