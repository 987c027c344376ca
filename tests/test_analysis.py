"""`dvmap_hf/analysis/__init__.py`: the registry and `dvmap analyze`."""

from __future__ import annotations

from dvmap_app.cli import main


def test_analyze_bad_input(tmp_path, capsys, planted):
    assert main(["analyze", "entropy", "--out", str(tmp_path)]) == 2
    assert "--wvs is needed by analyze entropy" in capsys.readouterr().err
    assert main(["analyze", "entropy", "--wvs", str(planted), "--country", "XYZ", "--out", str(tmp_path)]) == 2
    assert f"--country XYZ is not in {planted}" in capsys.readouterr().err
