"""The GPU smoke check and its wheel helper stay runnable between GPU sessions (CPU dry run, offline plan)."""

import importlib.metadata as metadata
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import gpu_smoke  # noqa: E402
import gpu_wheels  # noqa: E402


@pytest.mark.slow
def test_dry_run_runs_every_cpu_step(tmp_path, capsys):
    assert gpu_smoke.main(["--dry-run", "--out", str(tmp_path)]) == 0
    lines = (tmp_path / "summary.txt").read_text().splitlines()
    status = {line.split()[0]: line.split()[1] for line in lines}
    assert status == {
        "setup": "ok",
        "grpo_1gpu": "ok",
        "grpo_zero3": "skipped",
        "grpo_zero3_all": "ok",
        "soft_sft": "ok",
        "grpo_distrib": "ok",
        "eval_cuda": "ok",
        "eval_loglik": "ok",
        "eval_vllm": "skipped",
    }
    assert (tmp_path / "grpo_1gpu.log").read_text().startswith("$ ")
    assert not (tmp_path / "work").exists()  # only the logs come back from $OUT
    assert "device: cpu" in capsys.readouterr().out


def test_a_failing_step_is_reported_and_fails_the_run(tmp_path):
    result = gpu_smoke.run_step("boom", [sys.executable, "-c", "raise SystemExit(3)"], tmp_path, tmp_path)
    assert (result.status, result.note) == ("failed", "exit 3 (see boom.log)")
    assert result.peak_mib is None  # no nvidia-smi here


def test_the_wheel_plan_pins_this_environment_and_leaves_the_heavy_packages():
    wanted = dict(gpu_wheels.plan())
    for package in ("trl", "transformers", "datasets", "huggingface-hub"):
        assert wanted[package] == metadata.version(package)
    assert "deepspeed" in wanted and not {"torch", "numpy", "pyarrow"} & set(wanted)
    ignored = subprocess.run(["git", "check-ignore", "-q", ".whl/x.whl"], cwd=ROOT)
    assert ignored.returncode == 0  # the wheels never land in a commit
