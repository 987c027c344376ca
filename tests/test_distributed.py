"""More than one process: SFT and GRPO under DDP, DeepSpeed ZeRO-2 and ZeRO-3 on 2 CPU processes (gloo), as
`accelerate launch` runs them with the launch configs in accelerate_configs/, against one process with the
same global batch; ZeRO-3 checkpoints and resume; the same run as two "machines" on this host; and the
launches that must stop before any step."""

from __future__ import annotations

import shutil

import pytest

from dvmap_hf.training.arguments import parse_sft
from dvmap_hf.training.sft import sft_main
from tests.support import accelerate_launch, free_port, largest_difference, log_history, weights

pytestmark = pytest.mark.slow

LOSS_TOLERANCE = 1e-4  # per-step loss, 2 ranks x B rows vs 1 rank x 2B (measured: within 1e-6)
WEIGHT_TOLERANCE = 1e-5  # final weights, largest absolute difference (measured: 2e-6 after 4 steps at lr 2e-2)
SFT = ["--config", "tiny-cpu-sft", "--max_steps", "4", "--max_train_samples", "400", "--logging_steps", "1"]
SFT_ENTRY = ["-m", "dvmap_hf.training.sft"]
GRPO_ENTRY = ["-m", "dvmap_hf.training.grpo"]


def _grpo(cold_started, out):
    return ["--config", "tiny-cpu", "--model_name_or_path", str(cold_started), "--max_steps", "3"] + [
        "--per_device_train_batch_size",
        "8",
        "--save_strategy",
        "no",
        "--output_dir",
        str(out),
    ]


@pytest.fixture(scope="module")
def sft_alone(workdir):
    """One process x 16 rows a step, in this process."""
    out = workdir / "runs/sft-one-process"
    args = parse_sft([*SFT, "--per_device_train_batch_size", "16", "--save_strategy", "no", "--output_dir", str(out)])
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir)
        sft_main(*args, argv=["sft.py"])
    return out


@pytest.fixture(scope="module")
def sft_two_processes(workdir):
    """2 processes x 8 rows a step under a launch config (made once per config), checkpoints every 2 steps."""
    runs = {}

    def launched(config: str):
        if config not in runs:
            out = workdir / f"runs/sft-{config}"
            saving = ["--save_strategy", "steps", "--save_steps", "2", "--output_dir", str(out)]
            accelerate_launch(workdir, config, SFT_ENTRY, *SFT, "--per_device_train_batch_size", "8", *saving)
            runs[config] = out
        return runs[config]

    return launched


@pytest.mark.parametrize("config", ["cpu-ddp", "cpu-zero2", "cpu-zero3"])
def test_sft_on_two_processes_equals_one_process_with_twice_the_batch(sft_alone, sft_two_processes, config):
    run = sft_two_processes(config)
    one, two = log_history(sft_alone), log_history(run)
    assert [e["step"] for e in two] == [1, 2, 3, 4]
    # the same epoch fraction: 2 ranks x 8 rows covered the data as 1 x 16 did (each rank alone on all the
    # data, the failure a world-size disagreement makes, halves it)
    assert [e["epoch"] for e in two] == [e["epoch"] for e in one]
    for a, b in zip(one, two, strict=True):
        assert abs(a["loss"] - b["loss"]) < LOSS_TOLERANCE, (config, a["step"], a["loss"], b["loss"])
    assert largest_difference(weights(sft_alone), weights(run)) < WEIGHT_TOLERANCE


