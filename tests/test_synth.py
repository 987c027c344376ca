"""`dvmap_hf/data/synth.py`: the synthetic WVS-format sample and `dvmap synth-wvs`."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from dvmap_app.cli import main
from dvmap_hf.data.synth import DEFAULT_COUNTRIES, SynthConfig, synthesize
from tests.support import _error


def test_synthetic_data_is_seeded_and_covers_every_country():
    a, b = synthesize(SynthConfig(respondents=500, seed=5)), synthesize(SynthConfig(respondents=500, seed=5))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(synthesize(SynthConfig(respondents=500, seed=6)))
    assert set(a.B_COUNTRY_ALPHA) == set(DEFAULT_COUNTRIES) and len(a) == 500
    assert (a.version == "SYNTHETIC dvmap-hf").all()


def test_synth_wvs_console_script(tmp_path):
    out = tmp_path / "s.csv"
    done = subprocess.run(
        [sys.executable, "-m", "dvmap_app.cli", "synth-wvs", "--out", str(out), "--respondents", "300"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "SYNTHETIC" in done.stdout and len(pd.read_csv(out)) == 300
    bad = subprocess.run(
        [sys.executable, "-m", "dvmap_app.cli", "synth-wvs", "--out", str(tmp_path / "s.xlsx")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "must end in .sav, .dta or .csv" in bad.stderr
    assert not (tmp_path / "s.xlsx").exists()


def test_synth_wvs_does_not_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "f.csv"
    out.write_text("mine")
    assert main(["synth-wvs", "--out", str(out), "--respondents", "100"]) == 2
    assert "exists (use --force" in _error(capsys) and out.read_text() == "mine"
    assert main(["synth-wvs", "--out", str(out), "--respondents", "100", "--force"]) == 0
    assert out.read_text().startswith("") and out.read_text() != "mine"
