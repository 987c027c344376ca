"""Checks that fail a training run at once, with one line, instead of minutes later deep inside a library:
the GPU-only extras, a launch whose processes disagree on their number, a missing model or dataset, the
checkpoint to resume from."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

GPU_EXTRA = "pip install -e '.[gpu]' on a CUDA machine"


def check_launch_extras() -> None:
    """Before any argument parsing: a DeepSpeed launch needs the `deepspeed` extra (the clear message, not an
    ImportError from deep inside transformers)."""
    if os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true" and find_spec("deepspeed") is None:
        raise SystemExit(
            "this launch config uses DeepSpeed, which is not installed: pip install -e '.[deepspeed]' (CPU or GPU)"
        )


def check_world_size(training_args) -> None:
    """Every process of a launch must see the same number of ranks. Accelerate set up for a device the
    machine lacks (no GPU and `use_cpu: false`) reports process 0 of 1 in each of the N processes that
    `accelerate launch` started, while torch.distributed (and DeepSpeed) has N: each would train on all the
    data, and the run would look fine."""
    import torch.distributed as dist

    launched = int(os.environ.get("WORLD_SIZE", "1"))
    joined = dist.get_world_size() if dist.is_available() and dist.is_initialized() else launched
    seen = training_args.world_size
    if not launched == joined == seen:
        raise SystemExit(
            f"world size: the launch started {launched} processes (torch.distributed: {joined}) but the trainer's "
            f"Accelerate state has {seen}; on a machine without a GPU set use_cpu: true (recipe or --use_cpu true)"
        )


def check_gpu_extras(use_vllm: bool, attn_implementation: str | None) -> None:
    """flash-attn and vLLM are imported only when a recipe asks for them; say which extra is missing."""
    if attn_implementation == "flash_attention_2" and find_spec("flash_attn") is None:
        raise SystemExit(
            f"attn_implementation: flash_attention_2 needs flash-attn: {GPU_EXTRA} (or set attn_implementation: sdpa)"
        )
    if use_vllm and find_spec("vllm") is None:
        raise SystemExit(f"use_vllm: true needs vLLM: {GPU_EXTRA} (or set use_vllm: false)")


def check_inputs(dataset_name: str, model: str) -> None:
    """A missing local model or dataset fails at once, naming what makes it, instead of a Hub look-up that
    ends in "check your internet connection" a minute later."""
    from ..data.folder import hub_offline, looks_like_hub_id, resolve_dataset
    from ..errors import DvmapError

    try:
        resolve_dataset(dataset_name)
    except DvmapError as exc:
        raise SystemExit(f"dataset_name: {exc}") from None
    is_hub_id = looks_like_hub_id(model) and not Path(model).parent.is_dir()
    if not Path(model).is_dir() and (hub_offline("model") or not is_hub_id):
        hint = (
            f"`dvmap tiny-model --out {model}` makes a tiny one for CPU runs" if "tiny" in model else "check the path"
        )
        raise SystemExit(f"model_name_or_path: {model}: no such model folder ({hint})")
    from ..evaluation.backends import check_model_files

    try:
        check_model_files(model)
    except DvmapError as exc:
        raise SystemExit(f"model_name_or_path: {exc}") from None


def resume_checkpoint(resume_from_checkpoint: str | None, output_dir: str) -> str | None:
    """`true`/`last` -> the newest checkpoint in output_dir (an error if there is none); a path as is."""
    if resume_from_checkpoint is None or str(resume_from_checkpoint).lower() in ("false", "none", ""):
        return None
    if str(resume_from_checkpoint).lower() in ("true", "last"):
        from transformers.trainer_utils import get_last_checkpoint

        last = get_last_checkpoint(output_dir) if Path(output_dir).is_dir() else None
        if last is None:
            raise SystemExit(f"resume_from_checkpoint: no checkpoint-* folder in {output_dir} to resume from")
        return check_checkpoint(last)
    if not Path(resume_from_checkpoint).is_dir():
        raise SystemExit(f"resume_from_checkpoint: {resume_from_checkpoint} is not a folder")
    return check_checkpoint(resume_from_checkpoint)


def check_checkpoint(folder: str) -> str:
    """`folder` if its weights files open (a cut or half-copied file raised safetensors' own traceback
    only once the trainer was built), else one line naming the file and what to do."""
    from safetensors import safe_open

    for weights in sorted(Path(folder).glob("*.safetensors")):
        try:
            with safe_open(weights, framework="pt"):
                pass
        except Exception as exc:  # noqa: BLE001  (SafetensorError, OSError: the file cannot be read as weights)
            raise SystemExit(
                f"resume_from_checkpoint: {weights} is damaged ({' '.join(str(exc).split())}); resume from an "
                f"earlier checkpoint (--resume_from_checkpoint PATH) or remove {folder}"
            ) from None
    return folder


def check_steps(max_steps: int, num_train_epochs: float) -> None:
    """`max_steps: 0` would still train one step and write a model: refuse a run that asks for nothing."""
    if max_steps == 0 or (max_steps < 0 and not num_train_epochs > 0):
        raise SystemExit(
            f"max_steps {max_steps} with num_train_epochs {num_train_epochs} trains nothing; set max_steps >= 1 "
            "(or -1 with num_train_epochs > 0)"
        )


def check_previous_run(output_dir: str, resume_from_checkpoint, replace: bool) -> None:
    """A finished or checkpointed run in `output_dir` is neither trained over silently nor mixed with a new
    one: resume it, replace it (`replace_output_dir: true`) or write elsewhere."""
    folder = Path(output_dir)
    if folder.exists() and not folder.is_dir():  # met later as a bare "File exists"
        raise SystemExit(f"output_dir: {output_dir} exists and is not a folder")
    if replace or resume_checkpoint(resume_from_checkpoint, output_dir) is not None or not folder.is_dir():
        return
    finished = [p.name for p in folder.glob("*.safetensors")] + sorted(p.name for p in folder.glob("checkpoint-*"))
    if finished:
        raise SystemExit(
            f"output_dir: {output_dir} holds a run ({', '.join(finished[:3])}); --resume_from_checkpoint true "
            "continues it, --replace_output_dir true trains over it, or choose another --output_dir"
        )


def check_answer_counts(who: str, script_args, columns) -> None:
    """Training toward distributions reads each row's answer_counts: a build without them stops before the
    model loads, naming the option that makes them."""
    if "answer_counts" not in columns:
        raise SystemExit(
            f"{who}: {script_args.dataset_name}/{script_args.dataset_config} has no answer_counts column; build it "
            "with `dvmap build --consensus distribution` (or --survey)"
        )
