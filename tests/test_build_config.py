"""`dataset_builder/config.py`: the build options."""

from __future__ import annotations

import pytest

from dvmap_hf.errors import DvmapError
from tests.support import small_config


def test_a_question_cannot_be_both_training_and_cross_value(wvs_csv):
    with pytest.raises(DvmapError, match="both training and cross-value: Q1"):
        small_config(wvs_csv, cross_value_questions=("Q1", "Q8"))
