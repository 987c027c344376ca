"""A small synthetic dataset folder and tiny model for the benchmarks, built once into a temp folder."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path


@cache
def workspace() -> Path:
    return Path(tempfile.mkdtemp(prefix="dvmap-bench-"))


@cache
def dataset_folder(respondents: int = 20_000) -> Path:
    from dataset_builder import BuildConfig, build_folder
    from dvmap_hf.synth import SynthSpec, write_synthetic_wvs

    wvs = write_synthetic_wvs(workspace() / "synthetic_wvs.sav", SynthSpec(respondents=respondents))
    build_folder(BuildConfig(wvs=wvs), workspace() / "dvmap")
    return workspace() / "dvmap"


@cache
def tiny_model() -> Path:
    from dvmap_hf.tiny import build_tiny_model

    return build_tiny_model(workspace() / "tiny-qwen3")
