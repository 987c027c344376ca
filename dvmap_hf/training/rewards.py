"""GRPO reward functions with TRL's signature: `fn(completions, <dataset columns>, **kwargs) -> list[float]`.

DVMap's reward (paper Sec. 4.2) is `r = 1[yhat == y] + beta * r_format`: select
`reward_funcs: [accuracy_reward, format_reward]` with `reward_weights: [1.0, beta]` in a recipe, and
TRL logs each one separately (`rewards/accuracy_reward/mean`, ...). `likert_reward` is the paper's
soft-reward ablation (Sec. 5.9). The answer is parsed exactly as `dvmap eval` parses it.

The authors' released rewards (verl `reward_score/WVS*.py`), value for value, are here too:
`release_reward` (WVS.py, every released GRPO script), `release_distance_reward` (WVS_d.py),
`release_rarity_reward` (WVS_p.py) and `release_gaussian_reward` (WVS_g.py). As released, verl hands
them the `Options` column, which is one comma-joined string, so their "is any other option in the
answer" test runs over its characters and their option positions are character offsets. These
functions reproduce that: the lenient 1.0 for an answer that contains the gold option never fires for a
real option, and the distance credit of the variants goes by character offsets (see the README).

`distribution_reward` trains toward a row's answer *distribution* (`answer_counts`, a `--consensus
distribution` build) rather than its mode: each rollout's leave-one-out credit against its prompt's group.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..data.prompts import OPTION_SEPARATOR
from ..evaluation.parsing import INVALID, completion_text, is_well_formed, parse_answer


def _checked(options: list[Sequence[str]], answer_index: list[int], num_options: list[int] | None = None) -> None:
    """Refuse any row whose gold index or option count disagrees with its options (a reward of -2.0 or
    1.0 from a wrong column is worse than an error)."""
    for i, (opts, index) in enumerate(zip(options, answer_index, strict=True)):
        if len(opts) < 2:
            raise ValueError(f"row {i}: {len(opts)} option(s); an answer scale needs at least 2")
        if not 0 <= index < len(opts):
            raise ValueError(f"row {i}: answer_index {index} is not an index of its {len(opts)} options")
        if num_options is not None and num_options[i] != len(opts):
            raise ValueError(f"row {i}: num_options {num_options[i]} but {len(opts)} options")


def accuracy_reward(
    completions: list[Any], options: list[Sequence[str]], answer_index: list[int], **kwargs
) -> list[float]:
    """1.0 when the parsed option is the profile's answer, else 0.0.

    Example:
        >>> accuracy_reward(["<answer>Agree</answer>", "<answer>Disagree</answer>"],
        ...                 options=[["Agree", "Disagree"]] * 2, answer_index=[0, 0])
        [1.0, 0.0]
    """
    _checked(options, answer_index)
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
        _checked(options, answer_index, num_options)
        rewards = []
        for completion, opts, answer, k in zip(completions, options, answer_index, num_options, strict=True):
            parsed = parse_answer(completion, opts)
            rewards.append(0.0 if parsed == INVALID else alpha * (1.0 - abs(parsed - answer) / (k - 1)))
        return rewards

    return likert_reward


RELEASE_WINDOW = 300  # WVS.py looks for the answer in the completion's last 300 characters only
RELEASE_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)  # case-sensitive, as released
RELEASE_TAGS = ("<reasoning>", "</reasoning>", "<answer>", "</answer>")


def _release_answer(text: str) -> str | None:
    """The content of the last `<answer>...</answer>` within the last 300 characters, stripped; None
    when there is none or it is empty or "..." (the system prompt's placeholder)."""
    found = RELEASE_ANSWER.findall(text[-RELEASE_WINDOW:])
    answer = found[-1].strip() if found else ""
    return None if answer in ("", "...") else answer


def _release_tag_bonus(text: str) -> float:
    """0.2 per tag present anywhere, added one at a time as the authors do (three tags: 0.6000000000000001)."""
    bonus = 0.0
    for tag in RELEASE_TAGS:
        if tag in text:
            bonus += 0.2
    return bonus


def _release_case(completion: Any, options: Sequence[str], answer_index: int):
    """(tag bonus, extracted answer, gold option, the released `Options` string) of one completion."""
    _checked([options], [answer_index])
    text = completion_text(completion)
    return _release_tag_bonus(text), _release_answer(text), options[answer_index], OPTION_SEPARATOR.join(options)


def _contains_gold_only(answer: str, gold: str, options_text: str) -> bool:
    """The authors' "the gold option and no other option is in the answer", run as released: iterating
    the `Options` string yields characters, and the gold option's own characters are among them."""
    return gold in answer and all(other not in answer for other in options_text if other != gold)


def _lone_other(answer: str, gold: str, options_text: str) -> str | None:
    """The one "other option" (a character, as released) found in the answer, when exactly one is."""
    found = [other for other in options_text if other != gold and other in answer]
    return found[0] if len(found) == 1 else None


def _offset_credit(answer: str, gold: str, options_text: str) -> float:
    """WVS_d.py's 1 - |i - j| / L, with i, j and L taken in the `Options` string (character offsets)."""
    return 1 - abs(options_text.index(answer) - options_text.index(gold)) / len(options_text)


def release_reward(
    completions: list[Any], options: list[Sequence[str]], answer_index: list[int], **kwargs
) -> list[float]:
    """The authors' reward (verl `WVS.py`): 2.0 for the exact gold option, 1.0 for an answer containing it
    and no other option (never, as released: see the module docstring), plus 0.2 per tag present.

    Example:
        >>> release_reward(["<reasoning>x</reasoning><answer> Agree </answer>", "<answer>Disagree</answer>"],
        ...                options=[["Agree", "Disagree"]] * 2, answer_index=[0, 0])
        [2.8, 0.4]
    """
    rewards = []
    for completion, opts, index in zip(completions, options, answer_index, strict=True):
        bonus, answer, gold, options_text = _release_case(completion, opts, index)
        if answer is None:
            rewards.append(bonus)
        elif answer == gold:
            rewards.append(2.0 + bonus)
        else:
            rewards.append(1.0 + bonus if _contains_gold_only(answer, gold, options_text) else bonus)
    return rewards


def _release_graded(answer: str, gold: str, options_text: str, p: float | None) -> float:
    """WVS_d.py (p None) and WVS_p.py (each credit scaled by p = 1 - frequency), before the tag bonus."""
    scale = (lambda x: x) if p is None else (lambda x: x * p)
    if answer in options_text:  # a substring test on the string, as released
        return scale(2.0) if answer == gold else scale(_offset_credit(answer, gold, options_text))
    if _contains_gold_only(answer, gold, options_text):
        return scale(1.0)
    other = _lone_other(answer, gold, options_text)
    return 0.0 if other is None else scale(0.5 * _offset_credit(other, gold, options_text))


def _release_graded_rewards(completions, options, answer_index, frequency=None) -> list[float]:
    """WVS_d.py's rewards, or WVS_p.py's given each row's `frequency`."""
    frequency = frequency if frequency is not None else [None] * len(completions)
    rewards = []
    for completion, opts, index, freq in zip(completions, options, answer_index, frequency, strict=True):
        bonus, answer, gold, options_text = _release_case(completion, opts, index)
        if answer is None:
            rewards.append(bonus)
        else:
            p = None if freq is None else 1 - freq
            rewards.append(_release_graded(answer, gold, options_text, p) + bonus)
    return rewards


def release_distance_reward(
    completions: list[Any], options: list[Sequence[str]], answer_index: list[int], **kwargs
) -> list[float]:
    """The authors' distance variant (verl `WVS_d.py`): a wrong answer found in the `Options` string earns
    1 - |i - j| / L, an answer holding exactly one other option half of that, plus the tag bonus."""
    return _release_graded_rewards(completions, options, answer_index)


def release_rarity_reward(
    completions: list[Any], options: list[Sequence[str]], answer_index: list[int], frequency: list[float], **kwargs
) -> list[float]:
    """The authors' rarity variant (verl `WVS_p.py`): `release_distance_reward`'s credits scaled by
    p = 1 - frequency (rare answers pay more), plus the unscaled tag bonus."""
    return _release_graded_rewards(completions, options, answer_index, frequency)


def release_gaussian_reward(
    completions: list[Any], options: list[Sequence[str]], answer_index: list[int], **kwargs
) -> list[float]:
    """The authors' Gaussian variant (verl `WVS_g.py`): 3.0 for the exact gold option, a wrong answer found
    in the `Options` string earns exp(-d^2 / (2 * 0.25^2)) with d = (i - j) / (L - 1), plus the tag bonus."""
    rewards = []
    for completion, opts, index in zip(completions, options, answer_index, strict=True):
        bonus, answer, gold, options_text = _release_case(completion, opts, index)
        if answer is None:
            rewards.append(bonus)
        elif answer in options_text:
            if answer == gold:
                rewards.append(2.0 + bonus + 1)  # in this order, as released (float sums)
            else:
                d = (options_text.index(answer) - options_text.index(gold)) / (len(options_text) - 1)
                rewards.append(math.exp(-(d**2) / (2 * 0.25**2)) + bonus)
        else:
            rewards.append(1.0 + bonus if _contains_gold_only(answer, gold, options_text) else bonus)
    return rewards


def leave_one_out_credit(answers: Sequence[int], counts: Sequence[int]) -> list[float]:
    """Each rollout's share in how close its group's answers come to the survey: r_i = TV(P_hat without i, P)
    - TV(P_hat, P), P = counts / support, P_hat the group's answer shares. An unparsed answer (-1) is mass
    on a "no answer" category the survey never gives, so it always costs. Positive: rollout i moves the
    group toward P; the credits need no per-group std scaling (run with `scale_rewards: none`).

    Example (P = (0.5, 0.5); three rollouts answered the first option, one the second):
        >>> [round(r, 4) for r in leave_one_out_credit([0, 0, 0, 1], [5, 5])]
        [-0.0833, -0.0833, -0.0833, 0.25]
    """
    k, g = len(counts), len(answers)
    if g < 2:
        raise ValueError(f"distribution_reward needs at least 2 rollouts a prompt (num_generations), got {g}")
    survey = np.append(np.asarray(counts, dtype=np.float64) / sum(counts), 0.0)  # last slot: no answer
    slots = np.array([a if 0 <= a < k else k for a in answers])
    tally = np.bincount(slots, minlength=k + 1).astype(np.float64)

    def tv(shares: np.ndarray) -> float:
        return 0.5 * float(np.abs(shares - survey).sum())

    whole = tv(tally / g)
    return [tv((tally - np.eye(k + 1)[slot]) / (g - 1)) - whole for slot in slots]


def _whole_generation_batch(local: list) -> tuple[list, int]:
    """Every process's items in process order (as TRL gathers the rewards) and where this process's begin:
    one prompt's rollouts may be split across processes."""
    from accelerate import PartialState

    state = PartialState()
    if state.num_processes == 1:
        return local, 0
    from accelerate.utils import gather_object

    return gather_object(local), state.process_index * len(local)


def get_distribution_reward(num_generations: int) -> Callable[..., list[float]]:
    """`leave_one_out_credit` over each prompt's `num_generations` consecutive rollouts (TRL's RepeatSampler
    keeps them together; a group whose rows differ is refused rather than credited against another row)."""

    def distribution_reward(completions, options, answer_counts, **kwargs) -> list[float]:
        if any(counts is None for counts in answer_counts):
            raise ValueError("distribution_reward: a row without answer_counts; build with --consensus distribution")
        rows = zip(completions, options, answer_counts, strict=True)
        local = [(parse_answer(c, o), tuple(o), tuple(n)) for c, o, n in rows]
        batch, start = _whole_generation_batch(local)
        if len(batch) % num_generations:
            raise ValueError(f"distribution_reward: {len(batch)} rollouts are not groups of {num_generations}")
        credits = []
        for first in range(0, len(batch), num_generations):
            group = batch[first : first + num_generations]
            if len({row[1:] for row in group}) != 1:
                raise ValueError(
                    f"distribution_reward: rollouts {first}-{first + num_generations - 1} are not one prompt's: it"
                    f" needs each prompt's num_generations={num_generations} rollouts together"
                )
            credits += leave_one_out_credit([row[0] for row in group], group[0][2])
        return credits[start : start + len(local)]

    return distribution_reward


#: Names a recipe may list under `reward_funcs`, each built from the run's settings.
REWARD_FUNCS: dict[str, Callable[..., Callable]] = {
    "accuracy_reward": lambda **settings: accuracy_reward,
    "format_reward": lambda **settings: format_reward,
    "likert_reward": lambda likert_alpha=1.0, **settings: get_likert_reward(likert_alpha),
    "distribution_reward": lambda num_generations=8, **settings: get_distribution_reward(num_generations),
    "release_reward": lambda **settings: release_reward,
    "release_distance_reward": lambda **settings: release_distance_reward,
    "release_rarity_reward": lambda **settings: release_rarity_reward,
    "release_gaussian_reward": lambda **settings: release_gaussian_reward,
}


def unknown_rewards(names: Sequence[str]) -> list[str]:
    """Names that are neither in REWARD_FUNCS nor a dotted import path (`my_pkg.rewards.my_reward`)."""
    return [name for name in names if name not in REWARD_FUNCS and "." not in name]


def _imported(path: str) -> Callable:
    from importlib import import_module

    module, _, attribute = path.rpartition(".")
    try:
        found = getattr(import_module(module), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"reward function {path!r} cannot be imported ({exc})") from exc
    if not callable(found):
        raise ValueError(f"reward function {path!r} is a {type(found).__name__}, not a function")
    return found


def get_reward_funcs(names: Sequence[str], **settings) -> list[Callable]:
    """The reward functions named in a recipe: our registry's names (built with the run's `likert_alpha`,
    `num_generations`), or dotted import paths of your own."""
    unknown = unknown_rewards(names)
    if unknown:
        raise ValueError(
            f"unknown reward function(s) {unknown}; expected some of {sorted(REWARD_FUNCS)} or a dotted import path"
        )
    return [REWARD_FUNCS[name](**settings) if name in REWARD_FUNCS else _imported(name) for name in names]
