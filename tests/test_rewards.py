"""`dvmap_hf/training/rewards.py`: the GRPO rewards, ours and the authors' as run."""

from __future__ import annotations

import doctest
import math
import re

import pytest

from dvmap_hf.data.codebook import AGREE_4, AGREE_5, LEVELS
from dvmap_hf.training import rewards
from dvmap_hf.training.rewards import (
    accuracy_reward,
    format_reward,
    get_likert_reward,
    get_reward_funcs,
    release_reward,
)
from tests.support import generated_completions

TAGS = ("<reasoning>", "</reasoning>", "<answer>", "</answer>")


def authors_score(solution, gold, options_text, variant="wvs", frequency=0.0):
    """verl reward_score/WVS*.py `compute_score`, re-stated; `options_text` is the released string."""
    clipped = solution[-300:] if len(solution) > 300 else solution
    found = re.findall(r"<answer>(.*?)</answer>", clipped, flags=re.DOTALL)
    answer = found[-1].strip() if found else None
    if answer in ("", "..."):
        answer = None
    bonus = 0.0
    for tag in TAGS:
        if tag in solution:
            bonus += 0.2
    if answer is None:
        return bonus
    others = [o for o in options_text if o != gold]
    lenient = gold in answer and all(o not in answer for o in others)
    p = 1 - frequency
    if variant == "wvs":
        return 2.0 + bonus if answer == gold else (1.0 + bonus if lenient else bonus)
    if answer in options_text:
        if answer == gold:
            return {"d": 2.0 + bonus, "p": 2.0 * p + bonus, "g": 2.0 + bonus + 1}[variant]
        i, j, n = options_text.index(answer), options_text.index(gold), len(options_text)
        if variant == "g":
            return math.exp(-(((i - j) / (n - 1)) ** 2) / (2 * 0.25**2)) + bonus
        dr = 1 - abs(i - j) / n
        return dr + bonus if variant == "d" else dr * p + bonus
    if lenient:
        return 1.0 + bonus if variant != "p" else 1.0 * p + bonus
    matches = [o for o in others if o in answer]
    if variant == "g" or len(matches) != 1:
        return bonus
    dr = 1 - abs(options_text.index(matches[0]) - options_text.index(gold)) / len(options_text)
    return 0.5 * dr + bonus if variant == "d" else 0.5 * dr * p + bonus


CRAFTED = [
    ("<answer>Agree</answer>", 2.4),  # exact, two tags
    ("<reasoning>r</reasoning>\n<answer>\n Agree \n</answer>", 2.8),
    ("<answer>Agree</answer>" + "x" * 300, 0.4),  # the answer is outside the last 300 characters
    ("<answer>Agree</answer> then <answer>Disagree</answer>", 0.4),  # several blocks: the last counts
    ("<answer>Agree", 0.2),  # unclosed
    ("<ANSWER>Agree</ANSWER>", 0.0),  # upper-case tags count for nothing
    ("<answer>...</answer>", 0.4),  # the placeholder is no answer
    ("<answer></answer>", 0.4),  # empty
    ("<answer>Strongly agree</answer>", 0.4),  # another option that contains the gold one
    ("<answer>I Agree</answer>", 0.4),  # contains the gold option: the lenient 1.0 never fires as released
]


@pytest.mark.parametrize("completion, expected", CRAFTED)
def test_release_reward_on_crafted_cases(completion, expected):
    got = rewards.release_reward([completion], options=[AGREE_4], answer_index=[1])
    assert got == [pytest.approx(expected)]
    assert got == [authors_score(completion, "Agree", ", ".join(AGREE_4))]


def test_release_reward_equals_the_authors_value_on_generated_completions():
    cases = list(generated_completions(3000))
    completions = [c for c, *_ in cases]
    conversational = [[{"role": "assistant", "content": c}] for c in completions]
    options, index = [o for _, o, _, _ in cases], [i for _, _, i, _ in cases]
    expected = [authors_score(c, o[i], ", ".join(o)) for c, o, i, _ in cases]
    assert rewards.release_reward(completions, options=options, answer_index=index) == expected  # exact floats
    assert rewards.release_reward(conversational, options=options, answer_index=index) == expected
    assert len(set(expected)) >= 8  # the cases reach every branch and tag count


@pytest.mark.parametrize(
    "name, variant",
    [("release_distance_reward", "d"), ("release_rarity_reward", "p"), ("release_gaussian_reward", "g")],
)
def test_released_variants_equal_the_authors_value(name, variant):
    cases = list(generated_completions(3000, seed=1))
    reward = rewards.get_reward_funcs([name])[0]
    got = reward(
        [c for c, *_ in cases],
        options=[o for _, o, _, _ in cases],
        answer_index=[i for _, _, i, _ in cases],
        frequency=[f for *_, f in cases],
    )
    assert got == [authors_score(c, o[i], ", ".join(o), variant, f) for c, o, i, f in cases]
    assert reward.__name__ == name


def test_rewards_refuse_rows_that_disagree_with_their_options():
    with pytest.raises(ValueError, match="row 0: 1 option"):
        get_likert_reward()(["<answer>A</answer>"], options=[["A"]], answer_index=[0], num_options=[1])
    with pytest.raises(ValueError, match="row 1: num_options 5 but 3 options"):
        get_likert_reward()(["x", "y"], options=[["a", "b", "c"]] * 2, answer_index=[0, 0], num_options=[3, 5])
    with pytest.raises(ValueError, match="answer_index 3 is not an index of its 3 options"):
        accuracy_reward(["x"], options=[["a", "b", "c"]], answer_index=[3])
    with pytest.raises(ValueError, match="answer_index -1"):
        release_reward(["x"], options=[["a", "b"]], answer_index=[-1])


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


