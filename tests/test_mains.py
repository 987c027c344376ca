"""`dvmap_hf/training/`: GRPO and SFT runs end to end (accelerate launch, resume, PEFT), and the trainers."""

from __future__ import annotations

import json
import math
import os
import re

import pytest

from dvmap_app.cli import main as dvmap
from dvmap_hf.training.arguments import parse_grpo, parse_sft
from dvmap_hf.training.grpo import grpo_main
from dvmap_hf.training.sft import sft_main
from tests.support import ROOT, accelerate_launch


def _launch(workdir, entry: list[str], *args):
    """`accelerate launch` of the GRPO entry point: `-m dvmap_hf.training.grpo` (installed) or the checkout's
    training/grpo.py; the logged steps."""
    done = accelerate_launch(workdir, "cpu", entry, "--config", "tiny-cpu", *args)
    return [json.loads(line.replace("'", '"')) for line in re.findall(r"\{'loss'.*?\}", done.stdout)]


@pytest.mark.slow
def test_grpo_through_accelerate_launch_then_eval_then_resume(workdir, cold_started, tmp_path):
    out = workdir / "runs/tiny-grpo"
    logs = _launch(
        workdir,
        ["-m", "dvmap_hf.training.grpo"],
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
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask  # transformers wrote 0600
    card = (out / "README.md").read_text()
    assert "Reward: 1 * accuracy_reward + 0.1 * format_reward" in card and "recipes/tiny-cpu.yaml" in card
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
        [str(ROOT / "training/grpo.py")],
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


def test_peft_trains_only_adapter_weights(workdir, cold_started, monkeypatch):
    import torch

    monkeypatch.chdir(workdir)
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


def test_dvmap_train_runs_a_packaged_recipe_by_name(workdir, tiny_model, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    out = workdir / "runs/train-cli"
    argv = ["train", "sft", "--config", "tiny-cpu-sft", "--max_steps", "1", "--max_train_samples", "32"]
    assert dvmap([*argv, "--output_dir", str(out), "--report_to", "none"]) == 0
    assert (out / "model.safetensors").is_file() and "Method: SFT" in (out / "README.md").read_text()


def _completion_batch(tiny_model):
    """A right-padded batch of 3 rows: prompts masked (-100), completions of 2-4 tokens, padding masked."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(3, 1000, (3, 12), generator=generator)
    attention_mask = torch.ones_like(input_ids)
    labels = torch.full_like(input_ids, -100)
    for row, (prompt, completion) in enumerate([(5, 4), (7, 2), (8, 3)]):
        labels[row, prompt : prompt + completion] = input_ids[row, prompt : prompt + completion]
        attention_mask[row, prompt + completion :] = 0
    return model, {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def test_completion_loss_equals_the_models_own_loss_and_gradients(tiny_model):
    """`token_metrics: false` projects only the positions that predict a label: the loss and its gradients are
    the model's full-logits loss, averaged or summed over the Trainer's token count."""
    import torch

    from dvmap_hf.training.trainers import completion_loss

    model, batch = _completion_batch(tiny_model)
    for items in (None, torch.tensor(11)):
        kwargs = {} if items is None else {"num_items_in_batch": items}
        model.zero_grad()
        full = model(**batch, use_cache=False, **kwargs).loss
        full.backward()
        expected = {name: p.grad.clone() for name, p in model.named_parameters()}
        model.zero_grad()
        ours = completion_loss(model, batch, items)
        ours.backward()
        assert ours.item() == pytest.approx(full.item(), abs=1e-6)
        for name, p in model.named_parameters():
            assert torch.allclose(p.grad, expected[name], atol=1e-6), name


def test_completion_loss_refuses_a_model_that_ignores_the_mask(tiny_model):
    """A model that returns logits at every position for a boolean `logits_to_keep` is named, not mis-scored."""
    from dvmap_hf.training.trainers import completion_loss

    model, batch = _completion_batch(tiny_model)
    forward = model.forward
    model.forward = lambda logits_to_keep=0, **kwargs: forward(**kwargs)
    with pytest.raises(ValueError, match="token_metrics: true"):
        completion_loss(model, batch)


def test_sft_without_token_metrics_trains_the_same_losses(workdir, monkeypatch):
    """`token_metrics: false` (the tiny recipe's) skips TRL's fused LM-head metrics, not the loss."""
    monkeypatch.chdir(workdir)
    runs = {}
    for metrics in ("true", "false"):
        out = workdir / f"runs/sft-metrics-{metrics}"
        args = parse_sft(
            ["--config", "tiny-cpu-sft", "--max_steps", "6", "--max_train_samples", "200", "--logging_steps", "2"]
            + ["--save_strategy", "no", "--token_metrics", metrics, "--output_dir", str(out)]
        )
        runs[metrics] = [e for e in sft_main(*args, argv=["sft.py"]).state.log_history if "loss" in e]
    assert [e["loss"] for e in runs["false"]] == pytest.approx([e["loss"] for e in runs["true"]], abs=1e-4)
    assert "mean_token_accuracy" in runs["true"][0] and "mean_token_accuracy" not in runs["false"][0]
