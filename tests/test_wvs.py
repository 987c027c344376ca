"""`dvmap_hf/data/wvs.py`: reading WVS files (.sav, .dta, .csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from dvmap_hf.data.codebook import CROSS_COUNTRIES, TRAINING_COUNTRIES
from dvmap_hf.data.profiles import profile_frame
from dvmap_hf.data.wvs import read_wvs
from dvmap_hf.errors import DvmapError


def test_sav_dta_and_csv_give_the_same_codes(wvs_sav, wvs_csv, wvs_dta):
    sav, csv, dta = read_wvs(wvs_sav), read_wvs(wvs_csv), read_wvs(wvs_dta)
    pd.testing.assert_frame_equal(sav.codes, csv.codes)
    pd.testing.assert_frame_equal(sav.codes, dta.codes)
    assert sav.synthetic and csv.synthetic and dta.synthetic


def test_reads_only_the_needed_columns_and_keeps_negative_codes(wvs_sav):
    data = read_wvs(wvs_sav)
    assert "D_INTERVIEW" not in data.codes and "A_WAVE" not in data.codes
    # the synthetic .sav declares -5..-1 user-missing on the questions: they must survive as codes
    assert {-1, -2, -4} <= set(np.unique(data.codes["Q36"]))
    assert data.codes["Q36"].dtype == np.int64


def test_northern_ireland_joins_the_uk_unless_asked_not_to(wvs_csv):
    raw = pd.read_csv(wvs_csv)
    merged, alone = read_wvs(wvs_csv), read_wvs(wvs_csv, merge_units=False)
    n_gbr, n_nir = (raw.B_COUNTRY_ALPHA == "GBR").sum(), (raw.B_COUNTRY_ALPHA == "NIR").sum()
    assert n_nir > 0
    assert (merged.codes.country == "GBR").sum() == n_gbr + n_nir
    assert (alone.codes.country == "GBR").sum() == n_gbr and "NIR" not in merged.countries
    assert set(TRAINING_COUNTRIES + CROSS_COUNTRIES) == set(merged.countries)


def test_codebook_labels_win_over_the_files_own(wvs_sav):
    _, meta = pyreadstat.read_sav(str(wvs_sav), metadataonly=True)
    assert meta.variable_value_labels["Q279"][1] == "Full time (30 hours a week or more)"  # the data label
    occupations = set(profile_frame(read_wvs(wvs_sav))["occupation"])
    assert "Full time employee (30 hours a week or more)" in occupations  # the questionnaire / release label
    assert "Full time (30 hours a week or more)" not in occupations


def _write(frame: pd.DataFrame, path, labels=None):
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        pyreadstat.write_sav(frame, str(path), variable_value_labels=labels or {})
    return path


def test_file_label_is_the_fallback_for_a_code_the_codebook_lacks(tmp_path, tiny):
    tiny.loc[5, "Q272"] = 9123
    path = _write(tiny, tmp_path / "x.sav", {"Q272": {9123: "Klingon"}})
    assert "Klingon" in set(profile_frame(read_wvs(path))["common_language"])
    csv = _write(tiny, tmp_path / "x.csv")
    with pytest.raises(DvmapError, match=r"x\.csv: column Q272, data row 6: code 9123 is not in the WVS codebook"):
        profile_frame(read_wvs(csv))


def test_detailed_religion_falls_back_to_the_major_groups(tmp_path, tiny):
    tiny = tiny.drop(columns="Q289CS9").assign(Q289=np.where(np.arange(len(tiny)) % 2, 5, 0))
    data = read_wvs(_write(tiny, tmp_path / "v.csv"))
    assert data.religion_source == "Q289"
    assert set(profile_frame(data)["religion"]) == {"Islam; nfd", "Non-religious"}


def test_numeric_country_column_and_lower_case_names_are_accepted(tmp_path, tiny):
    tiny = tiny.drop(columns="B_COUNTRY_ALPHA").rename(columns=str.lower)
    data = read_wvs(_write(tiny, tmp_path / "n.csv"))
    assert set(data.countries) == set(TRAINING_COUNTRIES + CROSS_COUNTRIES)


@pytest.mark.parametrize(
    "case, edit, message",
    [
        ("inverted", lambda f: f.rename(columns={"Q1": "Q1P"}), "inverted"),
        ("no Q273", lambda f: f.drop(columns="Q273"), r"required column Q273 \(Marital Status\) is missing"),
        ("no country", lambda f: f.drop(columns=["B_COUNTRY", "B_COUNTRY_ALPHA"]), "no country column"),
        (
            "bad country",
            lambda f: f.assign(B_COUNTRY_ALPHA=f.B_COUNTRY_ALPHA.where(f.index != 3, "XYZ")),
            r"column B_COUNTRY_ALPHA, data row 4: unknown WVS country 'XYZ'",
        ),
        (
            "text in a code column",
            lambda f: f.astype({"Q46": object}).assign(Q46=lambda g: g.Q46.where(g.index != 9, "happy")),
            r"column Q46, data row 10: value 'happy' is not an integer",
        ),
        (
            "question code out of range",
            lambda f: f.assign(Q1=f.Q1.where(f.index != 2, 7)),
            r"column Q1, data row 3: code 7 is outside the codebook range 1-4",
        ),
        (
            "age out of range",
            lambda f: f.assign(Q262=f.Q262.where(f.index != 0, 250)),
            r"column Q262, data row 1: code 250 is outside the codebook range",
        ),
    ],
)
def test_bad_files_name_the_file_column_and_row(tmp_path, tiny, case, edit, message):
    path = _write(edit(tiny.copy()), tmp_path / "bad.csv")
    from dataset_builder.build import BuildConfig, build

    with pytest.raises(DvmapError, match=message) as info:
        build(BuildConfig(wvs=path))
    assert "bad.csv" in str(info.value)


def test_unreadable_and_unsupported_files(tmp_path):
    with pytest.raises(DvmapError, match="unsupported file type '.xlsx'"):
        read_wvs(tmp_path / "wvs.xlsx")
    with pytest.raises(DvmapError, match="no such file"):
        read_wvs(tmp_path / "missing.sav")
    (tmp_path / "junk.sav").write_bytes(b"not an spss file at all")
    with pytest.raises(DvmapError, match=r"junk\.sav: cannot read this file as spss"):
        read_wvs(tmp_path / "junk.sav")
