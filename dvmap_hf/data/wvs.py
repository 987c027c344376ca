"""Read a WVS Wave 7 file (.sav / .dta through pyreadstat, .csv with numeric codes) into integer codes.

Only the columns the kit needs are read. Negative WVS missing codes are kept as they are
(`user_missing=True`, so a .sav that declares -1..-5 user-missing does not turn them into NaN);
system-missing cells become -5 ("Missing"). Labels are not applied here: the codebook in
`dvmap_hf.data.codebook` decides them, with the file's own value labels kept as a fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DvmapError
from .codebook import ALPHA_ALIASES, ATTRIBUTES, COUNTRIES, NUMERIC_TO_ALPHA, QUESTIONS, UNIT_MERGES

MISSING = -5  # WVS "Missing; Not available"
SUFFIXES = {".sav": "spss", ".zsav": "spss", ".dta": "stata", ".csv": "csv"}
COUNTRY_COLUMNS = ("B_COUNTRY_ALPHA", "B_COUNTRY")
ID_COLUMN = "D_INTERVIEW"  # the respondent id of the cross-national file


@dataclass
class WVSData:
    """Integer codes of the needed columns, one row per respondent, plus what the file said about them."""

    path: Path
    codes: pd.DataFrame  # "country" (ISO3 str) + one int column per WVS variable read
    file_labels: dict[str, dict[int, str]] = field(default_factory=dict)
    religion_source: str = "Q289CS9"
    file_label: str = ""  # the file's own description (.sav/.dta label, or the csv `version` column)
    rows: np.ndarray | None = None  # each respondent's data row in the file (1-based), kept through subsets

    def __post_init__(self) -> None:
        if self.rows is None:  # as read: the file's own order
            self.rows = np.arange(1, len(self.codes) + 1)

    def row_of(self, position: int) -> int:
        """The file's data row of the respondent at `position` of `codes`."""
        return int(self.rows[position])

    def subset(self, keep: np.ndarray) -> WVSData:
        """The respondents where `keep` is true, their file rows with them."""
        return replace(self, codes=self.codes[keep].reset_index(drop=True), rows=self.rows[keep])

    @property
    def synthetic(self) -> bool:
        return "SYNTHETIC" in self.file_label.upper()

    @property
    def countries(self) -> list[str]:
        return sorted(self.codes["country"].unique())


