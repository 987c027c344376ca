"""`dvmap_hf/options.py`: one declaration per option, for the library and the command line."""

from __future__ import annotations

import dataclasses

import pytest

from dataset_builder.config import BuildConfig
from dvmap_app.cli import main, parser
from dvmap_app.quickstart import QuickstartConfig
from dvmap_hf.analysis import AnalysisConfig
from dvmap_hf.data.synth import SynthConfig
from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig
from dvmap_hf.options import OptionError, from_args
from dvmap_hf.training.tiny import TinyModelConfig


@pytest.mark.parametrize(
    "argv, classes",
    [
        (["build", "--wvs", "f.sav"], [BuildConfig]),
        (["eval", "--model", "m", "--out", "r"], [EvalConfig, InferenceConfig]),
        (["robustness", "--model", "m", "--out", "r"], [EvalConfig, InferenceConfig]),
        (["synth-wvs", "--out", "s.sav"], [SynthConfig]),
        (["tiny-model", "--out", "t"], [TinyModelConfig]),
        (["quickstart"], [QuickstartConfig]),
        (["analyze", "entropy", "--out", "a"], [AnalysisConfig]),
    ],
)
def test_command_line_defaults_are_the_library_defaults(argv, classes):
    args = parser().parse_args(argv)
    for cls in classes:
        required = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if f.name in ("wvs", "model")}
        built = from_args(cls, args, **({} if cls is not EvalConfig else {"generation": InferenceConfig()}))
        assert built == cls(**required)


def test_every_option_lists_its_allowed_values(capsys):
    for command, flags in {
        "build": [
            "--consensus {strict,majority,distribution}",
            "--uk {merge,gbr-only}",
            "--system-prompt {release,none}",
        ],
        "eval": [
            "--backend {transformers,vllm,openai}",
            "--match {strict,release}",
            "--scoring {generate,loglik,stated}",
            "--profiles {own,shuffled}",
        ],
        "analyze": ["{entropy,importance,consensus,semantic,difficulty}"],
    }.items():
        with pytest.raises(SystemExit):
            parser().parse_args([command, "--help"])
        text = capsys.readouterr().out
        assert all(flag in text for flag in flags), (command, text)
    with pytest.raises(SystemExit):
        parser().parse_args(["build", "--help"])
    assert "{structured_cot,free_cot,direct,release,compact}" in capsys.readouterr().out


def test_a_library_error_names_the_field_and_the_command_line_names_the_flag(tmp_path, capsys):
    with pytest.raises(OptionError, match="^min_support must be >= 1, not 0$"):
        BuildConfig(wvs="f.sav", min_support=0)
    with pytest.raises(OptionError, match="^batch_size must be >= 1"):
        InferenceConfig(batch_size=0)
    assert main(["build", "--wvs", "f.sav", "--out", str(tmp_path / "d"), "--min-support", "0"]) == 2
    assert capsys.readouterr().err == "dvmap: error: --min-support must be >= 1, not 0\n"
    argv = ["eval", "--model", "majority", "--out", str(tmp_path / "r"), "--batch-size", "0"]
    assert main(argv) == 2
    assert capsys.readouterr().err == "dvmap: error: --batch-size must be >= 1, not 0\n"
    assert main(["build", "--wvs", "f.sav", "--out", str(tmp_path / "d"), "--required-attributes", "shoe_size"]) == 2
    assert capsys.readouterr().err.startswith(
        "dvmap: error: --required-attributes names an unknown attribute 'shoe_size'"
    )
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--temperature", "-1"], "--temperature must be > 0, not -1.0 (for greedy decoding: --greedy)"),
        (["--top-p", "2"], "--top-p must be in (0, 1], not 2.0"),
        (["--top-k", "-3"], "--top-k must be >= 0, not -3"),
        (["--device", "gpu"], "--device must be auto, cpu, mps, cuda or cuda:N, not 'gpu'"),
    ],
)
def test_sampling_options_are_checked_before_anything_runs(tmp_path, capsys, flags, message):
    assert main(["eval", "--model", "majority", "--out", str(tmp_path / "r"), *flags]) == 2
    assert capsys.readouterr().err == f"dvmap: error: {message}\n"
    assert not (tmp_path / "r").exists()


def test_a_dtype_outside_the_list_is_refused_by_the_parser(tmp_path, capsys):
    assert main(["eval", "--model", "majority", "--out", str(tmp_path / "r"), "--dtype", "bogus"]) == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err
