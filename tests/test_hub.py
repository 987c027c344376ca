"""`dvmap_hf/hub.py`: publishing a dataset folder (a recording fake Hub, no network)."""

from __future__ import annotations

import pytest

from dvmap_app.cli import main
from dvmap_hf import hub


def test_push_publishes_the_folder_as_a_dataset_repo(built, recording_hub, monkeypatch, capsys):
    fake = recording_hub
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
