"""GRPO / SFT training on CPU with a tiny random Qwen3 and a dataset built from a synthetic WVS file."""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from accelerate.commands.config.config_args import load_config_from_file

from dvmap_app.cli import main as dvmap
from dvmap_hf.training.arguments import parse_grpo, parse_sft
from dvmap_hf.training.mains import grpo_main, sft_main

ROOT = Path(__file__).resolve().parent.parent

RECIPES = sorted((ROOT / "training" / "recipes").glob("*.yaml"))
#: Processes of the released scripts that ran on more than one GPU (0.6B: 2 nodes x 1; 8B: 1 node x 2).
RELEASE_PROCESSES = {"qwen3-0.6b-release": 2, "qwen3-8b-release": 2}


@pytest.mark.parametrize(
    "name, distributed, processes, precision, stage",
    [
        ("zero3", "DEEPSPEED", 8, "bf16", 3),
        ("zero2", "DEEPSPEED", 8, "bf16", 2),
        ("ddp", "MULTI_GPU", 8, "bf16", None),
        ("single_gpu", "NO", 1, "bf16", None),
        ("cpu", "NO", 1, "no", None),
    ],
)
def test_accelerate_configs_load_through_accelerate(name, distributed, processes, precision, stage):
    config = load_config_from_file(str(ROOT / "accelerate_configs" / f"{name}.yaml"))
    assert str(config.distributed_type).split(".")[-1] == distributed
    assert config.num_processes == processes and str(config.mixed_precision).split(".")[-1] == precision
    if stage is not None:
        assert config.deepspeed_config["zero_stage"] == stage
    if name == "zero3":
        assert config.deepspeed_config["zero3_save_16bit_model"] is True
    if name == "cpu":
        assert config.use_cpu


def _same(parsed, raw) -> bool:
    """Equal once TrainingArguments' own normalisations are undone (enums, report_to: none -> [])."""
    if raw == "none" and parsed == []:
        return True
    if isinstance(parsed, list) and not isinstance(raw, list):
        return parsed == [raw]
    if isinstance(raw, float):
        return math.isclose(parsed, raw)
    return getattr(parsed, "value", parsed) == raw


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_recipes_parse_with_every_key_known(recipe):
    """GPU recipes are parsed with --use_cpu true (bf16 needs a GPU otherwise); values must survive."""
    raw = yaml.safe_load(recipe.read_text())
    parse = parse_sft if "sft" in recipe.stem else parse_grpo
    script, training, model = parse(["--config", str(recipe), "--use_cpu", "true"])
    parsed = {**vars(script), **vars(model), **{k: getattr(training, k) for k in dir(training) if k in raw}}
    for key, value in raw.items():
        assert _same(parsed[key], value), key
    if recipe.stem.endswith("-release"):  # the authors' scripts: lr 1e-6, verl's T = 1.0, their reward
        processes = RELEASE_PROCESSES.get(recipe.stem, 1)
        assert (
            training.learning_rate == 1e-6
            and training.temperature == 1.0
            and script.reward_funcs == ["release_reward"]
        )
        assert training.per_device_train_batch_size * processes * training.gradient_accumulation_steps == 512
        assert training.generation_batch_size == (128 if "8b" in recipe.stem else 64) * training.num_generations
        assert training.beta == (0.0 if "8b" in recipe.stem else 0.001) and training.num_train_epochs == 1
        assert f"--num_processes {processes}" in recipe.read_text() or processes == 1
    elif "qwen3" in recipe.stem or "llama" in recipe.stem:  # the paper text: lr 5e-6, T = 0.7, batch 64 x 8
        assert training.temperature == 0.7 and training.num_generations == 8 and training.num_train_epochs == 1
        assert training.generation_batch_size == 64 * 8
        assert training.per_device_train_batch_size * 8 * training.gradient_accumulation_steps == 512
        assert training.push_to_hub and training.hub_model_id and training.hub_strategy == "every_save"


def test_a_mistyped_recipe_key_fails_loudly(tmp_path):
    recipe = tmp_path / "typo.yaml"
    recipe.write_text((ROOT / "training/recipes/tiny-cpu.yaml").read_text() + "learning_rte: 0.1\n")
    with pytest.raises(ValueError, match="learning_rte"):
        parse_grpo(["--config", str(recipe)])


def test_gpu_pieces_say_which_extra_to_install(monkeypatch):
    from dvmap_hf.training import checks

    with pytest.raises(SystemExit, match=r"flash-attn: pip install -e '\.\[gpu\]'"):
        checks.check_gpu_extras(False, "flash_attention_2")
    with pytest.raises(SystemExit, match="use_vllm: true needs vLLM"):
        checks.check_gpu_extras(True, None)
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    with pytest.raises(SystemExit, match="DeepSpeed, which is not installed"):
        checks.check_launch_extras()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, built_plain, tiny_model):
    """A working folder as a user would have it: `dvmap` dataset folder and runs/tiny-qwen3."""
    work = tmp_path_factory.mktemp("train")
    (work / "dvmap").symlink_to(built_plain)
    (work / "runs").mkdir()
    (work / "runs" / "tiny-qwen3").symlink_to(tiny_model)
    return work


@pytest.fixture(scope="module")
def cold_started(workdir):
    """A short SFT cold start (in-process) so GRPO sees well-formed answers and non-zero rewards."""
    os.chdir(workdir)
    args = parse_sft(
        [
            "--config",
            str(ROOT / "training/recipes/tiny-cpu-sft.yaml"),
            "--max_steps",
            "60",
            "--max_train_samples",
            "1200",
            "--output_dir",
            str(workdir / "runs/tiny-sft"),
            "--logging_steps",
            "20",
        ]
    )
    trainer = sft_main(*args, argv=["sft.py"])
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert losses[-1] < losses[0] / 2  # it learns the format
    assert "Method: SFT" in (workdir / "runs/tiny-sft/README.md").read_text()
    return workdir / "runs/tiny-sft"


