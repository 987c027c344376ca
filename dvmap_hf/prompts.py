"""Prompt rendering: the structured chain-of-thought template of the paper (App. C, Algorithm 1).

Styles: `structured_cot` (default, the paper's DVMap template), `free_cot` (same persona, "think
step by step": the Standard-RL ablation of Sec. 5.8) and `direct` (answer only: the base-model
setting). Every style asks for the final option inside <answer></answer> tags. Prompts are stored
as chat messages (TRL's conversational format). Bump PROMPT_VERSION whenever any text changes.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PROMPT_VERSION = 1
PROMPT_STYLES = ("structured_cot", "free_cot", "direct")

PERSONA = (
    "You are playing the role of a {life_stage} {gender} from {country}.\n"
    "You are {marital_status} and {has_children}.\n"
    "You have completed your education at the level of {education_level}.\n"
    "Currently, you work as a {occupation}. Your work involves {work_nature}.\n"
    "Your income level is {income_bracket}, which is categorized as low, medium, or high.\n"
    "Your native language is {common_language}.\n"
    "You practice the religion of {religion}.\n"
)

STRUCTURED_COT = (
    "Task Description:\n"
    "Based on the character's personal information (such as education, occupation, income, religious beliefs, "
    "life stage, etc.) and the given value-based question, please follow the structured reasoning steps below.\n"
    "Structured CoT Instruction:\n"
    "1. Analyze the current question in relation to the character's identity and values: Consider whether the "
    "current question aligns or conflicts with the character's background, social context, and personal beliefs. "
    "For each identity attribute (e.g., education, occupation, income, etc.), keep the analysis concise "
    "(1-3 sentences).\n"
    "2. Provide reasoning for each option: Explain why each option aligns or misaligns with the character's "
    "identity, values, and beliefs. You may reference education level, income bracket, religion, occupation, "
    "life stage, and other relevant traits. Keep the reasoning for each option brief (1-3 sentences).\n"
    "3. Select the most appropriate answer: After analyzing all options, choose the one that best reflects the "
    "character's social background, personal beliefs, and core values.\n"
    "Output Constraint:\n"
    "Only output the final answer inside the <answer></answer> tags, without any additional explanation.\n"
)

FREE_COT = (
    "Task Description:\n"
    "Answer the value-based question as this character would. Think it through step by step, then give the "
    "final answer inside the <answer></answer> tags.\n"
)

DIRECT = (
    "Task Description:\n"
    "Answer the value-based question as this character would. Reply with the chosen option inside the "
    "<answer></answer> tags and nothing else.\n"
)

INPUT = 'Input Data:\n"Question": {question}\n"Options": [{options}]'
OPTION_SEPARATOR = ", "

INSTRUCTIONS = {"structured_cot": STRUCTURED_COT, "free_cot": FREE_COT, "direct": DIRECT}


def _pieces(template: str) -> list[tuple[str, str | None]]:
    return [(literal, name) for literal, name, _, _ in string.Formatter().parse(template)]


def _fill(template: str, values: Mapping[str, str]) -> str:
    return "".join(literal + (values[name] if name is not None else "") for literal, name in _pieces(template))


def _fill_columns(template: str, columns: Mapping[str, pa.Array]) -> pa.Array:
    """`_fill` for whole arrow string columns at once, in one vectorised join."""
    parts = [part for literal, name in _pieces(template) for part in (literal, columns[name] if name else "")]
    return pc.binary_join_element_wise(*[p for p in parts if not isinstance(p, str) or p], "")


def _template(style: str) -> str:
    if style not in INSTRUCTIONS:
        raise ValueError(f"prompt style must be one of {', '.join(PROMPT_STYLES)}, not {style!r}")
    return PERSONA + INSTRUCTIONS[style] + INPUT


def as_messages(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def render_prompt(
    profile: Mapping[str, str], question: str, options: Sequence[str], style: str = "structured_cot"
) -> list[dict[str, str]]:
    """The user message for one archetype x question, as a one-turn conversation."""
    options_text = OPTION_SEPARATOR.join(options)
    return as_messages(_fill(_template(style), {**profile, "question": question, "options": options_text}))


def render_prompt_texts(
    profiles: Mapping[str, pa.Array],
    profile_index: np.ndarray,
    questions: Mapping[str, pa.Array],
    question_index: np.ndarray,
    style: str = "structured_cot",
) -> pa.Array:
    """The user message of every row, row i being profile `profile_index[i]` asked question `question_index[i]`.

    `profiles` holds the 11 attribute columns of the distinct profiles, `questions` the `question` and
    the `options` (a list column) of the distinct questions. Each persona and each input
    block is rendered once, then the two are joined by a take: 80,000 rows cost about as much as
    5,000 profiles.
    """
    template = _template(style)
    persona_end = template.index("Task Description:")
    persona = _fill_columns(template[:persona_end], profiles)
    rest = _fill_columns(
        template[persona_end:],
        {"question": questions["question"], "options": pc.binary_join(questions["options"], OPTION_SEPARATOR)},
    )
    return pc.binary_join_element_wise(persona.take(profile_index), rest.take(question_index), "")
