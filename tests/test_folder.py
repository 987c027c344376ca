"""`dvmap_hf/data/folder.py`: dataset folders, names that resolve, the Hub offline."""

from __future__ import annotations

import json

import pytest

from dvmap_app.cli import main
from dvmap_hf.errors import DvmapError
from tests.support import _error


def test_a_missing_dataset_folder_is_not_served_from_the_cache(built, tmp_path, monkeypatch, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "dvmap").symlink_to(built[0])
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.chdir(a)
    assert main(["eval", "--model", "random", "--limit", "5", "--out", "r"]) == 0  # puts `dvmap` in the cache
    assert json.loads((a / "r" / "run.json").read_text())["data"].startswith("data/cross_demographic/test-")
    monkeypatch.chdir(b)
    assert main(["eval", "--model", "random", "--out", "r"]) == 2
    assert "dvmap: no such dataset folder" in _error(capsys) and not (b / "r").exists()


def test_hub_ids_may_hold_dots(monkeypatch):
    from dvmap_hf.data.folder import resolve_dataset

    monkeypatch.setattr("datasets.config.HF_HUB_OFFLINE", False)  # the Hub on, as the HF libraries read it
    assert resolve_dataset("my-org/dvmap.v2") == "my-org/dvmap.v2"  # never looked up here: just resolved
    with pytest.raises(DvmapError, match="no such dataset folder"):
        resolve_dataset("./nowhere")
