"""`dvmap_hf/data/codebook.py`: the WVS codebook facts."""

from __future__ import annotations

import numpy as np

from dvmap_hf.data.codebook import QUESTIONS


def test_scale_10_questions_are_cut_into_low_medium_high():
    q49 = QUESTIONS["Q49"]
    assert q49.option_index(np.array([1, 3, 4, 7, 8, 10, -1, 0])).tolist() == [0, 0, 1, 1, 2, 2, -1, -1]
    assert QUESTIONS["Q36"].option_index(np.array([1, 5, 6])).tolist() == [0, 4, -1]
