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


def test_a_parquet_edited_in_place_is_refused_not_served_from_the_cache(built, tmp_path):
    import shutil

    import pyarrow.parquet as pq

    from dvmap_hf.data.folder import load_split, read_manifest

    folder = tmp_path / "dvmap"
    shutil.copytree(built[0], folder)
    assert len(load_split(folder, "cross_value")) > 0  # in the datasets cache now
    path = folder / read_manifest(folder)["files"]["cross_value/test"]
    table = pq.read_table(path)
    pq.write_table(
        table.set_column(table.schema.get_field_index("answer_index"), "answer_index", pa_zeros(table)), path
    )
    with pytest.raises(DvmapError, match="does not match the hash in its name"):
        load_split(folder, "cross_value")


def pa_zeros(table):
    import pyarrow as pa

    return pa.array([0] * table.num_rows, table.schema.field("answer_index").type)


@pytest.mark.parametrize("damage", ["zeroed", "truncated", "card"])
def test_a_damaged_folder_gets_one_line(built, tmp_path, damage):
    import shutil

    from dvmap_hf.data.folder import load_split, read_manifest

    folder = tmp_path / "dvmap"
    shutil.copytree(built[0], folder)
    path = folder / read_manifest(folder)["files"]["cross_value/test"]
    if damage == "zeroed":
        path.write_bytes(b"\0" * path.stat().st_size)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    else:
        (folder / "README.md").write_text("---\nconfigs: [unclosed\n---\n")
    with pytest.raises(DvmapError, match="cross_value"):
        load_split(folder, "cross_value")
