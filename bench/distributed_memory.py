"""Memory per process under DDP, ZeRO-2 and ZeRO-3 on 2 CPU processes, for a real model (not for CI).

SmolLM2-135M-Instruct (from the package registry, as bench/real_model.py prepares it) trains a few SFT
steps on the synthetic default through the kit's own trainer, launched with each of
accelerate_configs/cpu-ddp.yaml, cpu-zero2.yaml and cpu-zero3.yaml. Each rank then reports what it holds:
its parameter elements (under ZeRO-3 its partition), its Adam state (exp_avg + exp_avg_sq), and its peak
resident memory. The table shows them beside the theory for fp32 training with Adam on N ranks (P
parameters, 4 bytes each): DDP 4P params + 4P grads + 8P Adam per rank; ZeRO-2 4P + 12P / N; ZeRO-3 16P / N.

    python bench/distributed_memory.py [--cache ~/.cache/dvmap-bench] [--steps 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_parser  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("cpu-ddp", "cpu-zero2", "cpu-zero3")
MB = 2**20


def _innermost(optimizer):
    while hasattr(optimizer, "optimizer"):
        optimizer = optimizer.optimizer
    return optimizer


def held(trainer) -> dict:
    """What this rank holds after training: parameter and Adam-state bytes, peak resident memory."""
    params = sum(getattr(p, "ds_tensor", p).numel() * p.element_size() for p in trainer.model.parameters())
    states = _innermost(trainer.optimizer).state.values()
    adam = sum(t.numel() * t.element_size() for s in states for k, t in s.items() if k.startswith("exp_avg"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    count = sum(getattr(p, "ds_numel", p.numel()) for p in trainer.model.parameters())
    return {"parameters": count, "param_mb": params / MB, "adam_mb": adam / MB, "peak_rss_mb": peak / MB}


def worker(args) -> None:
    """One rank of a launch: a few SFT steps of the kit's trainer, then what this rank holds, as JSON."""
    from dvmap_hf.training.arguments import parse_sft
    from dvmap_hf.training.sft import sft_trainer

    flags = ["--config", str(ROOT / "training/recipes/tiny-cpu-sft.yaml"), "--model_name_or_path", args.model]
    flags += ["--dataset_name", args.dataset, "--max_steps", str(args.steps), "--learning_rate", "1e-5"]
    flags += ["--per_device_train_batch_size", "2", "--max_length", "256", "--max_train_samples", "64"]
    flags += ["--output_dir", str(Path(args.out) / "run"), "--replace_output_dir", "true", "--logging_steps", "1"]
    trainer = sft_trainer(*parse_sft(flags))
    trainer.train()
    rank = trainer.accelerator.process_index
    report = {"rank": rank, "ranks": trainer.accelerator.num_processes, **held(trainer)}
    Path(args.out, f"rank{rank}.json").write_text(json.dumps(report))


def theory_mb(config: str, parameters: int, ranks: int) -> dict:
    """Per-rank bytes for fp32 + Adam: parameters, gradients and Adam states, divided as each stage divides."""
    params, grads, adam = 4 * parameters, 4 * parameters, 8 * parameters
    if config == "cpu-zero2":
        grads, adam = grads / ranks, adam / ranks
    if config == "cpu-zero3":
        params, grads, adam = params / ranks, grads / ranks, adam / ranks
    return {"param_mb": params / MB, "adam_mb": adam / MB, "total_mb": (params + grads + adam) / MB}


def launch(config: str, model: Path, dataset: Path, out: Path, steps: int) -> list[dict]:
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file"]
    command += [str(ROOT / "accelerate_configs" / f"{config}.yaml"), "--num_cpu_threads_per_process", "1", __file__]
    command += ["--worker", "--model", str(model), "--dataset", str(dataset), "--out", str(out)]
    subprocess.run([*command, "--steps", str(steps)], check=True, capture_output=True, cwd=out)
    return [json.loads(p.read_text()) for p in sorted(out.glob("rank*.json"))]


def main(argv=None) -> list[dict]:
    parser = bench_parser(__doc__)
    parser.add_argument("--cache", default=str(Path.home() / ".cache/dvmap-bench"))
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    from real_model import prepare_model

    from dataset_builder import BuildConfig, build_folder
    from dvmap_hf.data.synth import SynthConfig, write_synthetic_wvs

    model = prepare_model(Path(args.cache))
    work = Path(tempfile.mkdtemp(prefix="dvmap-memory-"))
    sample = write_synthetic_wvs(work / "sample.sav", SynthConfig())
    build_folder(BuildConfig(wvs=sample, prompt_style="compact", system_prompt="none"), work / "dvmap")
    rows = []
    print(f"{'config':<10}{'rank':>5}{'params MiB':>11}{'theory':>8}{'Adam MiB':>9}{'theory':>8}{'peak RSS MiB':>13}")
    for config in CONFIGS:
        out = work / config
        out.mkdir()
        for rank in launch(config, model, work / "dvmap", out, args.steps):
            theory = theory_mb(config, rank["parameters"], rank["ranks"])
            rows.append({"config": config, **rank, "theory": theory})
            print(
                f"{config:<10}{rank['rank']:>5}{rank['param_mb']:>11.0f}{theory['param_mb']:>8.0f}"
                f"{rank['adam_mb']:>9.0f}{theory['adam_mb']:>8.0f}{rank['peak_rss_mb']:>13.0f}",
                flush=True,
            )
    return rows


if __name__ == "__main__":
    main()
