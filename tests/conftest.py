"""Shared fixtures: small synthetic WVS files, dataset folders built from them, a tiny model, a cold-started
one, the release's file layout and a recording Hub (no network anywhere). Plain helpers are in support.py."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from datasets import Dataset  # noqa: E402

from dataset_builder import build_folder  # noqa: E402
from dvmap_hf import hub  # noqa: E402
from dvmap_hf.data.synth import SynthConfig, synthesize, write_synthetic_wvs  # noqa: E402
from dvmap_hf.training.arguments import parse_sft  # noqa: E402
from dvmap_hf.training.sft import sft_main  # noqa: E402
from tests.support import (  # noqa: E402
    ROOT,
    SMALL_SPEC,
    RecordingHub,
    gss_like_frame,
    release_rows,
    small_config,
    spec_dict,
    write_spec,
)


@pytest.fixture(scope="session")
def built_survey(tmp_path_factory):
    """A toy GSS-like survey built with its answer counts (`--consensus distribution`): 2016 trains, 2018 is
    held out (cross_year, 24 profiles), natfare is the held-out question."""
    from dataset_builder import BuildConfig

    folder = tmp_path_factory.mktemp("survey_built")
    gss_like_frame(n=1600).to_csv(folder / "frame.csv", index=False)
    spec = write_spec(folder, spec_dict())
    build_folder(BuildConfig(survey=spec, consensus="distribution", system_prompt="none"), folder / "d")
    return folder / "d"


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


def working_folder(work, dataset, model):
    (work / "dvmap").symlink_to(dataset)
    (work / "runs").mkdir()
    (work / "runs" / "tiny-qwen3").symlink_to(model)
    return work


@pytest.fixture(scope="session")
def built_distribution(tmp_path_factory, wvs_sav):
    """`built_plain` with every pair's answer counts (`--consensus distribution`): what training toward
    distributions reads."""
    out = tmp_path_factory.mktemp("built-distribution") / "dvmap"
    build_folder(small_config(wvs_sav, system_prompt="none", consensus="distribution"), out)
    return out


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A 2-layer random Qwen3 with a tokenizer trained here (no download)."""
    from dvmap_hf.training.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-qwen3")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Gender alone decides Q1; Japan answers Q46 uniformly at random and everything else identically."""
    frame = synthesize(SynthConfig(respondents=3000, seed=11))
    frame["Q1"] = np.where(frame["Q260"] == 1, 1, 4)
    frame.loc[frame["Q260"] < 0, "Q1"] = -2
    japan = frame["B_COUNTRY_ALPHA"] == "JPN"
    rng = np.random.default_rng(0)
    frame.loc[japan, "Q46"] = rng.integers(1, 5, japan.sum())
    for question in ("Q2", "Q3", "Q4", "Q5", "Q6", "Q27", "Q29", "Q60", "Q131"):
        frame.loc[japan, question] = 2
    path = tmp_path_factory.mktemp("planted") / "planted.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def release(tmp_path):
    root = tmp_path / "DVMap"
    corpus = root / "Demographic_Value_Alignment" / "DVMap_Corpus"
    corpus.mkdir(parents=True)
    training = ["Q1", "Q2", "Q27", "Q46", "Q49"]
    for name in ("train", "dev", "test"):
        pd.DataFrame(release_rows(training, bad=name == "train")).assign(data_source="wvs").to_parquet(
            corpus / f"{name}.parquet"
        )
    bench = root / "Triple-Generalization_Evaluation_Benchmark"
    for folder, qs, country in [
        ("Cross-Demographic", training, "Canada"),
        ("Cross-Country", training, "Nigeria"),
        ("Cross-Value", ["Q8", "Q61", "Q132"], "Japan"),
    ]:
        Dataset.from_list(release_rows(qs, country)).save_to_disk(str(bench / folder))
    return root


@pytest.fixture(scope="session")
def workdir(tmp_path_factory, built_plain, tiny_model):
    """A working folder as a user would have it: `dvmap` dataset folder and runs/tiny-qwen3."""
    return working_folder(tmp_path_factory.mktemp("train"), built_plain, tiny_model)


@pytest.fixture(scope="session")
def distribution_workdir(tmp_path_factory, built_distribution, tiny_model):
    """A working folder whose `dvmap` is the distributional build, with runs/tiny-qwen3."""
    return working_folder(tmp_path_factory.mktemp("train-distribution"), built_distribution, tiny_model)


@pytest.fixture(scope="session")
def cold_started(workdir):
    """A short SFT cold start (in-process) so GRPO sees well-formed answers and non-zero rewards."""
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
    with pytest.MonkeyPatch.context() as patch:  # the recipe's relative paths, as a user runs it
        patch.chdir(workdir)
        trainer = sft_main(*args, argv=["sft.py"])
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert losses[-1] < losses[0] / 2  # it learns the format
    assert "Method: SFT" in (workdir / "runs/tiny-sft/README.md").read_text()
    return workdir / "runs/tiny-sft"


@pytest.fixture
def tiny():
    return synthesize(SynthConfig(respondents=400, seed=3))


@pytest.fixture
def recording_hub(monkeypatch):
    """The Hub client replaced by a recording fake (`hub.hub_api` is the one seam): no network."""
    fake = RecordingHub()
    monkeypatch.setattr(hub, "hub_api", lambda: fake)
    return fake
