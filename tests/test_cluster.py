"""`dvmap_hf/training/cluster.py` and training/slurm/grpo.slurm: GRPO on N nodes x 8 GPUs, the processes, the
batch arithmetic of every released recipe, and the dry run's exact commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml
from accelerate.commands.config.config_args import load_config_from_file

from dvmap_hf.training.arguments import batch_settings, grpo_batch_problem, parse_grpo
from dvmap_hf.training.cluster import ClusterPlan, main
from tests.support import ROOT

GRPO_RECIPES = sorted(p for p in (ROOT / "training/recipes").glob("*.yaml") if "sft" not in p.stem)


def launch_processes(recipe) -> int:
    """The processes of the launch line a recipe's header gives (its config's, or --num_processes)."""
    line = next(line for line in recipe.read_text().splitlines() if "accelerate launch" in line)
    config = re.search(r"--config_file (\S+)", line).group(1)
    count = re.search(r"--num_processes (\d+)", line)
    return int(count.group(1)) if count else load_config_from_file(str(ROOT / config)).num_processes


@pytest.mark.parametrize(
    "nodes, vllm, training_nodes, processes",
    [(1, False, 1, 8), (1, True, 1, 7), (2, False, 2, 16), (4, False, 4, 32), (4, True, 3, 24)],
)
def test_processes_are_nodes_times_gpus_less_the_vllm_servers(nodes, vllm, training_nodes, processes):
    plan = ClusterPlan(nodes=nodes, vllm_server=vllm)
    assert (plan.training_nodes, plan.processes) == (training_nodes, processes)


@pytest.mark.parametrize("recipe", GRPO_RECIPES, ids=lambda p: p.stem)
def test_every_recipe_batch_divides_at_its_gpu_count_and_reads_as_trl_parses_it(recipe):
    settings = batch_settings(["--config", str(recipe)])
    assert grpo_batch_problem(settings, launch_processes(recipe)) is None
    _, training, _ = parse_grpo(["--config", str(recipe), "--use_cpu", "true"])
    for name in ("per_device_train_batch_size", "gradient_accumulation_steps", "num_generations"):
        assert settings[name] == getattr(training, name)
    if "generation_batch_size" in yaml.safe_load(recipe.read_text()):
        assert settings["generation_batch_size"] == training.generation_batch_size
    # the 8-GPU recipes scale to 2 and 4 nodes as they are
    if launch_processes(recipe) == 8:
        assert all(grpo_batch_problem(settings, 8 * nodes) is None for nodes in (2, 4))


def test_flags_override_the_recipe_batch_as_trl_does():
    argv = ["--config", str(ROOT / "training/recipes/tiny-cpu.yaml"), "--per_device_train_batch_size=6"]
    settings = batch_settings([*argv, "--num_generations", "3"])
    assert settings["per_device_train_batch_size"] == 6 and settings["num_generations"] == 3
    assert "per_device_train_batch_size 6 x 1 processes" in grpo_batch_problem({**settings, "num_generations": 4}, 1)


def test_the_slurm_script_dry_run_prints_the_commands_with_their_counts():
    """Run by this interpreter (PYTHON), whatever `python` the caller's PATH finds: a venv's pytest run
    without activating the venv must pass too."""
    script = ROOT / "training/slurm/grpo.slurm"
    env = {**os.environ, "PYTHON": sys.executable, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["bash", str(script), "--nodes", "4", "--config", "qwen3-8b", "--dry-run", "--vllm-server"]
        + ["--head", "gpu-001", "--last", "gpu-004"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    # 3 training nodes x 8 = 24 processes: the recipe's 512 completions do not divide, the run stops here
    assert done.returncode != 0
    assert "GRPO batch on 24 training processes: generation_batch_size 512" in done.stderr
    assert "--generation_batch_size 384" in done.stderr
    done = subprocess.run(
        ["bash", str(script), "--nodes", "4", "--config", "qwen3-8b", "--dry-run", "--vllm-server"]
        + ["--head", "gpu-001", "--last", "gpu-004", "--generation_batch_size", "384"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    header, server, training = done.stdout.splitlines()
    assert header == "# 4 node(s) x 8 GPUs: 24 training processes on 3 node(s), vLLM on 8 GPU(s)"
    assert server.startswith("srun --nodes=1 --ntasks=1 --nodelist=gpu-004 trl vllm-serve --model Qwen/Qwen3-8B")
    assert "--data_parallel_size 8" in server and server.endswith(" &")
    assert training.startswith("srun --nodes=3 --ntasks-per-node=1 --exclude=gpu-004 bash -c 'accelerate launch")
    for part in (
        "zero3-multinode.yaml --num_machines 3 --num_processes 24 --machine_rank $SLURM_NODEID",
        "--main_process_ip gpu-001 --main_process_port 29500 -m dvmap_hf.training.grpo --config",
        "--generation_batch_size 384 --use_vllm true --vllm_mode server --vllm_server_host gpu-004",
    ):
        assert part in training


def test_one_node_with_a_vllm_server_trains_on_the_other_gpus(capsys):
    assert (
        main(["--nodes", "1", "--config", "qwen3-8b", "--vllm-server", "--generation_batch_size", "448", "--dry-run"])
        == 0
    )
    _, server, training = capsys.readouterr().out.splitlines()
    assert server.startswith("env CUDA_VISIBLE_DEVICES=7 trl vllm-serve --model Qwen/Qwen3-8B")
    assert training.startswith("env CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6 accelerate launch --config_file")
    assert "zero3.yaml --num_processes 7 -m dvmap_hf.training.grpo" in training
    assert "--vllm_server_host 127.0.0.1" in training


def test_a_plan_that_cannot_be_is_refused():
    with pytest.raises(SystemExit, match="needs >= 2 GPUs"):
        ClusterPlan(nodes=1, gpus_per_node=1, vllm_server=True)
    with pytest.raises(SystemExit, match="does not divide the 8 vLLM GPUs"):
        ClusterPlan(nodes=2, vllm_server=True, vllm_tensor_parallel=3)


@pytest.mark.parametrize(
    "text, said",
    [
        (None, "No such file or directory (nor is it a packaged recipe: llama3.2-3b, "),
        ("- a\n", "must contain a YAML mapping of settings, not a list"),
        ("a: [b\n", "not YAML (while parsing a flow sequence"),
    ],
)
def test_a_missing_or_broken_recipe_is_refused_not_planned_with_defaults(tmp_path, text, said):
    """`--config nope` printed a plan from TRL's default batch (issue 33's probe pass), and `dvmap train
    grpo` met a recipe that is not YAML with a traceback from its batch check."""
    recipe = tmp_path / "recipe.yaml"
    if text is not None:
        recipe.write_text(text)
    with pytest.raises(SystemExit, match=re.escape(f"{recipe}: {said}")):
        main(["--nodes", "2", "--config", str(recipe), "--dry-run"])
    from dvmap_hf.errors import DvmapError

    with pytest.raises(DvmapError, match=re.escape(said)):
        parse_grpo(["--config", str(recipe)])
