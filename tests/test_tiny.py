"""`dvmap_hf/training/tiny.py`: the tiny CPU model."""

from __future__ import annotations

from dvmap_app.cli import main
from tests.support import _error


def test_tiny_model_force_replaces(tmp_path, capsys):
    out = tmp_path / "m"
    assert main(["tiny-model", "--out", str(out), "--hidden-size", "16"]) == 0
    capsys.readouterr()
    assert main(["tiny-model", "--out", str(out), "--hidden-size", "16"]) == 2
    assert "use --force" in _error(capsys)
    assert main(["tiny-model", "--out", str(out), "--hidden-size", "16", "--force"]) == 0
