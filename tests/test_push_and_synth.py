import subprocess
import sys

import pandas as pd
import pytest

from dvmap_app.cli import main
from dvmap_hf import hub
from dvmap_hf.data.synth import DEFAULT_COUNTRIES, SynthConfig, synthesize


class RecordingHub:
    """Stands in for huggingface_hub.HfApi in the one test that must not reach the network."""

    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def create_branch(self, repo_id, **kwargs):
        self.calls.append(("create_branch", repo_id, kwargs))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs["repo_id"], kwargs))
        return type("Commit", (), {"commit_url": f"https://huggingface.co/datasets/{kwargs['repo_id']}/commit/1"})()


def test_push_publishes_the_folder_as_a_dataset_repo(built, monkeypatch, capsys):
    fake = RecordingHub()
    monkeypatch.setattr(hub, "hub_api", lambda: fake)
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_value")
    code = main(["push", str(built[0]), "--repo-id", "my-org/dvmap", "--private", "--revision", "v1"])
    out = capsys.readouterr()
    assert code == 0 and "my-org/dvmap" in out.out
    assert "hf_secret_token_value" not in out.out + out.err
    (_, repo, create), (_, _, branch), (_, _, upload) = fake.calls
    assert repo == "my-org/dvmap" and create == {"repo_type": "dataset", "private": True, "exist_ok": True}
    assert branch["branch"] == "v1"
    assert upload["folder_path"] == str(built[0]) and upload["repo_type"] == "dataset" and upload["revision"] == "v1"


def test_push_refuses_what_is_not_a_dataset_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(hub, "hub_api", lambda: pytest.fail("must not reach the Hub"))
    assert main(["push", str(tmp_path), "--repo-id", "my-org/dvmap"]) == 2
    assert "not a dvmap dataset folder" in capsys.readouterr().err


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
