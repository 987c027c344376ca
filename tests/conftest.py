"""Shared fixtures: small synthetic WVS files and a dataset folder built from one (no network anywhere)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from dataset_builder import BuildConfig, build_folder  # noqa: E402
from dvmap_hf.data.synth import SynthConfig, write_synthetic_wvs  # noqa: E402

SMALL_SPEC = SynthConfig(respondents=6000, seed=7)
SMALL_PROFILES = {
    ("corpus", "train"): 60,
    ("corpus", "validation"): 10,
    ("corpus", "test"): 10,
    ("cross_demographic", "test"): 10,
    ("cross_country", "test"): 15,
    ("cross_value", "test"): 20,
}


def small_config(wvs, **overrides) -> BuildConfig:
    return BuildConfig(wvs=wvs, profiles_per_country=dict(SMALL_PROFILES), **overrides)


@pytest.fixture(scope="session")
def wvs_sav(tmp_path_factory):
    return write_synthetic_wvs(tmp_path_factory.mktemp("wvs") / "synthetic_wvs.sav", SMALL_SPEC)


@pytest.fixture(scope="session")
def wvs_csv(tmp_path_factory):
    return write_synthetic_wvs(tmp_path_factory.mktemp("wvs") / "synthetic_wvs.csv", SMALL_SPEC)


@pytest.fixture(scope="session")
def wvs_dta(tmp_path_factory):
    return write_synthetic_wvs(tmp_path_factory.mktemp("wvs") / "synthetic_wvs.dta", SMALL_SPEC)


@pytest.fixture(scope="session")
def built(tmp_path_factory, wvs_sav):
    """A dataset folder built from the small synthetic file, and its build report."""
    out = tmp_path_factory.mktemp("built") / "dvmap"
    report = build_folder(small_config(wvs_sav), out)
    return out, report


@pytest.fixture(scope="session")
def built_plain(tmp_path_factory, wvs_sav):
    """The same build without the authors' system message: what the tiny CPU recipes train on (a 2-layer
    model has no room for the reasoning block that message asks for)."""
    out = tmp_path_factory.mktemp("built-plain") / "dvmap"
    build_folder(small_config(wvs_sav, system_prompt="none"), out)
    return out


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A 2-layer random Qwen3 with a tokenizer trained here (no download)."""
    from dvmap_hf.training.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-qwen3")
