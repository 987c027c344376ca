"""`dataset_builder/card.py`: the dataset card and the build report."""

from __future__ import annotations

from dataset_builder.build import DEFAULT_PROFILES_PER_COUNTRY
from tests.support import SMALL_PROFILES


def test_card_and_report(built, wvs_sav):
    folder, report = built
    card = (folder / "README.md").read_text()
    from dvmap_hf.data.digest import file_sha256

    assert file_sha256(wvs_sav) in card and "SYNTHETIC" in card and "not redistributed" in card
    assert "arXiv:2605.14420" in card and "doi:10.14281/18241.24" in card
    assert 0.0 < report["stats"]["share_respondents_with_shared_profile"] < 1.0
    assert report["parameters"]["profiles_per_country"]["corpus/train"] == SMALL_PROFILES["corpus", "train"]
    assert set(DEFAULT_PROFILES_PER_COUNTRY) == set(SMALL_PROFILES)