def test_a_dotted_path_to_something_not_callable_is_refused():
    with pytest.raises(ValueError, match="'os.sep' is a str, not a function"):
        get_reward_funcs(["os.sep"])


# ---------------------------------------------------------------- the distribution reward


def test_leave_one_out_credit_by_hand():
    """P = (0.6, 0.4); rollouts answer A, nothing parseable, B, B: P_hat = (0.25, 0.5, 0.25 unanswered), TV 0.35.
    Without the A: (0, 2/3, 1/3), TV 0.6, credit +0.25; without the unparsed one: (1/3, 2/3, 0), TV 4/15,
    credit -1/12; without a B: (1/3, 1/3, 1/3), TV 1/3, credit -1/60."""
    reward = rewards.get_distribution_reward(4)
    completions = ["<answer>A</answer>", "no idea", "<answer>B</answer>", "<answer>B</answer>"]
    got = reward(completions, options=[["A", "B"]] * 4, answer_counts=[[3, 2]] * 4)
    assert got == pytest.approx([0.25, -1 / 12, -1 / 60, -1 / 60], abs=1e-9)


def test_a_group_that_matches_the_survey_credits_every_rollout_alike():
    """Answers in P's own shares: every rollout's absence costs the same, so GRPO's advantages are all 0."""
    credits = rewards.leave_one_out_credit([0, 0, 1, 1], [5, 5])
    assert credits == pytest.approx([1 / 6] * 4)
    assert rewards.leave_one_out_credit([-1, -1], [1, 1]) == [0.0, 0.0]  # nothing parsed: nothing to tell apart


def test_rollouts_of_two_prompts_in_one_group_are_refused():
    reward = rewards.get_distribution_reward(2)
    with pytest.raises(ValueError, match="not one prompt's"):
        reward(["<answer>A</answer>"] * 4, options=[["A", "B"]] * 4, answer_counts=[[1, 1], [2, 1], [1, 1], [1, 1]])
    with pytest.raises(ValueError, match="not groups of 2"):
        reward(["<answer>A</answer>"] * 3, options=[["A", "B"]] * 3, answer_counts=[[1, 1]] * 3)
    with pytest.raises(ValueError, match="--consensus distribution"):
        reward(["<answer>A</answer>"] * 2, options=[["A", "B"]] * 2, answer_counts=[None, None])
    with pytest.raises(ValueError, match="at least 2 rollouts"):
        rewards.leave_one_out_credit([0], [1, 1])


SEEN: list[list] = []


def recording_reward(completions, prompts, answer_counts, **kwargs) -> list[float]:
    """A reward (by dotted path) that keeps what GRPOTrainer hands it."""
    SEEN.append(list(zip(map(str, prompts), map(tuple, answer_counts), strict=True)))
    return [0.0] * len(completions)


def test_grpo_hands_each_prompts_rollouts_together_and_the_reward_runs(
    distribution_workdir, cold_started, monkeypatch
):
    """A real GRPOTrainer on the distributional build: every call's rows come in runs of num_generations of one
    prompt (the reward's premise), and distribution_reward trains with per-group scaling off."""
    from dvmap_hf.training.arguments import parse_grpo
    from dvmap_hf.training.grpo import grpo_main

    monkeypatch.chdir(distribution_workdir)
    out = distribution_workdir / "runs/grpo-distribution"
    SEEN.clear()
    args = parse_grpo(
        ["--config", "tiny-cpu-distribution", "--model_name_or_path", str(cold_started), "--dataset_name", "dvmap"]
        + [
            "--reward_funcs",
            "distribution_reward",
            "tests.test_rewards.recording_reward",
            "--reward_weights",
            "1",
            "0",
        ]
        + ["--max_steps", "2", "--save_strategy", "no", "--output_dir", str(out)]
    )
    trainer = grpo_main(*args, argv=["grpo.py"])
    assert len(SEEN) == 2
    for call in SEEN:
        groups = [call[i : i + 8] for i in range(0, len(call), 8)]
        assert len(groups) == 2 and all(len(set(group)) == 1 for group in groups)
        assert groups[0][0] != groups[1][0]
    logged = [entry for entry in trainer.state.log_history if "rewards/distribution_reward/mean" in entry]
    assert len(logged) == 2 and all(math.isfinite(entry["rewards/distribution_reward/mean"]) for entry in logged)
    assert trainer.scale_rewards == "none"


def test_distribution_reward_on_a_build_without_counts_stops_before_training(workdir, cold_started, monkeypatch):
    from dvmap_hf.training.arguments import parse_grpo
    from dvmap_hf.training.grpo import grpo_main

    monkeypatch.chdir(workdir)
    args = parse_grpo(
        ["--config", "tiny-cpu-distribution", "--model_name_or_path", str(cold_started), "--dataset_name", "dvmap"]
        + ["--max_steps", "1", "--output_dir", str(workdir / "runs/grpo-no-counts")]
    )
    with pytest.raises(SystemExit, match="consensus distribution"):
        grpo_main(*args, argv=["grpo.py"])
