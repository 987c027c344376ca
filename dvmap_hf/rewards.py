"""GRPO reward functions with TRL's signature: `fn(completions, <dataset columns>, **kwargs) -> list[float]`.

DVMap's reward (paper Sec. 4.2) is `r = 1[yhat == y] + beta * r_format`: select
`reward_funcs: [accuracy_reward, format_reward]` with `reward_weights: [1.0, beta]` in a recipe, and
TRL logs each one separately (`rewards/accuracy_reward/mean`, ...). `likert_reward` is the paper's
soft-reward ablation (Sec. 5.9). The answer is parsed exactly as `dvmap eval` parses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .parsing import INVALID, is_well_formed, parse_answer


def accuracy_reward(
    completions: list[Any], options: list[Sequence[str]], answer_index: list[int], **kwargs
) -> list[float]:
    """1.0 when the parsed option is the archetype's answer, else 0.0.

    Example:
        >>> accuracy_reward(["<answer>Agree</answer>", "<answer>Disagree</answer>"],
        ...                 options=[["Agree", "Disagree"]] * 2, answer_index=[0, 0])
        [1.0, 0.0]
    """
    return [float(parse_answer(c, o) == a) for c, o, a in zip(completions, options, answer_index, strict=True)]


def format_reward(completions: list[Any], options: list[Sequence[str]], **kwargs) -> list[float]:
    """1.0 for exactly one well-formed <answer>...</answer> holding one of the options, else 0.0.

    Example:
        >>> format_reward(["<answer>High</answer>", "High", "<answer>Very high</answer>"],
        ...               options=[["Low", "Medium", "High"]] * 3)
        [1.0, 0.0, 0.0]
    """
    return [float(is_well_formed(c, o)) for c, o in zip(completions, options, strict=True)]


def get_likert_reward(alpha: float = 1.0) -> Callable[..., list[float]]:
    """alpha * (1 - |yhat - y| / (L - 1)); 0.0 for an invalid answer (the soft-reward ablation).

    Example:
        >>> get_likert_reward(1.0)(["<answer>Medium</answer>", "?"], options=[["Low", "Medium", "High"]] * 2,
        ...                        answer_index=[2, 2], num_options=[3, 3])
        [0.5, 0.0]
    """

    def likert_reward(completions, options, answer_index, num_options, **kwargs) -> list[float]:
        rewards = []
        for completion, opts, answer, k in zip(completions, options, answer_index, num_options, strict=True):
            parsed = parse_answer(completion, opts)
            rewards.append(0.0 if parsed == INVALID else alpha * (1.0 - abs(parsed - answer) / (k - 1)))
        return rewards

    return likert_reward


def constant_reward(completions: list[Any], **kwargs) -> list[float]:
    """0.0 for everything: the baseline `bench/grpo_step.py` measures our rewards' overhead against."""
    return [0.0] * len(completions)


#: Names a recipe may list under `reward_funcs`.
REWARD_FUNCS: dict[str, Callable[..., Callable]] = {
    "accuracy_reward": lambda alpha: accuracy_reward,
    "format_reward": lambda alpha: format_reward,
    "likert_reward": get_likert_reward,
    "constant_reward": lambda alpha: constant_reward,
}


def get_reward_funcs(names: Sequence[str], likert_alpha: float = 1.0) -> list[Callable]:
    unknown = [name for name in names if name not in REWARD_FUNCS]
    if unknown:
        raise ValueError(f"unknown reward function(s) {unknown}; expected some of {sorted(REWARD_FUNCS)}")
    return [REWARD_FUNCS[name](likert_alpha) for name in names]
