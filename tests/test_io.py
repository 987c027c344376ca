"""`dvmap_hf/io.py`: atomic files and folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dataset_builder import build_folder
from dvmap_hf.errors import DvmapError
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


def test_a_folder_takes_one_writer_and_a_dead_writers_lock_is_taken_over(tmp_path):
    import subprocess
    import sys

    import pytest

    from dvmap_hf.errors import DvmapError
    from dvmap_hf.io import folder_lock

    out = tmp_path / "run"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / ".run.lock").write_text(str(sleeper.pid))
        with pytest.raises(DvmapError, match=rf"another dvmap eval \(pid {sleeper.pid}\) is writing it"):
            with folder_lock(out, "dvmap eval"):
                pass
    finally:
        sleeper.kill()
        sleeper.wait()
    with folder_lock(out, "dvmap eval"):  # its writer is gone: the lock is taken over
        assert (tmp_path / ".run.lock").read_text() == str(__import__("os").getpid())
    assert not (tmp_path / ".run.lock").exists() and not list(tmp_path.glob(".run.lock-*"))


def test_force_replaces_only_a_folder_of_its_own_kind(wvs_csv, tmp_path, capsys):
    from dvmap_app.cli import main

    runs = tmp_path / "runs"
    (runs / "eval-a").mkdir(parents=True)
    (runs / "eval-a" / "run.json").write_text("{}")
    assert main(["build", "--wvs", str(wvs_csv), "--out", str(runs), "--force"]) == 2
    assert "--force replaces a dataset folder or an empty folder; this one holds eval-a" in capsys.readouterr().err
    assert (runs / "eval-a" / "run.json").is_file()
    assert main(["tiny-model", "--out", str(runs), "--force"]) == 2
    assert "replaces a model folder" in capsys.readouterr().err


def test_an_unwritable_folder_is_named_not_the_temporary_or_lock_file_in_it(tmp_path, monkeypatch):
    """Under a read-only folder the probe pass (issue 33) saw "ro/.run.lock-15068: Permission denied" and
    "rorun/.metrics.json.5k9x26xe.tmp.json: Permission denied": names of files the kit makes, not the user's.
    (Root ignores file modes, so the refusal is raised here as the OS raises it.)"""
    from dvmap_hf import io

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "ro/.x.tmp"))

    monkeypatch.setattr(io.tempfile, "mkstemp", refused)
    with pytest.raises(DvmapError, match=f"^{tmp_path / 'ro'}: cannot write there \\(Permission denied\\)"):
        with io.atomic_file(tmp_path / "ro" / "metrics.json"):
            pass
    monkeypatch.setattr(io.tempfile, "mkdtemp", refused)  # a dataset or model folder: "ro/.ds.tmp-8561-x" before
    with pytest.raises(DvmapError, match=f"^{tmp_path / 'ro'}: cannot write there"):
        with io.atomic_dir(tmp_path / "ro" / "ds"):
            pass
    monkeypatch.setattr(Path, "write_text", refused)
    with pytest.raises(DvmapError, match=f"^{tmp_path / 'ro'}: cannot write there"):
        with io.folder_lock(tmp_path / "ro" / "run"):
            pass


def test_model_weights_follow_the_umask_and_an_unreadable_one_is_named(tmp_path, monkeypatch):
    """transformers writes model.safetensors 0600: another user of a shared model folder then met
    "cannot load model 'm': No such file or directory: m/model.safetensors" (issue 33's probe pass). The
    kit's model folders follow the umask, and an unreadable file is named as one."""
    from dvmap_hf.evaluation.backends import check_model_files
    from dvmap_hf.training.tiny import build_tiny_model

    old = os.umask(0o022)
    try:
        model = build_tiny_model(tmp_path / "m")
    finally:
        os.umask(old)
    assert (model / "model.safetensors").stat().st_mode & 0o777 == 0o644
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path).name != "model.safetensors")
    with pytest.raises(DvmapError, match=r"m: cannot read model\.safetensors \(permission denied"):
        check_model_files(str(model))