def test_zero3_checkpoints_hold_the_whole_model_and_resume_ends_where_the_run_ends(workdir, sft_two_processes):
    import torch
    from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint
    from transformers import AutoModelForCausalLM

    run = sft_two_processes("cpu-zero3")
    checkpoint = run / "checkpoint-2"
    # the consolidated model (zero3_save_16bit_model) loads as a plain model and equals the weights gathered
    # from the ranks' ZeRO-3 shards of the same step
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32)
    gathered = get_fp32_state_dict_from_zero_checkpoint(str(checkpoint))
    loaded = {k: v for k, v in model.state_dict().items() if k in gathered}
    assert len(loaded) == len(gathered) and largest_difference(loaded, gathered) == 0.0
    assert largest_difference(weights(checkpoint), gathered) == 0.0
    # what a run stopped after step 2 leaves behind, resumed: the same end as the run that went on
    resumed = workdir / "runs/sft-zero3-resumed"
    shutil.copytree(checkpoint, resumed / "checkpoint-2")
    flags = ["--per_device_train_batch_size", "8", "--save_strategy", "no", "--output_dir", str(resumed)]
    accelerate_launch(workdir, "cpu-zero3", SFT_ENTRY, *SFT, *flags, "--resume_from_checkpoint", "true")
    assert [e["step"] for e in log_history(resumed)][-2:] == [3, 4]
    for a, b in zip(log_history(run)[2:], log_history(resumed)[-2:], strict=True):
        assert abs(a["loss"] - b["loss"]) < LOSS_TOLERANCE
    assert largest_difference(weights(run), weights(resumed)) < WEIGHT_TOLERANCE


@pytest.fixture(scope="module")
def grpo_runs(workdir, cold_started):
    """3 GRPO steps on 2 processes x 8 completions (2 prompts x 4 generations a rank), DDP and ZeRO-3."""
    runs = {}
    for config in ("cpu-ddp", "cpu-zero3"):
        runs[config] = workdir / f"runs/grpo-{config}"
        accelerate_launch(workdir, config, GRPO_ENTRY, *_grpo(cold_started, runs[config]))
    return runs


def test_grpo_under_zero3_learns_as_ddp_does(grpo_runs, cold_started):
    ddp, zero3 = (log_history(grpo_runs[c]) for c in ("cpu-ddp", "cpu-zero3"))
    assert len(zero3) == 3
    rewards = ["rewards/accuracy_reward/mean", "rewards/format_reward/mean"]
    assert all(name in e for e in zero3 for name in rewards)
    assert any(e["rewards/format_reward/std"] > 0 for e in zero3)  # a reward that varies: advantages to learn from
    # the same completions, rewards and losses: the generation inside ZeRO-3 ran on whole parameters
    # (TRL's ds3_gather_for_generation), each rank's shard alone generates nothing of the kind
    for a, b in zip(ddp, zero3, strict=True):
        assert a["completions/mean_length"] == b["completions/mean_length"]
        assert [a[r] for r in rewards] == [b[r] for r in rewards]
        assert abs(a["loss"] - b["loss"]) < LOSS_TOLERANCE
    final = weights(grpo_runs["cpu-zero3"])
    assert largest_difference(final, weights(cold_started)) > 1e-5  # it trained
    assert largest_difference(final, weights(grpo_runs["cpu-ddp"])) < WEIGHT_TOLERANCE


def test_grpo_as_two_machines_on_one_host_ends_as_one_machine_with_two_processes(workdir, cold_started, grpo_runs):
    out = workdir / "runs/grpo-two-machines"
    port = str(free_port())
    machines = [
        accelerate_launch(
            workdir,
            "cpu-zero3",
            GRPO_ENTRY,
            *_grpo(cold_started, out),
            launch=["--num_machines", "2", "--num_processes", "2", "--machine_rank", str(rank)]
            + ["--main_process_ip", "127.0.0.1", "--main_process_port", port],
            popen=True,
        )
        for rank in (0, 1)
    ]
    for machine in machines:
        _, stderr = machine.communicate(timeout=600)
        assert machine.returncode == 0, stderr[-3000:]
    one_machine = log_history(grpo_runs["cpu-zero3"])
    assert [(e["loss"], e["rewards/accuracy_reward/mean"]) for e in log_history(out)] == [
        (e["loss"], e["rewards/accuracy_reward/mean"]) for e in one_machine
    ]
    assert largest_difference(weights(out), weights(grpo_runs["cpu-zero3"])) < WEIGHT_TOLERANCE


