"""`dvmap_hf/training/checks.py`: what fails a training run at once."""

from __future__ import annotations

import os

import pytest

from dvmap_hf.training.arguments import parse_grpo
from dvmap_hf.training.grpo import grpo_main
from tests.support import ROOT


def test_training_fails_at_once_on_a_missing_model_or_dataset(built_plain, tmp_path, monkeypatch):

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    recipe = os.path.join(os.path.dirname(__file__), "..", "training", "recipes", "tiny-cpu.yaml")
    args = ["--config", recipe, "--output_dir", str(tmp_path / "o")]
    with pytest.raises(SystemExit, match="dataset_name: dvmap: no such dataset folder"):
        grpo_main(*parse_grpo(args))
    (tmp_path / "dvmap").symlink_to(built_plain)
    with pytest.raises(SystemExit, match=r"runs/tiny-qwen3: no such model folder \(`dvmap tiny-model"):
        grpo_main(*parse_grpo(args))


def test_gpu_pieces_say_which_extra_to_install(monkeypatch):
    from dvmap_hf.training import checks

    with pytest.raises(SystemExit, match=r"flash-attn: pip install -e '\.\[gpu\]'"):
        checks.check_gpu_extras(False, "flash_attention_2")
    with pytest.raises(SystemExit, match="use_vllm: true needs vLLM"):
        checks.check_gpu_extras(True, None)
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    checks.check_launch_extras()  # installed here (the dev extra has it)
    monkeypatch.setattr(checks, "find_spec", lambda name: None)
    with pytest.raises(SystemExit, match=r"DeepSpeed, which is not installed: pip install -e '\.\[deepspeed\]'"):
        checks.check_launch_extras()


def test_resume_without_checkpoint_is_refused(tmp_path):
    from dvmap_hf.training.checks import resume_checkpoint

    with pytest.raises(SystemExit, match="no checkpoint"):
        resume_checkpoint("true", str(tmp_path))
    assert resume_checkpoint(None, str(tmp_path)) is None


def test_a_damaged_checkpoint_is_named_before_training(tmp_path, tiny_model):
    """Weights cut in half raised safetensors' SafetensorError traceback once the trainer was built (issue
    33's probe pass); now one line naming the file, and an intact checkpoint still resumes."""
    import shutil

    from dvmap_hf.training.checks import resume_checkpoint

    checkpoint = tmp_path / "checkpoint-2"
    shutil.copytree(tiny_model, checkpoint)
    assert resume_checkpoint("true", str(tmp_path)) == str(checkpoint)
    weights = checkpoint / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(SystemExit, match=f"{weights} is damaged .*resume from an earlier checkpoint"):
        resume_checkpoint("true", str(tmp_path))
    with pytest.raises(SystemExit, match="is damaged"):
        resume_checkpoint(str(checkpoint), str(tmp_path))


def test_an_output_dir_that_is_a_file_is_named(tmp_path):
    from dvmap_hf.training.checks import check_previous_run

    (tmp_path / "a-file").write_text("mine")
    with pytest.raises(SystemExit, match="output_dir: .*a-file exists and is not a folder"):
        check_previous_run(str(tmp_path / "a-file"), None, replace=True)
    assert (tmp_path / "a-file").read_text() == "mine"


def test_a_run_that_trains_nothing_or_over_a_finished_run_is_refused(workdir, cold_started, monkeypatch):
    from dvmap_hf.training.arguments import parse_grpo, parse_sft
    from dvmap_hf.training.sft import sft_main

    monkeypatch.chdir(workdir)
    recipe = str(ROOT / "training/recipes/tiny-cpu.yaml")
    with pytest.raises(SystemExit, match="max_steps 0 .* trains nothing"):
        grpo_main(*parse_grpo(["--config", recipe, "--max_steps", "0", "--output_dir", str(workdir / "runs/none")]))
    assert not (workdir / "runs/none").exists()
    with pytest.raises(SystemExit, match="holds a run .*--resume_from_checkpoint true.*--replace_output_dir true"):
        sft_main(*parse_sft(["--config", "tiny-cpu-sft", "--output_dir", str(cold_started), "--max_steps", "1"]))
    with pytest.raises(SystemExit, match="no training example is left"):
        args = ["--config", "tiny-cpu-sft", "--max_length", "4", "--max_steps", "1", "--max_train_samples", "16"]
        sft_main(*parse_sft([*args, "--output_dir", str(workdir / "runs/short")]))


@pytest.mark.parametrize("world_size", ["1", "2"])
def test_a_launched_rank_leaves_without_the_interpreters_teardown(world_size):
    """On a rank of a multi-process launch, what ran is flushed and the process ends with 0 before the
    teardown that can abort it (atexit handlers stand for it here); a single process ends as usual; an
    entry point that fails still fails."""
    import subprocess
    import sys

    code = (
        "import atexit, sys; from dvmap_hf.training.launched import run_launched; "
        "atexit.register(lambda: print(' teardown')); run_launched(lambda: print('trained', end=''))"
    )
    env = {**os.environ, "WORLD_SIZE": world_size}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0 and done.stdout == ("trained" if world_size == "2" else "trained teardown\n")
    failing = code.replace("lambda: print('trained', end='')", "lambda: 1 / 0")
    done = subprocess.run([sys.executable, "-c", failing], capture_output=True, text=True, env=env)
    assert done.returncode == 1 and "ZeroDivisionError" in done.stderr and "teardown" in done.stdout
    bad_input = code.replace("run_launched(lambda: print('trained', end=''))", "run_launched(recipe)")
    bad_input = bad_input.replace(
        "import atexit, sys;",
        "import atexit, sys; from dvmap_hf.training.arguments import parse_sft; recipe = lambda: parse_sft("
        "['--config', 'nowhere/recipe.yaml']);",
    )
    done = subprocess.run([sys.executable, "-c", bad_input], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: nowhere/recipe.yaml: ")
