"""A small synthetic dataset folder and tiny model for the benchmarks, built once into a temp folder."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path


@cache
def workspace() -> Path:
    return Path(tempfile.mkdtemp(prefix="dvmap-bench-"))


@cache
def dataset_folder(respondents: int = 20_000, quickstart: bool = False) -> Path:
    """The kit's default build, or (`quickstart`) the quickstart's: compact prompts, no system message."""
    from dataset_builder import BuildConfig, build_folder
    from dvmap_hf.data.synth import SynthConfig, write_synthetic_wvs

    name = f"dvmap{'-quickstart' if quickstart else ''}-{respondents}"
    wvs = write_synthetic_wvs(workspace() / f"{name}.sav", SynthConfig(respondents=respondents))
    style = {"prompt_style": "compact", "system_prompt": "none"} if quickstart else {}
    build_folder(BuildConfig(wvs=wvs, **style), workspace() / name)
    return workspace() / name


@cache
def tiny_model() -> Path:
    from dvmap_hf.training.tiny import build_tiny_model

    return build_tiny_model(workspace() / "tiny-qwen3")


def full_size_wvs(argv, prefix: str) -> tuple[Path, Path]:
    """`--respondents` / `--keep` parsed from argv, and a full-size synthetic .sav (all 67 country units,
    ~600 columns, as the real file) in that folder, written once: (folder, file)."""
    import argparse

    from dvmap_hf.data.codebook import COUNTRIES
    from dvmap_hf.data.synth import SynthConfig, write_synthetic_wvs

    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=97_220)
    parser.add_argument("--keep", help="folder to keep the synthetic file and build in")
    args = parser.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    wvs = work / "full_synthetic_wvs.sav"
    if not wvs.exists():
        spec = SynthConfig(respondents=args.respondents, countries=tuple(COUNTRIES), filler_columns=560)
        write_synthetic_wvs(wvs, spec)
    return work, wvs
