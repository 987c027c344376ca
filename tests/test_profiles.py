"""`dvmap_hf/data/profiles.py`: the 11 attributes of a respondent and profile keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dvmap_hf.data.codebook import ATTRIBUTE_NAMES, NOT_ANSWERED
from dvmap_hf.data.profiles import profile_frame, profile_id, profile_keys
from dvmap_hf.data.wvs import WVSData
from dvmap_hf.errors import DvmapError


def _data(**columns) -> WVSData:
    n = len(next(iter(columns.values())))
    base = {
        "country": ["USA"] * n,
        "Q260": [1] * n,
        "Q262": [40] * n,
        "Q273": [1] * n,
        "Q274": [0] * n,
        "Q275": [3] * n,
        "Q279": [1] * n,
        "Q284": [2] * n,
        "Q288": [5] * n,
        "Q289CS9": [10100000] * n,
        "Q272": [1240] * n,
    }
    base.update(columns)
    return WVSData(Path("t.csv"), pd.DataFrame(base))


def test_life_stage_boundaries_are_half_open():
    ages = [-2, 16, 17, 18, 34, 35, 50, 51, 64, 65, 99]
    got = list(profile_frame(_data(Q262=ages))["life_stage"])
    assert got == [
        NOT_ANSWERED,
        "Adolescence",
        "Adolescence",
        "Young Adulthood",
        "Young Adulthood",
        "Middle Adulthood",
        "Middle Adulthood",
        "Late Adulthood",
        "Late Adulthood",
        "Older Adulthood",
        "Older Adulthood",
    ]


def test_income_brackets_and_parenthood():
    frame = profile_frame(_data(Q288=[1, 3, 4, 7, 8, 10, -1], Q274=[0, 1, 2, 7, 25, -2, -5]))
    assert list(frame["income_bracket"]) == [
        "Low income",
        "Low income",
        "Middle income",
        "Middle income",
        "High income",
        "High income",
        NOT_ANSWERED,
    ]
    assert list(frame["has_children"]) == [
        "has no children",
        "has at least one child",
        "has at least one child",
        "has at least one child",
        "has at least one child",
        NOT_ANSWERED,
        NOT_ANSWERED,
    ]
    with pytest.raises(DvmapError, match="column Q288, data row 2: code 11 is outside the codebook range 1-10"):
        profile_frame(_data(Q288=[5, 11]))


def test_negative_codes_read_not_answered_and_labels_are_release_strings():
    frame = profile_frame(
        _data(
            Q260=[2, -2],
            Q273=[2, -1],
            Q284=[1, -3],
            Q275=[6, -5],
            Q279=[8, -2],
            Q289CS9=[100000020, -1],
            Q272=[9060, -4],
            country=["GBR", "RUS"],
        )
    )
    assert frame.iloc[0][
        [
            "gender",
            "marital_status",
            "work_nature",
            "education_level",
            "occupation",
            "religion",
            "common_language",
            "country",
        ]
    ].tolist() == [
        "Female",
        "Living together as married",
        "Government or public institution",
        "Bachelor or equivalent (ISCED 6)",
        "Other (write in):",
        "Non-religious",
        "Other Chinese dialects",
        "United Kingdom of Great Britain and Northern Ireland",
    ]
    assert (
        frame.iloc[1][
            ["gender", "marital_status", "work_nature", "education_level", "occupation", "religion", "common_language"]
        ]
        == NOT_ANSWERED
    ).all()
    assert frame.iloc[1]["country"] == "Russian Federation"


def test_profile_key_depends_only_on_the_attributes():
    frame = profile_frame(_data(Q262=[20, 40, 20, 70], Q288=[2, 5, 2, 9]))
    reversed_frame = profile_frame(_data(Q262=[70, 20, 40, 20], Q288=[9, 2, 5, 2]))
    assert frame["profile_key"][0] == frame["profile_key"][2] != frame["profile_key"][1]
    assert sorted(frame["profile_key"]) == sorted(reversed_frame["profile_key"])


def test_profile_keys_hash_the_strings_whether_categorical_or_not():
    frame = profile_frame(_data(Q262=[20, 40, 20, 70], Q288=[2, 5, 2, 9], Q275=[-1, 3, 3, 8]))
    as_strings = frame[list(ATTRIBUTE_NAMES)].astype(str)
    assert frame[list(ATTRIBUTE_NAMES)].dtypes.eq("category").all()
    np.testing.assert_array_equal(profile_keys(as_strings), frame["profile_key"].to_numpy())


def test_profile_ids_are_zero_padded_hex_that_sort_like_the_keys():
    keys = np.array([0, 1, 0xABC, 2**63, 2**64 - 1], dtype=np.uint64)
    ids = profile_id(keys)
    assert ids.tolist() == [f"{int(k):016x}" for k in keys]
    assert sorted(ids.tolist()) == ids.tolist() and len(profile_id(keys[:0])) == 0
