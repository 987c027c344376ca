import doctest

import pytest

from dvmap_hf.training import rewards
from dvmap_hf.data.codebook import AGREE_4, AGREE_5, LEVELS
from dvmap_hf.training.rewards import accuracy_reward, format_reward, get_likert_reward, get_reward_funcs


def test_docstring_examples_run():
    assert doctest.testmod(rewards).failed == 0


def test_accuracy_reward_on_crafted_completions():
    completions = [
        "<answer>Agree</answer>",  # right
        "<answer>Strongly agree</answer>",  # a longer option containing the right one: wrong
        "Reasoning... <answer>agree.</answer>",  # decorations are forgiven
        "<answer>Agree</answer> no wait <answer>Disagree</answer>",  # the last answer counts
        "Agree",  # no tags
        [{"role": "assistant", "content": "<answer>Agree</answer>"}],  # conversational completion
    ]
    got = accuracy_reward(completions, options=[AGREE_4] * 6, answer_index=[1] * 6)
    assert got == [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]


def test_format_reward_near_misses():
    completions = [
        "<answer>High</answer>",
        "<answer>high</answer>",  # case is forgiven
        "<answer>High</answer><answer>High</answer>",  # two answers
        "<answer>High",  # unclosed
        "<Answer>Very high</Answer>",  # not an option
        "High",  # no tags: a format that never matches would leave GRPO without signal (open-r1 #235)
        "<answer> **Medium** </answer>\n",
    ]
    assert format_reward(completions, options=[LEVELS] * 7) == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def test_likert_reward_is_graded_and_scaled_by_alpha():
    likert = get_likert_reward(alpha=2.0)
    completions = [f"<answer>{o}</answer>" for o in AGREE_5] + ["nothing"]
    got = likert(completions, options=[AGREE_5] * 6, answer_index=[0] * 6, num_options=[5] * 6)
    assert got == pytest.approx([2.0, 1.5, 1.0, 0.5, 0.0, 0.0])
    assert likert.__name__ == "likert_reward"


def test_registry_names_match_logging_names():
    funcs = get_reward_funcs(["accuracy_reward", "format_reward", "likert_reward"])
    assert [f.__name__ for f in funcs] == ["accuracy_reward", "format_reward", "likert_reward"]
    with pytest.raises(ValueError, match="unknown reward function"):
        get_reward_funcs(["acuracy_reward"])


def test_a_reward_of_your_own_by_import_path():
    (custom,) = get_reward_funcs(["dvmap_hf.training.rewards.release_reward"])
    assert custom is rewards.release_reward
    with pytest.raises(ValueError, match="cannot be imported"):
        get_reward_funcs(["dvmap_hf.training.rewards.no_such_reward"])
    assert "constant_reward" not in rewards.REWARD_FUNCS  # the benchmark's baseline is not offered to users
