"""GPU smoke check of the training and evaluation paths, in one call on a lent GPU machine (no network there).

Steps, each a subprocess with its own log and a time limit; one line each at the end (ok / failed /
skipped, seconds, peak GPU memory read from nvidia-smi while it ran):
  setup          a synthetic WVS file, a small dataset folder (`dvmap build`) and a tiny random Qwen3
  grpo_1gpu      3 GRPO steps, single-GPU launch config, bf16, gradient checkpointing
  grpo_zero3     the same under the ZeRO-3 launch config on one process (DeepSpeed)
  grpo_zero3_all the same under ZeRO-3 on every GPU of the machine (2 or more; skipped on one)
  soft_sft       3 steps of soft-target SFT (`tiny-cpu-sft-distribution`) on a `--consensus distribution` build
  grpo_distrib   3 GRPO steps with the distribution reward (`tiny-cpu-distribution`), single-GPU launch config
  eval_cuda      `dvmap eval` with the transformers backend on CUDA, batched generation
  eval_loglik    `dvmap eval --scoring loglik` on CUDA
  eval_vllm      `dvmap eval --backend vllm` (a seed per row, prefix caching), when vLLM is installed there

On the device (after `python bench/gpu_wheels.py` here, which prints the exact call):
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && \\
    PYTHONPATH=/tmp/site:$PWD python3 bench/gpu_smoke.py --out $OUT
Here, `--dry-run` runs the same steps on the CPU (cpu launch configs, float32; the multi-process ZeRO-3
step on 2 CPU processes, cpu-zero3.yaml; the one-process ZeRO-3 step skipped) so the script is exercised
by the tests between GPU sessions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEP_TIMEOUT_S = 150


@dataclass
class Result:
    step: str
    status: str  # ok | failed | skipped
    seconds: float = 0.0
    peak_mib: int | None = None
    note: str = ""

    def line(self) -> str:
        peak = "n/a" if self.peak_mib is None else f"{self.peak_mib} MiB"
        return f"{self.step:<12} {self.status:<8} {self.seconds:7.1f} s  peak GPU {peak:>10}  {self.note}"


class GpuMemoryWatch:
    """Highest `memory.used` nvidia-smi reports while a step runs (None without nvidia-smi)."""

    def __init__(self):
        self.peak: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True) if shutil.which("nvidia-smi") else None

    def _poll(self) -> None:
        while not self._stop.is_set():
            query = ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"]
            try:
                used = max(int(x) for x in subprocess.run(query, capture_output=True, text=True).stdout.split())
                self.peak = max(self.peak or 0, used)
            except (ValueError, OSError):
                pass
            self._stop.wait(0.5)

    def __enter__(self):
        if self._thread:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread:
            self._thread.join()


def run_step(name: str, command: list[str], logs: Path, cwd: Path) -> Result:
    """Run one step as a subprocess; its output goes to logs/<name>.log."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env |= {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    with GpuMemoryWatch() as watch, open(logs / f"{name}.log", "w") as log:
        log.write("$ " + " ".join(command) + "\n")
        log.flush()
        try:
            done = subprocess.run(
                command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=STEP_TIMEOUT_S
            )
            status, note = ("ok", "") if done.returncode == 0 else ("failed", f"exit {done.returncode}")
        except subprocess.TimeoutExpired:
            status, note = "failed", f"timed out after {STEP_TIMEOUT_S} s"
    if status == "failed":
        note += f" (see {name}.log)"
    return Result(name, status, time.perf_counter() - started, watch.peak, note)


def _launch(config: str, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(ROOT / "accelerate_configs" / config),
        *args,
    ]


def _train(work: Path, output: str, dry_run: bool, recipe: str = "tiny-cpu", dataset: str = "dvmap") -> list[str]:
    """The training script's flags for a 3-step run of a tiny CPU recipe (GRPO unless an SFT one), moved to the
    GPU: `tiny-cpu` GRPO on `dvmap`, or the distribution trainers on `dvmap-distribution`."""
    device = ["--use_cpu", "true", "--bf16", "false"] if dry_run else ["--use_cpu", "false", "--bf16", "true"]
    script = "sft.py" if "-sft" in recipe else "grpo.py"
    return [
        str(ROOT / "training" / script),
        "--config",
        str(ROOT / "training" / "recipes" / f"{recipe}.yaml"),
        "--model_name_or_path",
        str(work / "tiny-qwen3"),
        "--dataset_name",
        str(work / dataset),
        "--max_steps",
        "3",
        "--save_strategy",
        "no",
        "--gradient_checkpointing",
        "false" if dry_run else "true",
        "--output_dir",
        str(work / output),
        *device,
    ]


def _dvmap(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvmap_app.cli", *args]


def _eval(work: Path, run: str, *extra: str) -> list[str]:
    model = work / "grpo-1gpu"
    return _dvmap(
        "eval",
        "--model",
        str(model if model.is_dir() else work / "tiny-qwen3"),
        "--dataset",
        str(work / "dvmap"),
        "--config",
        "cross_demographic",
        "--limit",
        "64",
        "--batch-size",
        "32",
        "--max-new-tokens",
        "16",
        "--out",
        str(work / run),
        *extra,
    )


def gpu_count() -> int:
    if shutil.which("nvidia-smi") is None:
        return 0
    return len(subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True).stdout.splitlines())