def test_a_grpo_batch_that_does_not_divide_on_two_processes_stops_before_any_step(workdir, cold_started):
    out = workdir / "runs/grpo-indivisible"
    flags = [*_grpo(cold_started, out), "--per_device_train_batch_size", "3"]
    done = accelerate_launch(workdir, "cpu-ddp", GRPO_ENTRY, *flags, check=False)
    assert done.returncode != 0
    assert (
        "GRPO batch: per_device_train_batch_size 3 x 2 processes x 1 steps per generation = 6 completions per "
        "generation batch, not whole groups of num_generations 4" in done.stderr
    )
    assert not out.exists()


def test_a_launch_whose_processes_disagree_on_their_number_stops_with_one_line(workdir):
    out = workdir / "runs/sft-disagreeing"
    flags = [*SFT, "--use_cpu", "false", "--output_dir", str(out)]
    done = accelerate_launch(workdir, "cpu-ddp", SFT_ENTRY, *flags, check=False)
    assert done.returncode != 0
    assert (
        "world size: the launch started 2 processes (torch.distributed: 2) but the trainer's Accelerate state has 1"
        in done.stderr
    )
    assert not out.exists()


SOFT_SFT = ["--config", "tiny-cpu-sft-distribution", "--dataset_name", "dvmap", "--max_steps", "3"]
SOFT_SFT += ["--max_train_samples", "200", "--logging_steps", "1", "--save_strategy", "no"]


def test_soft_target_sft_under_zero3_equals_one_process_with_twice_the_batch(distribution_workdir):
    """Soft-target SFT on 2 ZeRO-3 processes x 4 rows, against one process x 8 rows (in this process): the
    same losses step by step and the same final weights."""
    alone, two = distribution_workdir / "runs/soft-one", distribution_workdir / "runs/soft-zero3"
    args = parse_sft([*SOFT_SFT, "--per_device_train_batch_size", "8", "--output_dir", str(alone)])
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(distribution_workdir)
        sft_main(*args, argv=["sft.py"])
    accelerate_launch(
        distribution_workdir, "cpu-zero3", SFT_ENTRY, *SOFT_SFT, "--per_device_train_batch_size", "4",
        "--output_dir", str(two),
    )  # fmt: skip
    one_log, two_log = log_history(alone), log_history(two)
    assert [e["step"] for e in two_log] == [1, 2, 3]
    for a, b in zip(one_log, two_log, strict=True):
        assert abs(a["loss"] - b["loss"]) < LOSS_TOLERANCE, (a["step"], a["loss"], b["loss"])
    assert largest_difference(weights(alone), weights(two)) < WEIGHT_TOLERANCE


def test_distribution_reward_credits_groups_split_across_processes(distribution_workdir, cold_started):
    """GRPO with distribution_reward, 8 generations a prompt and 4 completions a rank: every group lies on
    both processes, so each rank's reward sees its group only through the gather. ZeRO-3 and DDP generate
    the same completions; their rewards must be equal, and finite."""
    flags = ["--config", "tiny-cpu-distribution", "--model_name_or_path", str(cold_started), "--dataset_name", "dvmap"]
    flags += ["--max_steps", "2", "--per_device_train_batch_size", "4", "--save_strategy", "no"]
    logs = {}
    for config in ("cpu-ddp", "cpu-zero3"):
        out = distribution_workdir / f"runs/grpo-distribution-{config}"
        accelerate_launch(distribution_workdir, config, GRPO_ENTRY, *flags, "--output_dir", str(out))
        logs[config] = log_history(out)
    name = "rewards/distribution_reward/mean"
    assert [e[name] for e in logs["cpu-ddp"]] == [e[name] for e in logs["cpu-zero3"]]
    assert len(logs["cpu-zero3"]) == 2 and all(e[name] == e[name] for e in logs["cpu-zero3"])
