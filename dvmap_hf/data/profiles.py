"""Respondents -> 11-attribute demographic profiles (paper, App. A), vectorised over the whole file.

Conventions (documented in the README and dataset card):
- life stage from Q262 with half-open bins: <18 Adolescence, 18-34 Young Adulthood,
  35-50 Middle Adulthood, 51-64 Late Adulthood, >=65 Older Adulthood (an age of exactly 35 is
  Middle Adulthood, 51 Late, 65 Older);
- income bracket from Q288: 1-3 Low, 4-7 Middle, 8-10 High;
- parenthood from Q274: 0 -> has no children, >=1 -> has at least one child;
- any negative (missing) code -> "Not Answered".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import DvmapError
from .codebook import (
    ATTRIBUTE_NAMES,
    ATTRIBUTES,
    INCOME_BRACKETS,
    LIFE_STAGES,
    NOT_ANSWERED,
    Attribute,
    country_name,
)
from .wvs import WVSData

MAX_AGE = 120


def _bad_code(data: WVSData, column: str, codes: np.ndarray, bad: np.ndarray, why: str) -> DvmapError:
    row = int(np.flatnonzero(bad)[0])
    return DvmapError(f"{data.path}: column {column}, data row {data.row_of(row)}: code {codes[row]} {why}")


def categorical(labels: np.ndarray, index: np.ndarray) -> pd.Categorical:
    """`labels[index]` as a categorical with the sorted labels in use as categories, built from the
    integer index: no string per respondent."""
    used, index = np.unique(index, return_inverse=True)
    categories, label_of_used = np.unique(labels[used].astype(str), return_inverse=True)
    return pd.Categorical.from_codes(label_of_used[index], categories=categories)


def _lookup(data: WVSData, attr: Attribute) -> pd.Categorical:
    """Codebook label per code; the file's own label for a code the codebook lacks; else an error."""
    column, labels = attr.source, attr.labels
    if data.religion_source == attr.fallback_source and attr.fallback_source is not None:
        column, labels = attr.fallback_source, attr.fallback_labels
    codes = data.codes[column].to_numpy()
    uniques, inverse = np.unique(codes, return_inverse=True)
    file_labels = data.file_labels.get(column, {})
    mapped = []
    for code in uniques.tolist():  # one step per distinct code, not per respondent
        if code < 0:
            mapped.append(NOT_ANSWERED)
        elif code in labels:
            mapped.append(labels[code])
        elif code in file_labels:
            mapped.append(file_labels[code])
        else:
            raise _bad_code(
                data, column, codes, codes == code, "is not in the WVS codebook and the file has no label for it"
            )
    return categorical(np.asarray(mapped, dtype=object), inverse)


def _binned(data: WVSData, column: str, bins: tuple[tuple[str, int], ...], upper: int) -> pd.Categorical:
    """Label of the half-open bin [lower_i, lower_{i+1}) holding each code; negatives -> Not Answered."""
    codes = data.codes[column].to_numpy()
    lowest = bins[0][1]
    bad = ((codes >= 0) & (codes < lowest)) | (codes > upper)
    if bad.any():
        raise _bad_code(data, column, codes, bad, f"is outside the codebook range {lowest}-{upper}")
    labels = np.asarray([label for label, _ in bins] + [NOT_ANSWERED], dtype=object)
    index = np.searchsorted([lower for _, lower in bins], codes, side="right") - 1
    return categorical(labels, np.where(codes < 0, len(bins), index))


def _has_children(data: WVSData) -> pd.Categorical:
    codes = data.codes["Q274"].to_numpy()
    labels = np.asarray([NOT_ANSWERED, "has no children", "has at least one child"], dtype=object)
    return categorical(labels, np.select([codes < 0, codes == 0], [0, 1], 2))


def _country(data: WVSData) -> pd.Categorical:
    alphas, index = np.unique(data.codes["country"].to_numpy(dtype=str), return_inverse=True)
    return categorical(np.asarray([country_name(alpha) for alpha in alphas], dtype=object), index)


def profile_frame(data: WVSData) -> pd.DataFrame:
    """One row per respondent: the 11 attribute strings (categorical columns) and a `profile_key`.

    `profile_key` is a stable 64-bit hash of the 11 strings: the same profile gets the same key in
    every build, whatever file, order or seed, so profile ids can be compared across builds.
    """
    columns: dict[str, pd.Categorical] = {}
    for attr in ATTRIBUTES:
        if attr.name == "country":
            columns[attr.name] = _country(data)
        elif attr.name == "life_stage":
            columns[attr.name] = _binned(data, "Q262", LIFE_STAGES, MAX_AGE)
        elif attr.name == "income_bracket":
            columns[attr.name] = _binned(data, "Q288", INCOME_BRACKETS, 10)
        elif attr.name == "has_children":
            columns[attr.name] = _has_children(data)
        else:
            columns[attr.name] = _lookup(data, attr)
    frame = pd.DataFrame(columns)
    frame["profile_key"] = profile_keys(frame)
    return frame


def profile_keys(frame: pd.DataFrame, names: Sequence[str] = ATTRIBUTE_NAMES) -> np.ndarray:
    """Stable 64-bit hash of each row's attribute strings (the paper's 11, or a survey spec's `names`): the
    same for a build and an import.

    Categorical columns hash like the strings they hold, at the cost of hashing their categories.
    """
    return pd.util.hash_pandas_object(frame[list(names)], index=False).to_numpy()


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLE_SHIFTS = np.arange(60, -4, -4, dtype=np.uint64)


def profile_id(keys: np.ndarray | pd.Series) -> np.ndarray:
    """The printable form of profile keys: 16 lower-case hex digits, so ids sort as their keys do."""
    keys = np.asarray(keys, dtype=np.uint64)
    digits = _HEX_DIGITS[(keys[:, None] >> _NIBBLE_SHIFTS) & np.uint64(15)]
    return digits.view("S16").ravel().astype(str)