def _zero3_all(work: Path, dry_run: bool) -> list[str] | str:
    """ZeRO-3 over processes that each hold a shard: every GPU, or 2 CPU processes in the dry run."""
    if dry_run:
        return _launch("cpu-zero3.yaml", "--num_cpu_threads_per_process", "1", *_train(work, "grpo-zero3-all", True))
    gpus = gpu_count()
    if gpus < 2:
        return f"skipped: {gpus} GPU(s); sharding needs 2 or more"
    batch = ["--per_device_train_batch_size", "8"]  # 2 prompts x 4 generations a GPU
    return _launch("zero3.yaml", "--num_processes", str(gpus), *_train(work, "grpo-zero3-all", False), *batch)


def steps(work: Path, dry_run: bool) -> list[tuple[str, list[str] | str]]:
    """(name, command) in order; a string instead of a command says why the step is skipped."""
    zero3 = (
        "skipped: dry run (the one-process ZeRO-3 step is the GPU's; grpo_zero3_all runs on 2 CPU processes)"
        if dry_run
        else _launch("zero3.yaml", "--num_processes", "1", *_train(work, "grpo-zero3", dry_run))
    )
    device = ["--device", "cpu"] if dry_run else ["--device", "cuda", "--dtype", "bfloat16"]
    loglik = _eval(work, "eval-loglik", "--scoring", "loglik", *device)
    if dry_run or find_spec("vllm") is None:
        vllm = "skipped: " + ("dry run (vLLM needs CUDA)" if dry_run else "vLLM is not installed on this machine")
    else:
        vllm = _eval(
            work, "eval-vllm", "--backend", "vllm", "--gpu-memory-utilization", "0.3", "--max-model-len", "2048"
        )
    single, data = "cpu.yaml" if dry_run else "single_gpu.yaml", "dvmap-distribution"
    return [
        ("setup", [sys.executable, str(Path(__file__).resolve()), "--prepare", str(work)]),
        ("grpo_1gpu", _launch(single, *_train(work, "grpo-1gpu", dry_run))),
        ("grpo_zero3", zero3),
        ("grpo_zero3_all", _zero3_all(work, dry_run)),
        ("soft_sft", _launch(single, *_train(work, "soft-sft", dry_run, "tiny-cpu-sft-distribution", data))),
        ("grpo_distrib", _launch(single, *_train(work, "grpo-distrib", dry_run, "tiny-cpu-distribution", data))),
        ("eval_cuda", _eval(work, "eval-cuda", *device)),
        ("eval_loglik", loglik),
        ("eval_vllm", vllm),
    ]


def prepare(work: Path) -> None:
    """The setup step: a small synthetic dataset folder (no system message: the tiny model answers with
    `<answer>` alone) and a tiny random Qwen3, under `work`."""
    from dataset_builder import BuildConfig, build_folder
    from dataset_builder.build import SPLITS
    from dvmap_hf.data.synth import SynthConfig, write_synthetic_wvs
    from dvmap_hf.training.tiny import build_tiny_model

    wvs = write_synthetic_wvs(work / "wvs.csv", SynthConfig(respondents=4000, seed=0))
    small = dict.fromkeys(SPLITS, 8)
    build_folder(BuildConfig(wvs=wvs, system_prompt="none", profiles_per_country=small), work / "dvmap")
    config = BuildConfig(wvs=wvs, system_prompt="none", profiles_per_country=small, consensus="distribution")
    build_folder(config, work / "dvmap-distribution")
    build_tiny_model(work / "tiny-qwen3")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-smoke")), help="logs go here")
    parser.add_argument("--dry-run", action="store_true", help="the same steps on the CPU (no ZeRO-3)")
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)  # the setup step's own process
    args = parser.parse_args(argv)
    if args.prepare:
        prepare(args.prepare)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.out / "work"
    results: list[Result] = []
    for name, command in steps(work, args.dry_run):
        if isinstance(command, str):
            results.append(Result(name, "skipped", note=command.removeprefix("skipped: ")))
        elif results and results[0].status != "ok":
            results.append(Result(name, "skipped", note="setup failed"))
        else:
            work.mkdir(parents=True, exist_ok=True)
            results.append(run_step(name, command, args.out, ROOT))
        print(results[-1].line(), flush=True)
    shutil.rmtree(work, ignore_errors=True)  # models and data stay behind; the logs come back
    summary = "\n".join(r.line() for r in results)
    (args.out / "summary.txt").write_text(summary + "\n")
    print(f"\n{_device()}\n{summary}")
    return 0 if all(r.status != "failed" for r in results) else 1


def _device() -> str:
    """The device and the versions that ran (the carried wheels shadow the image's own)."""
    import importlib.metadata as metadata

    import torch

    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    versions = []
    for package in ("torch", "transformers", "trl", "datasets", "accelerate", "deepspeed"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} -")
    return f"device: {name}, CUDA {torch.version.cuda}; " + ", ".join(versions)


if __name__ == "__main__":
    sys.exit(main())
