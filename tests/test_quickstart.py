"""`dvmap quickstart`, the README's first command, end to end on small settings."""

import pytest

from dvmap_app import quickstart as qs
from dvmap_app.cli import main

FAST = ["--respondents", "3000", "--sft-steps", "8", "--grpo-steps", "2", "--eval-rows", "24"]


@pytest.mark.slow
def test_quickstart_end_to_end(tmp_path, capsys):
    out = tmp_path / "qs"
    assert main(["quickstart", "--out", str(out), *FAST]) == 0
    printed = capsys.readouterr().out
    for step in range(1, 8):
        assert f"[{step}/7]" in printed
    table = printed[printed.index("| model |") :]
    for name in ("random", "majority", "tabular", "tiny-sft", "tiny-grpo"):
        assert f"| {name} | cross_demographic | 24 |" in table
    assert (out / "dvmap" / "README.md").is_file() and (out / "runs/tiny-grpo/model.safetensors").is_file()
    assert (out / "runs/eval-tiny-grpo/report.md").is_file()
    sampled = qs.scores(out / "runs/eval-tiny-grpo-t0.7")[0]
    assert "sampled at the paper's T = 0.7: tiny-sft Acc " in printed and f"tiny-grpo Acc {sampled:.1f}." in printed
    assert '"greedy": false' in (out / "runs/eval-tiny-grpo-t0.7/run.json").read_text()
    # an existing non-empty folder is refused without --force
    assert main(["quickstart", "--out", str(out), *FAST]) == 2
    assert "not empty (use --force" in capsys.readouterr().err


def test_interrupted_quickstart_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(qs, "train_tiny", interrupt)
    out = tmp_path / "qs"
    assert main(["quickstart", "--out", str(out), *FAST]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["--eval-rows", "0"], ["--sft-steps", "-1"]])
def test_quickstart_bad_options(tmp_path, capsys, args):
    assert main(["quickstart", "--out", str(tmp_path / "qs"), *args]) == 2
    assert "must be" in capsys.readouterr().err
