"""What a training run reads: DVMap's script arguments beside TRL's GRPOConfig / SFTConfig and ModelConfig,
parsed from a YAML recipe plus flags (`TrlParser`); a recipe may be named by its file or, installed, by its
name (`--config tiny-cpu`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trl import GRPOConfig, ModelConfig, ScriptArguments, SFTConfig, TrlParser

from .rewards import REWARD_FUNCS, unknown_rewards


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

    def __post_init__(self):
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


def parse_grpo(argv: list[str] | None = None):
    """(script args, GRPOConfig, ModelConfig) from `--config recipe.yaml` + flags; unknown keys are errors."""
    argv = None if argv is None else with_recipe_path(list(argv))
    return TrlParser((DVMapScriptArguments, GRPOConfig, ModelConfig)).parse_args_and_config(argv)


def parse_sft(argv: list[str] | None = None):
    argv = None if argv is None else with_recipe_path(list(argv))
    return TrlParser((DVMapScriptArguments, SFTConfig, ModelConfig)).parse_args_and_config(argv)
