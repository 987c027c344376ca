"""`dvmap_hf/data/digest.py`: the source file's sha256, computed beside the read."""

from __future__ import annotations

import shutil
import sys

import pytest


def test_the_source_hash_computed_in_a_child_process_is_the_files_sha256(wvs_sav, monkeypatch):
    import hashlib

    from dvmap_hf.data import digest
    from dvmap_hf.data.digest import file_sha256_beside

    monkeypatch.setattr(digest, "file_sha256", lambda path: pytest.fail("the child did not compute it"))
    with file_sha256_beside(wvs_sav) as sha256:
        assert sha256() == hashlib.sha256(wvs_sav.read_bytes()).hexdigest()
    with file_sha256_beside(wvs_sav):
        pass  # leaving before asking stops the child cleanly


@pytest.mark.parametrize("python", ["/nonexistent/python", "false"])  # cannot start; starts and fails
def test_the_source_hash_falls_back_to_this_process(wvs_sav, monkeypatch, python):
    import hashlib

    from dvmap_hf.data.digest import file_sha256_beside

    monkeypatch.setattr(sys, "executable", shutil.which(python) or python)
    with file_sha256_beside(wvs_sav) as sha256:
        assert sha256() == hashlib.sha256(wvs_sav.read_bytes()).hexdigest()
