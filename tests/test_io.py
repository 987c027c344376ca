"""`dvmap_hf/io.py`: atomic files and folders."""

from __future__ import annotations

import os

from dataset_builder import build_folder
from tests.support import small_config


def test_stale_temporary_folders_are_cleaned_and_outputs_follow_the_umask(wvs_sav, tmp_path):
    stale = tmp_path / ".d.tmp-999999999-abc"  # left by a killed build (no such process)
    stale.mkdir()
    old = os.umask(0o022)
    try:
        build_folder(small_config(wvs_sav), tmp_path / "d")
    finally:
        os.umask(old)
    assert not stale.exists()
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755
    assert {p.stat().st_mode & 0o777 for p in (tmp_path / "d").rglob("*") if p.is_file()} == {0o644}
