"""`dvmap_hf/evaluation/predictors.py`: the one interface the runner uses, and the factory behind it."""

from __future__ import annotations

import json

import pytest

from dvmap_app.cli import main
from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig
from dvmap_hf.evaluation.predictors import Predictor, make_predictor
from dvmap_hf.options import OptionError


def test_every_predictor_is_a_predictor(built, tiny_model):
    dataset = str(built[0])
    specs = [EvalConfig(name, dataset) for name in ("random", "majority", "tabular")]
    specs += [EvalConfig(str(tiny_model), dataset, scoring=s) for s in ("generate", "loglik")]
    specs.append(EvalConfig("m", dataset, backend="openai", generation=InferenceConfig(api_base="http://127.0.0.1:9")))
    for spec in specs:
        predictor = make_predictor(spec)
        assert isinstance(predictor, Predictor), spec
        assert predictor.prompt_format and predictor.name


def test_reference_predictors_fit_on_the_split_asked_for(built, tmp_path, capsys):
    dataset = str(built[0])
    train = make_predictor(EvalConfig("majority", dataset))
    validation = make_predictor(EvalConfig("majority", dataset, reference_split="validation"))
    assert train.mode_by_pair != validation.mode_by_pair  # fitted on other rows
    argv = ["eval", "--model", "tabular", "--dataset", dataset, "--config", "corpus", "--limit", "20"]
    assert main([*argv, "--reference-split", "validation", "--out", str(tmp_path / "r")]) == 0
    assert json.loads((tmp_path / "r/run.json").read_text())["reference_split"] == "validation"
    capsys.readouterr()
    assert main([*argv, "--reference-split", "test", "--out", str(tmp_path / "s")]) == 2
    assert "--reference-split is the evaluated split ('test')" in capsys.readouterr().err
    with pytest.raises(OptionError, match="reference_split"):
        EvalConfig("majority", dataset, config="corpus", split="validation", reference_split="validation")
