"""`dvmap_hf/training/arguments.py`: recipes and script arguments."""

from __future__ import annotations

import math

import pytest
import yaml

from dvmap_hf.errors import DvmapError
from dvmap_hf.training.arguments import parse_grpo, parse_sft
from tests.support import ROOT

RECIPES = sorted((ROOT / "training" / "recipes").glob("*.yaml"))

#: Processes of the released scripts that ran on more than one GPU (0.6B: 2 nodes x 1; 8B: 1 node x 2).
RELEASE_PROCESSES = {"qwen3-0.6b-release": 2, "qwen3-8b-release": 2}


def _same(parsed, raw) -> bool:
    """Equal once TrainingArguments' own normalisations are undone (enums, report_to: none -> [])."""
    if raw == "none" and parsed == []:
        return True
    if isinstance(parsed, list) and not isinstance(raw, list):
        return parsed == [raw]
    if isinstance(raw, float):
        return math.isclose(parsed, raw)
    return getattr(parsed, "value", parsed) == raw


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_recipes_parse_with_every_key_known(recipe):
    """GPU recipes are parsed with --use_cpu true (bf16 needs a GPU otherwise); values must survive."""
    raw = yaml.safe_load(recipe.read_text())
    parse = parse_sft if "sft" in recipe.stem else parse_grpo
    script, training, model = parse(["--config", str(recipe), "--use_cpu", "true"])
    parsed = {**vars(script), **vars(model), **{k: getattr(training, k) for k in dir(training) if k in raw}}
    for key, value in raw.items():
        assert _same(parsed[key], value), key
    if recipe.stem.endswith("-release"):  # the authors' scripts: lr 1e-6, verl's T = 1.0, their reward
        processes = RELEASE_PROCESSES.get(recipe.stem, 1)
        assert (
            training.learning_rate == 1e-6
            and training.temperature == 1.0
            and script.reward_funcs == ["release_reward"]
        )
        assert training.per_device_train_batch_size * processes * training.gradient_accumulation_steps == 512
        assert training.generation_batch_size == (128 if "8b" in recipe.stem else 64) * training.num_generations
        assert training.beta == (0.0 if "8b" in recipe.stem else 0.001) and training.num_train_epochs == 1
        assert f"--num_processes {processes}" in recipe.read_text() or processes == 1
    elif recipe.stem.endswith("-sft-distribution"):  # soft targets: a `--consensus distribution` build
        assert script.sft_target == "distribution" and "distribution" in script.dataset_name
    elif "qwen3" in recipe.stem or "llama" in recipe.stem:  # the paper text: lr 5e-6, T = 0.7, batch 64 x 8
        assert training.temperature == 0.7 and training.num_generations == 8 and training.num_train_epochs == 1
        assert training.generation_batch_size == 64 * 8
        assert training.per_device_train_batch_size * 8 * training.gradient_accumulation_steps == 512
        assert training.push_to_hub and training.hub_model_id and training.hub_strategy == "every_save"


def test_a_mistyped_recipe_key_fails_loudly(tmp_path):
    recipe = tmp_path / "typo.yaml"
    recipe.write_text((ROOT / "training/recipes/tiny-cpu.yaml").read_text() + "learning_rte: 0.1\n")
    with pytest.raises(DvmapError, match=f"{recipe}: Unknown arguments.*learning_rte"):
        parse_grpo(["--config", str(recipe)])


@pytest.mark.parametrize(
    "text, said",
    [
        ("model_name_or_path: [tiny\n", "while parsing a flow sequence"),
        ("- a\n- b\n", "must contain a YAML mapping"),
        ("", "must contain a YAML mapping"),
        ("learning_rate: -0.1\nuse_cpu: true\n", "learning_rate must be >= 0, not -0.1"),
        ("use_cpu: false\nbf16: true\n", None),  # transformers refuses bf16 without a GPU, if this has none
    ],
)
def test_a_recipe_transformers_or_yaml_refuses_is_one_line_naming_it(tmp_path, capsys, text, said):
    """These raised tracebacks (issue 33's probe pass: not YAML, not a mapping, bf16 on a CPU) or, for a
    negative learning rate, torch's own once the model was loaded: now one line naming the recipe, exit 2."""
    import torch

    from dvmap_app.cli import main

    if said is None and torch.cuda.is_available():
        pytest.skip("this machine has a GPU: bf16 is allowed")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(text)
    capsys.readouterr()
    assert main(["train", "sft", "--config", str(recipe), "--output_dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dvmap: error: {recipe}: ") and (said or "bf16") in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_packaged_recipe_is_found_by_its_name(tmp_path):
    from dvmap_hf.training.arguments import with_recipe_path

    (path,) = [a for a in with_recipe_path(["--config", "tiny-cpu", "--seed", "1"]) if a.endswith(".yaml")]
    assert path == str(ROOT / "training/recipes/tiny-cpu.yaml")
    mine = tmp_path / "tiny-cpu"  # a file of the user's own wins over a packaged name
    mine.write_text("learning_rate: 0.1\n")
    assert with_recipe_path(["--config", str(mine)]) == ["--config", str(mine)]
    assert with_recipe_path(["--config", "no-such-recipe"]) == ["--config", "no-such-recipe"]


def test_a_value_of_the_wrong_type_is_one_short_usage_line_not_every_flag(tmp_path, capsys):
    """`learning_rate: fast` printed argparse's usage of all ~300 TRL flags before its one-line reason
    (issue 33's probe pass), under the program name `cli.py`."""
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("learning_rate: fast\nuse_cpu: true\n")
    with pytest.raises(SystemExit) as ended:
        parse_sft(["--config", str(recipe)])
    err = capsys.readouterr().err.strip().splitlines()
    assert ended.value.code == 2 and len(err) == 2
    assert err[1] == "dvmap train: error: argument --learning_rate/--learning-rate: invalid float value: 'fast'"
