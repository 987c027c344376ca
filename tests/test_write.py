"""`dataset_builder/write.py`: a build written as a dataset folder, and `dvmap build`."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dataset_builder import build_folder
from dvmap_app.cli import main
from tests.support import SMALL_PROFILES, _error, _load, small_config


def test_same_input_and_seed_give_byte_identical_files(tmp_path, wvs_sav, built):
    again = tmp_path / "again"
    build_folder(small_config(wvs_sav), again)
    first = sorted(p.relative_to(built[0]) for p in built[0].rglob("*.parquet"))
    second = sorted(p.relative_to(again) for p in again.rglob("*.parquet"))
    assert first == second  # names carry content hashes
    for rel in first:
        assert (built[0] / rel).read_bytes() == (again / rel).read_bytes()


def test_rebuilding_in_place_never_serves_stale_rows(tmp_path, wvs_sav):
    out = tmp_path / "dvmap"
    build_folder(small_config(wvs_sav, seed=1), out)
    old = _load(out, "cross_value")["test"]["id"]
    with pytest.raises(Exception, match="not empty"):
        build_folder(small_config(wvs_sav, seed=2), out)
    build_folder(small_config(wvs_sav, seed=2), out, force=True)
    new = _load(out, "cross_value")["test"]["id"]
    assert old != new
    manifest = json.loads((out / "dvmap_manifest.json").read_text())
    expected = pd.read_parquet(out / manifest["files"]["cross_value/test"]).id.tolist()
    assert new == expected
    assert [p.name for p in tmp_path.iterdir()] == ["dvmap"]  # no temporary folders left behind


def test_cli_build_prints_counts_beside_the_papers(tmp_path, wvs_csv, capsys):
    sizes = ",".join(f"{c}/{s}={n}" for (c, s), n in SMALL_PROFILES.items())
    code = main(
        [
            "build",
            "--wvs",
            str(wvs_csv),
            "--out",
            str(tmp_path / "o"),
            "--profiles-per-country",
            sizes,
            "--training-countries",
            "USA,CAN,DEU",
            "--cross-countries",
            "NGA",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "41,813" in out and "cross_value/test" in out and "(paper 32.8%)" in out
    frame = _load(tmp_path / "o", "corpus")["train"].to_pandas()
    assert set(frame.country) == {"United States of America", "Canada", "Germany"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--training-countries", "USA,XYZ"], "--training-countries names countries absent from"),
        (["--cross-countries", "USA"], "both training and cross-country: USA"),
        (["--consensus", "loose"], "argument --consensus: invalid choice: 'loose'"),
        (["--min-support", "100000"], "no rows left for corpus/train after filtering"),
        (["--profiles-per-country", "corpus/train:5"], "expected CONFIG/SPLIT=N"),
        (["--required-attributes", "shoe_size"], "unknown attribute 'shoe_size'"),
    ],
)
def test_cli_bad_input_exits_non_zero_and_writes_nothing(tmp_path, wvs_csv, capsys, args, message):
    out = tmp_path / "o"
    code = main(["build", "--wvs", str(wvs_csv), "--out", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_build_refuses_an_output_folder_that_holds_its_input(tmp_path, capsys):
    data = tmp_path / "mydata"
    data.mkdir()
    wvs = data / "WVS.csv"
    assert main(["synth-wvs", "--out", str(wvs), "--respondents", "3000"]) == 0
    content = wvs.read_bytes()
    assert main(["build", "--wvs", str(wvs), "--out", str(data), "--force"]) == 2
    assert "holds the input" in _error(capsys) and wvs.read_bytes() == content


def test_build_refuses_the_working_folder(tmp_path, capsys, monkeypatch, wvs_sav):
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--wvs", str(wvs_sav), "--out", ".", "--force"]) == 2
    assert "cannot be the working folder" in _error(capsys)
    assert list(tmp_path.iterdir()) == []  # no `..old-*` or `.tmp-*` folder left