def _launch(workdir, *args):
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(ROOT / "accelerate_configs/cpu.yaml"),
        "--num_cpu_threads_per_process",
        "2",
        str(ROOT / "training/grpo.py"),
        "--config",
        str(ROOT / "training/recipes/tiny-cpu.yaml"),
        *args,
    ]
    env = {**os.environ, "HF_TOKEN": "hf_do_not_print_me"}
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "hf_do_not_print_me" not in done.stdout + done.stderr
    return [json.loads(line.replace("'", '"')) for line in re.findall(r"\{'loss'.*?\}", done.stdout)]


def test_grpo_through_accelerate_launch_then_eval_then_resume(workdir, cold_started, tmp_path):
    out = workdir / "runs/tiny-grpo"
    logs = _launch(
        workdir,
        "--model_name_or_path",
        str(cold_started),
        "--max_steps",
        "2",
        "--save_steps",
        "2",
        "--output_dir",
        str(out),
    )
    assert len(logs) == 2
    for entry in logs:
        assert "rewards/accuracy_reward/mean" in entry and "rewards/format_reward/mean" in entry
        assert math.isfinite(float(entry["loss"]))
    assert any(float(e["rewards/format_reward/mean"]) > 0 for e in logs)  # the cold start pays off
    assert (out / "checkpoint-2").is_dir() and (out / "model.safetensors").is_file()
    card = (out / "README.md").read_text()
    assert "Reward: 1 * accuracy_reward + 0.1 * format_reward" in card and "tiny-cpu.yaml" in card
    # the saved model is what `dvmap eval` loads
    assert (
        dvmap(
            [
                "eval",
                "--model",
                str(out),
                "--dataset",
                str(workdir / "dvmap"),
                "--config",
                "cross_demographic",
                "--limit",
                "4",
                "--max-new-tokens",
                "8",
                "--out",
                str(tmp_path / "eval"),
            ]
        )
        == 0
    )
    assert len((tmp_path / "eval/predictions.jsonl").read_text().splitlines()) == 4
    # resume continues from checkpoint-2 up to step 3
    logs = _launch(
        workdir,
        "--model_name_or_path",
        str(cold_started),
        "--max_steps",
        "3",
        "--save_steps",
        "3",
        "--output_dir",
        str(out),
        "--resume_from_checkpoint",
        "true",
    )
    assert len(logs) == 1
    state = json.loads((out / "checkpoint-3/trainer_state.json").read_text())
    assert state["global_step"] == 3


def test_resume_without_checkpoint_is_refused(tmp_path):
    from dvmap_hf.training.checks import resume_checkpoint

    with pytest.raises(SystemExit, match="no checkpoint"):
        resume_checkpoint("true", str(tmp_path))
    assert resume_checkpoint(None, str(tmp_path)) is None


def test_peft_trains_only_adapter_weights(workdir, cold_started):
    import torch

    os.chdir(workdir)
    args = parse_grpo(
        [
            "--config",
            str(ROOT / "training/recipes/tiny-cpu.yaml"),
            "--model_name_or_path",
            str(cold_started),
            "--use_peft",
            "true",
            "--lora_r",
            "4",
            "--lora_target_modules",
            "q_proj",
            "v_proj",
            "--max_steps",
            "2",
            "--save_strategy",
            "no",
            "--learning_rate",
            "0.05",
            "--output_dir",
            str(workdir / "runs/tiny-lora"),
        ]
    )
    trainer = grpo_main(*args, argv=["grpo.py"])
    trainable = [name for name, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    assert (workdir / "runs/tiny-lora/adapter_model.safetensors").is_file()
    assert not (workdir / "runs/tiny-lora/model.safetensors").exists()
    lora_b = [p for n, p in trainer.model.named_parameters() if "lora_B" in n]
    assert any(torch.count_nonzero(p) > 0 for p in lora_b)  # B starts at zero: non-zero means it trained
    # an adapter-only checkpoint is what `dvmap eval --model runs/tiny-lora` loads (base + adapter)
    run = workdir / "runs/eval-lora"
    assert (
        dvmap(
            [
                "eval",
                "--model",
                str(workdir / "runs/tiny-lora"),
                "--dataset",
                str(workdir / "dvmap"),
                "--config",
                "cross_value",
                "--limit",
                "3",
                "--max-new-tokens",
                "6",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert len((run / "predictions.jsonl").read_text().splitlines()) == 3


def test_the_held_out_curve_scores_like_eval_and_leaves_training_randomness_alone(cold_started, built_plain):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from dvmap_hf.data.folder import load_split
    from dvmap_hf.evaluation.backends import TransformersBackend
    from dvmap_hf.evaluation.config import InferenceConfig
    from dvmap_hf.evaluation.parsing import parse_answer
    from dvmap_hf.training.callbacks import HeldOutAccuracy

    rows = load_split(built_plain, "corpus", "validation").select(range(40)).to_list()
    model, tokenizer = AutoModelForCausalLM.from_pretrained(cold_started), AutoTokenizer.from_pretrained(cold_started)
    torch.manual_seed(7)
    before = torch.get_rng_state()
    accuracy = HeldOutAccuracy(None, rows, every=1).measure(model, tokenizer)
    assert torch.equal(torch.get_rng_state(), before)
    completions = TransformersBackend.from_pretrained(
        str(cold_started), InferenceConfig(max_new_tokens=12, greedy=True)
    )(rows)
    expected = sum(parse_answer(c, r["options"]) == r["answer_index"] for c, r in zip(completions, rows, strict=True))
    assert accuracy == expected / len(rows) and model.training is False
