"""`dvmap_hf/evaluation/parsing.py`: answer parsing under the strict and the authors' rules."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dvmap_hf.data.codebook import AGREE_4, AGREE_5, IMPORTANCE, LEVELS, QUESTIONS
from dvmap_hf.evaluation.parsing import INVALID, extract_answer, is_well_formed, normalize, parse_answer, parse_answers
from tests.support import authors_correct, generated_completions

TRICKY = [
    ("<answer>Agree</answer>", AGREE_4, 1),
    ("<answer>Strongly agree</answer>", AGREE_4, 0),
    ("<answer>strongly AGREE.</answer>", AGREE_4, 0),
    ("<answer> **Agree** </answer>", AGREE_4, 1),
    ('<answer>"Disagree"</answer>', AGREE_4, 2),
    ("<answer>“Strongly disagree”!</answer>", AGREE_4, 3),
    ("<answer>[Agree strongly]</answer>", AGREE_5, 0),
    ("<answer>Agree strongly</answer>", AGREE_4, INVALID),  # not an option of Q27's scale
    ("<answer>I agree</answer>", AGREE_4, INVALID),  # no substring matching
    ("<answer>Agree or disagree</answer>", AGREE_4, INVALID),
    ("<answer>Neither agree nor disagree</answer>", AGREE_5, 2),
    ("The answer is Agree.", AGREE_4, INVALID),  # no tags
    ("<answer>Agree", AGREE_4, INVALID),  # unclosed
    ("<answer>Disagree</answer> on reflection <answer>Agree</answer>", AGREE_4, 1),  # the last one counts
    ("<answer>Agree</answer> then <answer>Agree", AGREE_4, 1),  # last *complete* one
    ("<ANSWER>\nVery important\n</ANSWER>", IMPORTANCE, 0),
    ("<answer>Not very important</answer>", IMPORTANCE, 2),
    ("<answer>important</answer>", IMPORTANCE, INVALID),
    ("<answer>`High`</answer>", LEVELS, 2),
    ("<answer></answer>", LEVELS, INVALID),
    ("<think>Maybe <answer>Low</answer>?</think> <answer>Medium</answer>", LEVELS, 1),
    ([{"role": "assistant", "content": "<answer>Medium</answer>"}], LEVELS, 1),
    (None, LEVELS, INVALID),
]


@pytest.mark.parametrize("completion, options, expected", TRICKY)
def test_tricky_cases(completion, options, expected):
    assert parse_answer(completion, options) == expected


@given(st.sampled_from(list(QUESTIONS.values())), st.data())
def test_every_option_round_trips_through_decorations(question, data):
    index = data.draw(st.integers(0, len(question.options) - 1))
    option = question.options[index]
    decorated = data.draw(
        st.sampled_from(
            [option, option.upper(), f"**{option}**", f'"{option}".', f"  {option}\n", f"[{option}]", f"`{option}`!"]
        )
    )
    prefix = data.draw(st.text(alphabet=st.characters(blacklist_characters="<>"), max_size=30))
    assert parse_answer(f"{prefix}<answer>{decorated}</answer>", question.options) == index


@given(st.text(max_size=60), st.sampled_from(list(QUESTIONS.values())))
def test_arbitrary_text_never_crashes_and_never_picks_a_non_matching_option(text, question):
    got = parse_answer(f"<answer>{text}</answer>", question.options)
    assert got == INVALID or normalize(question.options[got]) == normalize(text)


def test_no_shorter_option_decides_inside_a_longer_one():
    for question in QUESTIONS.values():
        for i, option in enumerate(question.options):
            for j, other in enumerate(question.options):
                if i != j and normalize(option) in normalize(other):
                    assert parse_answer(f"<answer>{other}</answer>", question.options) == j


def test_well_formed_and_batch():
    assert is_well_formed("<answer>Agree</answer>", AGREE_4)
    assert not is_well_formed("<answer>Agree</answer><answer>Agree</answer>", AGREE_4)
    assert not is_well_formed("<answer>Yes</answer>", AGREE_4)
    assert parse_answers(["<answer>Low</answer>", "x"], [LEVELS, LEVELS]) == [0, INVALID]


def test_release_matching_credits_exactly_what_the_authors_script_credits():
    checked = 0
    for text, options, _, _ in generated_completions(3000, seed=2):
        parsed = parse_answer(text, options, match="release")
        for gold in range(len(options)):
            assert (parsed == gold) == authors_correct(text, options, gold), (text, options, gold)
            checked += 1
    assert checked > 6000


@pytest.mark.parametrize(
    "text, strict, release",
    [
        ("<answer>I would say Agree.</answer>", -1, 1),  # lenient: the one option it contains
        ("<answer>agree</answer>", 1, -1),  # strict forgives case; the authors' rule does not
        ("<answer>Agree</answer><answer>Disagree", 1, -1),  # an unclosed last tag: nothing, for the authors
        ("<answer>Strongly agree</answer>", 0, 0),  # exact first
        ("<answer>Strongly agree or Agree</answer>", -1, -1),  # two options
        ("<answer>No</answer>", -1, -1),
    ],
)
def test_strict_and_release_rules_side_by_side(text, strict, release):
    assert parse_answer(text, AGREE_4) == strict
    assert parse_answer(text, AGREE_4, match="release") == release


def test_the_answer_parser_keeps_its_rule_on_long_unclosed_completions():

    rule = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)
    rng = random.Random(0)
    parts = ["<answer>", "</answer>", "<ANSWER>", "</Answer>", "x", "Agree", "\n", "<answer", "answer>"]
    for _ in range(5000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 12)))
        found = rule.findall(text)
        assert extract_answer(text) == (found[-1] if found else None), text
    long = "<answer>" * 16_000  # 128 KB of unclosed tags: one linear pass, where the regex took 35 s
    assert extract_answer(long) is None and extract_answer(long + "</answer>") == "<answer>" * 15_999
