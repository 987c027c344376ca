"""`dvmap_hf/data/consensus.py`: (profile, question) answer tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvmap_hf.data.consensus import pair_table


def test_pair_table_by_hand():
    profile = np.array([0, 0, 0, 0, 1, 1, 2])
    answers = np.array([[0, 2], [0, 2], [1, 2], [1, -1], [3, 0], [3, -1], [-1, -1]], dtype=np.int8)
    frame = pair_table(profile, answers).frame.set_index(["profile", "question"])
    assert frame.loc[(0, 0)].tolist() == pytest.approx([0, 4, math.log(2), 2])  # tie -> earliest option
    assert frame.loc[(0, 1)].tolist() == pytest.approx([2, 3, 0.0, 1])
    assert frame.loc[(1, 0)].tolist() == pytest.approx([3, 2, 0.0, 1])
    assert frame.loc[(1, 1)].tolist() == pytest.approx([0, 1, 0.0, 1])
    assert (2, 0) not in frame.index  # no valid answer -> no pair


def test_pair_table_with_many_profiles_and_int8_answers():
    profile = np.array([0, 40_000, 40_000, 40_000])
    answers = np.array([[1], [2], [2], [0]], dtype=np.int8)
    frame = pair_table(profile, answers).frame.set_index("profile")
    assert frame.loc[40_000, ["answer_index", "support", "distinct"]].tolist() == [2, 3, 2]
    assert frame.loc[0, "answer_index"] == 1 and len(frame) == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(-1, 3), st.integers(-1, 4)), min_size=1, max_size=80))
def test_pair_table_matches_a_plain_groupby(rows):
    profile = np.array([r[0] for r in rows])
    answers = np.array([[r[1], r[2]] for r in rows], dtype=np.int8)
    table = pair_table(profile, answers)
    long = pd.DataFrame(
        {"profile": np.repeat(profile, 2), "question": np.tile([0, 1], len(rows)), "answer": answers.ravel()}
    )
    long = long[long.answer >= 0]
    expected = long.groupby(["profile", "question"])["answer"].agg(
        support="size",
        distinct="nunique",
        entropy=lambda a: float(-(a.value_counts(normalize=True) * np.log(a.value_counts(normalize=True))).sum()),
        mode=lambda a: int(a.value_counts().sort_index().idxmax()),
    )
    got = table.frame.set_index(["profile", "question"]).sort_index()
    assert got["support"].tolist() == expected["support"].tolist()
    assert got["distinct"].tolist() == expected["distinct"].tolist()
    assert got["answer_index"].tolist() == expected["mode"].tolist()
    np.testing.assert_allclose(got["entropy"], expected["entropy"], atol=1e-12)
    strict = table.kept("strict")
    assert (strict["distinct"] == 1).all() and (strict["entropy"] == 0).all()
    assert len(table.kept("majority")) == len(got)
    assert (table.kept("majority", min_support=2)["support"] >= 2).all()
    # the distributional mode keeps what majority keeps, with each pair's counts: a plain value_counts
    assert table.kept("distribution").equals(table.kept("majority"))
    kept = table.kept("distribution")
    counts = table.answer_counts(kept.index.to_numpy(), np.full(len(kept), 5)).to_pylist()
    for (pair, question), row_counts in zip(zip(kept["profile"], kept["question"]), counts, strict=True):
        answers = long[(long.profile == pair) & (long.question == question)]["answer"]
        assert row_counts == [int((answers == option).sum()) for option in range(5)]
