"""`dvmap_app/cli.py`: the `dvmap` command's one-line errors, compare and push-metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from dvmap_app.cli import main
from tests.support import _error


def test_compare_and_push_metrics_cli(built, tmp_path, capsys, recording_hub):
    evaluate = "eval --model majority --config cross_country --dataset".split()
    assert main([*evaluate, str(built[0]), "--out", str(tmp_path / "m")]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "m")]) == 0
    assert "| majority | cross_country |" in capsys.readouterr().out
    assert main(["compare", str(tmp_path)]) == 2
    fake = recording_hub
    fake.upload_file = lambda **kw: fake.calls.append(("upload_file", kw["repo_id"], kw))
    assert main(["push-metrics", "--namespace", "my-org"]) == 0
    spaces = [(c[0], c[1]) for c in fake.calls]
    assert ("create_repo", "my-org/likert_consistency") in spaces and (
        "upload_file",
        "my-org/wasserstein_distance",
    ) in spaces
    assert ("create_repo", "my-org/distribution_distance") in spaces
    assert all(c[2].get("repo_type") == "space" for c in fake.calls)
    cores = [c[2]["path_or_fileobj"] for c in fake.calls if c[0] == "upload_file"]
    assert cores and all(Path(core).is_file() for core in cores)  # the numpy core the modules import
    beside = {(c[1], c[2]["path_in_repo"]) for c in fake.calls if c[0] == "upload_file"}
    for space in ("likert_consistency", "wasserstein_distance", "distribution_distance", "distribution_alignment"):
        shipped = ("metrics_core.py", "alignment_core.py", "metric_module.py")  # the cores and the shared piece
        assert {(f"my-org/{space}", name) for name in shipped} <= beside


@pytest.mark.parametrize(
    "args, message",
    [
        (["build", "--wvs", "{wvs}", "--out", "{tmp}/d", "--seed", "-1"], "--seed must be >= 0"),
        (["synth-wvs", "--out", "{tmp}/s.csv", "--noise", "-1"], "--noise must be >= 0"),
        (["tiny-model", "--out", "{tmp}/m", "--hidden-size", "0"], "--hidden-size must be a positive multiple of 8"),
        (["analyze", "importance", "--wvs", "{wvs}", "--out", "{tmp}/i", "--trees", "0"], "--trees must be >= 1"),
        (["analyze", "difficulty", "--run", "{tmp}", "--out", "{tmp}/x"], "not a dvmap eval run folder"),
        (["synth-wvs", "--out", "{file}/s.csv"], "/file"),  # a file where a folder should be
        (["build", "--wvs", "{wvs}", "--out", "{file}/d"], "/file"),
        (["tiny-model", "--out", "{file}/m"], "/file"),
    ],
)
def test_bad_arguments_and_os_errors_get_one_line(tmp_path, capsys, wvs_sav, args, message):
    (tmp_path / "file").write_text("a file, not a folder")
    names = {"wvs": str(wvs_sav), "tmp": str(tmp_path / "work"), "file": str(tmp_path / "file")}
    (tmp_path / "work").mkdir()
    assert main([a.format(**names) for a in args]) == 2
    assert message in _error(capsys)
    assert list((tmp_path / "work").iterdir()) == []


def test_flags_take_underscores_as_dashes(built, tmp_path, capsys):
    argv = ["eval", "--model", "random", "--dataset", str(built[0]), "--config", "cross_value"]
    assert main([*argv, "--batch_size", "4", "--max_new_tokens=8", "--out", str(tmp_path / "r")]) == 0
    assert "| random | cross_value |" in capsys.readouterr().out
    assert main([*argv, "--batch_sizes", "4", "--out", str(tmp_path / "s")]) == 2
    assert "unrecognized arguments: --batch_sizes" in capsys.readouterr().err


def test_a_damaged_metrics_file_in_compare_gets_one_line(built, tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["eval", "--model", "random", "--dataset", str(built[0]), "--limit", "5", "--out", str(run)]) == 0
    capsys.readouterr()
    (run / "metrics.json").write_text('{"overall": {"rows"')
    assert main(["compare", str(run)]) == 2 and "not valid JSON" in capsys.readouterr().err
    (run / "metrics.json").write_text('{"rows": 3}')
    assert main(["compare", str(run)]) == 2 and "no overall or run" in capsys.readouterr().err
