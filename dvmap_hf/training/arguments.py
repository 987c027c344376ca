"""What a training run reads: DVMap's script arguments beside TRL's GRPOConfig / SFTConfig and ModelConfig,
parsed from a YAML recipe plus flags (`TrlParser`); a recipe may be named by its file or, installed, by its
name (`--config tiny-cpu`)."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from trl import GRPOConfig, ModelConfig, ScriptArguments, SFTConfig, TrlParser

from ..errors import DvmapError
from .rewards import REWARD_FUNCS, unknown_rewards

SFT_TARGETS = ("label", "distribution")


@dataclass
class DVMapScriptArguments(ScriptArguments):
    """Dataset and reward settings. A recipe key that matches no field of these, GRPOConfig or
    ModelConfig is an error (TRL's own script lets such typos pass silently)."""

    dataset_name: str | None = field(default="dvmap", metadata={"help": "Dataset folder (`dvmap build`) or Hub id."})
    dataset_config: str | None = field(default="corpus", metadata={"help": "Config of the dataset to train on."})
    dataset_test_split: str = field(default="validation", metadata={"help": "Split used when eval is on."})
    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy_reward", "format_reward"],
        metadata={"help": f"Reward functions, by name ({', '.join(REWARD_FUNCS)}) or dotted import path."},
    )
    likert_alpha: float = field(default=1.0, metadata={"help": "alpha of likert_reward (the soft-reward ablation)."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Use the first N training rows only."})
    shuffle_seed: int | None = field(default=None, metadata={"help": "Shuffle the training rows with this seed."})
    replace_output_dir: bool = field(
        default=False, metadata={"help": "Train over a run already in output_dir (default: refuse, or resume)."}
    )
    token_metrics: bool = field(
        default=True,
        metadata={
            "help": "SFT: TRL's per-step entropy and token accuracy (its fused LM-head kernel); false: the model's "
            "own loss from the logits of the completion positions alone, the same losses; on the tiny CPU model "
            "a loss forward + backward 2.6x faster than TRL's (bench/sft_step.py)"
        },
    )

    sft_target: str = field(
        default="label",
        metadata={
            "help": "SFT: label (the answer as text, the cold start) or distribution (the model's option "
            "probabilities toward the row's answer_counts; a `--consensus distribution` build)"
        },
    )
    distribution_loss: str = field(
        default="ce",
        metadata={"help": "sft_target distribution: ce (cross-entropy, forward KL) or wd (ordinal Wasserstein)"},
    )

    def __post_init__(self):
        from .soft_targets import DISTRIBUTION_LOSSES

        if self.sft_target not in SFT_TARGETS:
            raise ValueError(f"sft_target must be one of {SFT_TARGETS}, got {self.sft_target!r}")
        if self.distribution_loss not in DISTRIBUTION_LOSSES:
            raise ValueError(f"distribution_loss must be one of {DISTRIBUTION_LOSSES}, got {self.distribution_loss!r}")
        unknown = unknown_rewards(self.reward_funcs)
        if unknown:
            raise ValueError(
                f"reward_funcs: unknown {unknown}; expected names from {sorted(REWARD_FUNCS)} or dotted import paths"
            )
        if self.max_train_samples is not None and self.max_train_samples < 1:
            raise ValueError(f"max_train_samples must be >= 1, got {self.max_train_samples}")


def with_recipe_path(argv: list[str]) -> list[str]:
    """`--config NAME` -> the packaged recipe NAME(.yaml) when NAME is not a file, so a `pip install` runs
    `dvmap train grpo --config qwen3-8b` without a checkout."""
    if "--config" not in argv[:-1]:
        return argv
    at = argv.index("--config") + 1
    if not Path(argv[at]).is_file():
        from ..resources import resource_folder

        recipes = resource_folder("recipes")
        for candidate in (recipes / argv[at], recipes / f"{argv[at]}.yaml"):
            if candidate.is_file():
                return [*argv[:at], str(candidate), *argv[at + 1 :]]
    return argv


def recipe_path(argv: list[str]) -> str | None:
    return argv[argv.index("--config") + 1] if "--config" in argv[:-1] else None


BATCH_FIELDS = (
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "num_generations",
    "generation_batch_size",
    "steps_per_generation",
)


def recipe_settings(argv: list[str], defaults: dict) -> dict:
    """The values a run will have for the keys of `defaults`: those, then the recipe's, then the flags' (as
    TrlParser orders them; flags as given, strings), read without building the config (a GRPOConfig needs
    the launch's devices set up)."""
    settings = dict(defaults)
    recipe = recipe_path(argv)
    if recipe is not None:
        settings.update({k: v for k, v in _recipe_mapping(recipe).items() if k in defaults})
    for at, word in enumerate(argv):
        name, _, value = word.removeprefix("--").partition("=")
        if word.startswith("--") and name in defaults and (value or at + 1 < len(argv)):
            settings[name] = value or argv[at + 1]
    return settings


def _recipe_mapping(recipe: str) -> dict:
    """The recipe file's keys, or one line saying why there are none: a plan or a batch check made from a
    missing or broken recipe would describe another run than the one that then fails."""
    import yaml

    try:
        loaded = yaml.safe_load(Path(recipe).read_text())
    except OSError as exc:
        packaged = ", ".join(recipe_names())
        raise DvmapError(f"{recipe}: {exc.strerror} (nor is it a packaged recipe: {packaged})") from None
    except yaml.YAMLError as exc:
        raise DvmapError(f"{recipe}: not YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(loaded, dict | None):
        raise DvmapError(f"{recipe}: must contain a YAML mapping of settings, not a {type(loaded).__name__}")
    return loaded or {}


def recipe_names() -> list[str]:
    """The packaged recipes, by the names `--config` takes."""
    from ..resources import resource_folder

    return sorted(path.stem for path in resource_folder("recipes").glob("*.yaml"))


def batch_settings(argv: list[str]) -> dict:
    """The GRPO batch fields (BATCH_FIELDS) a run will have, as numbers."""
    defaults = {f.name: f.default for f in fields(GRPOConfig) if f.name in BATCH_FIELDS}
    settings = recipe_settings(argv, defaults)
    return {k: None if v is None or str(v).lower() == "none" else int(v) for k, v in settings.items()}


def grpo_batch_problem(settings: dict, processes: int) -> str | None:
    """What is wrong with a GRPO batch on `processes` ranks, in the recipe's terms, or None. A generation
    batch (per_device_train_batch_size x processes x steps_per_generation completions, steps_per_generation
    defaulting to gradient_accumulation_steps) must hold whole groups of num_generations."""
    per_device, generations = settings["per_device_train_batch_size"], settings["num_generations"]
    global_batch = per_device * processes
    if settings["generation_batch_size"] is not None:
        batch, how = settings["generation_batch_size"], "generation_batch_size"
        unit = math.lcm(global_batch, generations)
        if batch % unit:
            return (
                f"generation_batch_size {batch} is not a multiple of per_device_train_batch_size {per_device} x "
                f"{processes} processes = {global_batch} and of num_generations {generations} (e.g. "
                f"--generation_batch_size {max(unit, batch // unit * unit)})"
            )
    else:
        steps = settings["steps_per_generation"] or settings["gradient_accumulation_steps"]
        batch = global_batch * steps
        how = f"per_device_train_batch_size {per_device} x {processes} processes x {steps} steps per generation"
    if batch % generations:
        return f"{how} = {batch} completions per generation batch, not whole groups of num_generations {generations}"
    return None


def parse_grpo(argv: list[str] | None = None):
    """(script args, GRPOConfig, ModelConfig) from `--config recipe.yaml` + flags; unknown keys are errors.
    A batch that does not divide on this launch's processes stops here, before any model is loaded."""
    argv = with_recipe_path(list(sys.argv[1:] if argv is None else argv))
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    problem = grpo_batch_problem(batch_settings(argv), processes)
    if problem:
        raise SystemExit(f"GRPO batch: {problem}; change per_device_train_batch_size or num_generations")
    return _parsed((DVMapScriptArguments, GRPOConfig, ModelConfig), argv)


def parse_sft(argv: list[str] | None = None):
    argv = with_recipe_path(list(sys.argv[1:] if argv is None else argv))
    return _parsed((DVMapScriptArguments, SFTConfig, ModelConfig), argv)


def _parsed(types: tuple, argv: list[str]):
    """TrlParser's result, or one line naming the recipe: a recipe that is not a YAML mapping, a key of the
    wrong type, or settings transformers refuses (bf16 on a machine without a GPU) raised a traceback."""
    import yaml

    where = argv[argv.index("--config") + 1] if "--config" in argv[:-1] else "the training flags"
    parser = TrlParser(types)
    parser.prog, parser.usage = "dvmap train", "%(prog)s grpo|sft --config RECIPE [flags] (all flags: --help)"
    try:
        parsed = parser.parse_args_and_config(argv)
    except OSError as exc:  # the recipe file itself: missing, unreadable
        raise DvmapError(f"{where}: {exc.strerror or exc}") from exc
    except (ValueError, TypeError, yaml.YAMLError) as exc:
        raise DvmapError(f"{where}: {' '.join(str(exc).split())}") from exc
    if parsed[1].learning_rate < 0:  # torch refuses it only once the model is loaded, with a traceback
        raise DvmapError(f"{where}: learning_rate must be >= 0, not {parsed[1].learning_rate}")
    return parsed