def _format_of(path: Path) -> str:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DvmapError(f"{path}: unsupported file type {path.suffix!r}; expected one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise DvmapError(f"{path}: no such file")
    return fmt


def _pyreadstat_reader(fmt: str):
    import pyreadstat

    return pyreadstat.read_sav if fmt == "spss" else pyreadstat.read_dta


def _column_names(path: Path, fmt: str) -> tuple[list[str], str]:
    """The file's column names and its own description (to tell a synthetic file from the real one)."""
    try:
        if fmt == "csv":
            head = pd.read_csv(path, nrows=1, encoding="utf-8-sig")
            label = str(head["version"].iloc[0]) if "version" in head and len(head) else ""
            return list(head.columns), label
        _, meta = _pyreadstat_reader(fmt)(str(path), metadataonly=True)
        return list(meta.column_names), str(meta.file_label or "")
    except Exception as exc:  # pyreadstat and pandas raise many types for a damaged file
        raise DvmapError(f"{path}: cannot read this file as {fmt} ({exc})") from exc


def _needed_columns(path: Path, available: list[str], question_ids: list[str]) -> tuple[dict[str, str], str]:
    """Map each WVS variable we need to the file's own spelling; say clearly what is missing."""
    by_upper = {name.upper(): name for name in available}
    if "Q1" not in by_upper and "Q1P" in by_upper:
        raise DvmapError(
            f"{path}: this is the WVS 'inverted' file (Q1P ... instead of Q1 ...), whose items are recoded; "
            "download the standard (non-inverted) Wave 7 file"
        )
    wanted: dict[str, str] = {}
    country = next((c for c in COUNTRY_COLUMNS if c in by_upper), None)
    if country is None:
        raise DvmapError(f"{path}: no country column (expected one of {', '.join(COUNTRY_COLUMNS)})")
    wanted[country] = by_upper[country]
    religion_source = "Q289CS9"
    for attr in ATTRIBUTES[1:]:
        source = attr.source
        if source not in by_upper and attr.fallback_source in by_upper:
            source = religion_source = attr.fallback_source
        if source not in by_upper:
            raise DvmapError(f"{path}: required column {source} ({attr.release_name}) is missing")
        wanted[source] = by_upper[source]
    for qid in question_ids:
        if qid not in by_upper:
            raise DvmapError(f"{path}: required column {qid} (value question) is missing")
        wanted[qid] = by_upper[qid]
    if ID_COLUMN in by_upper:  # optional: checked for duplicates when present
        wanted[ID_COLUMN] = by_upper[ID_COLUMN]
    return wanted, religion_source


def _check_unique_ids(path: Path, ids: np.ndarray) -> None:
    """Two records with one respondent id would count that respondent twice in every support."""
    values, first, counts = np.unique(ids, return_index=True, return_counts=True)
    repeated = counts > 1
    if repeated.any():
        rid = values[repeated][0]
        where = np.flatnonzero(ids == rid)[:5] + 1
        raise DvmapError(
            f"{path}: column {ID_COLUMN}: respondent id {rid} appears {counts[repeated][0]} times (data rows "
            f"{', '.join(map(str, where))}); {int(repeated.sum())} id(s) repeat in all. Remove the duplicate records"
        )


def _read_columns(path: Path, fmt: str, columns: list[str]) -> tuple[pd.DataFrame, dict[str, dict]]:
    try:
        if fmt == "csv":
            return pd.read_csv(path, usecols=columns, encoding="utf-8-sig", low_memory=False), {}
        frame, meta = _pyreadstat_reader(fmt)(str(path), usecols=columns, user_missing=True)
    except Exception as exc:
        raise DvmapError(f"{path}: cannot read columns from this {fmt} file ({exc})") from exc
    return frame, dict(meta.variable_value_labels)


def _as_codes(path: Path, column: str, values: pd.Series) -> np.ndarray:
    """Integer codes; system-missing -> -5; a non-integer value is an error naming its row."""
    if pd.api.types.is_numeric_dtype(values):
        numeric, bad = values, np.zeros(len(values), dtype=bool)
    else:  # text in a code column (a csv cell such as "happy")
        numeric = pd.to_numeric(values, errors="coerce")
        bad = (numeric.isna() & values.notna()).to_numpy()
    filled = numeric.fillna(MISSING).to_numpy(dtype=np.float64)
    bad = bad | (filled != np.round(filled))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        shown = _shown(values.iloc[row])
        raise DvmapError(f"{path}: column {column}, data row {row + 1}: value {shown} is not an integer code")
    return filled.astype(np.int64)


def _shown(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _country_alpha(path: Path, var: str, column: str, values: pd.Series, merge_units: bool) -> np.ndarray:
    if var == "B_COUNTRY":
        codes = _as_codes(path, column, values)
        alpha = pd.Series(codes).map(NUMERIC_TO_ALPHA)
    else:
        index, distinct = pd.factorize(values, use_na_sentinel=False)  # clean each distinct spelling once
        clean = pd.Series(distinct.astype(str)).str.strip().str.upper().replace(ALPHA_ALIASES)
        alpha = pd.Series(clean.to_numpy(dtype=object)[index])
    unknown = ~alpha.isin(list(COUNTRIES))
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DvmapError(
            f"{path}: column {column}, data row {row + 1}: unknown WVS country {_shown(values.iloc[row])}"
        )
    if merge_units:
        alpha = alpha.replace(UNIT_MERGES)
    return alpha.to_numpy(dtype=object)


def read_wvs(path: str | Path, question_ids: list[str] | None = None, merge_units: bool = True) -> WVSData:
    """Read the country, the 11 attribute sources and the value questions of a WVS Wave 7 file.

    Args:
        path: a .sav, .dta or .csv file of the cross-national Wave 7 data (v5 or v6 layout).
        question_ids: value questions to read (default: all training and cross-value questions).
        merge_units: count Northern Ireland (NIR) as part of the United Kingdom unit GBR.
    """
    path = Path(path)
    fmt = _format_of(path)
    question_ids = list(question_ids or QUESTIONS)
    columns, file_label = _column_names(path, fmt)
    wanted, religion_source = _needed_columns(path, columns, question_ids)
    raw, value_labels = _read_columns(path, fmt, list(wanted.values()))
    country_var = next(var for var in wanted if var in COUNTRY_COLUMNS)
    codes = {"country": _country_alpha(path, country_var, wanted[country_var], raw[wanted[country_var]], merge_units)}
    for var, column in wanted.items():
        if var != country_var:
            codes[var] = _as_codes(path, column, raw[column])
    file_labels = {
        var: {
            int(code): str(label) for code, label in value_labels.get(column, {}).items() if float(code).is_integer()
        }
        for var, column in wanted.items()
    }
    if ID_COLUMN in codes:
        _check_unique_ids(path, codes.pop(ID_COLUMN))
    return WVSData(path, pd.DataFrame(codes), file_labels, religion_source, file_label)
