"""Prompt rendering: the structured chain-of-thought template of the paper (App. C, Algorithm 1).

Styles: `structured_cot` (default, the paper's DVMap template), `free_cot` (same profile text, "think
step by step": the Standard-RL ablation of Sec. 5.8), `direct` (answer only: the base-model
setting), `release` (the authors' released prompt text, byte for byte) and `compact` (labelled
attribute lines, for small models trained on a CPU). Every style asks for the
final option inside <answer></answer> tags. Prompts are stored as chat messages (TRL's
conversational format), optionally after the authors' system message (`system_message`). Bump
PROMPT_VERSION whenever any text changes.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # pyarrow is imported where the columns are rendered: `dvmap --help` stays light
    import numpy as np
    import pyarrow as pa

PROMPT_VERSION = 2  # 2: the `release` and `compact` styles, the authors' system prompts
SYSTEM_PROMPTS = ("release", "none")
DEFAULT_SYSTEM_PROMPT = "release"  # the authors' system message before every prompt, as they trained and evaluated

PROFILE = (
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

# The authors' released prompt text (the `prompt` column of their corpus and benchmark files), whitespace
# and all: it was a triple-quoted f-string indented inside their code, so every line keeps that
# indentation, values but the country, gender, life stage, marital status, parenthood and language sit
# in single quotes, and two sentences run together ("English.You practice").
_RELEASE_INDENT = " " * 12
RELEASE_PROFILE = (
    "\n    " + _RELEASE_INDENT + "You are playing the role of a {life_stage} {gender} from {country}. "
    "You are {marital_status} and {has_children}. "
    "You have completed your education at the level of '{education_level}'. "
    "Currently, you work as a '{occupation}'. Your work involves '{work_nature}'. "
    "Your income level is '{income_bracket}', which is categorized as low, medium, or high. "
    "Your native language is {common_language}.You practice the religion of '{religion}'. \n"
)
RELEASE_STEPS = [
    (
        "Analyze the current question in relation to the character's identity and values:",
        "Consider whether the current question aligns or conflicts with the character's background, social "
        "context, and personal beliefs. For each identity attribute (e.g., education, occupation, income, etc.), "
        "keep the analysis concise (1-3 sentences).",
    ),
    (
        "Provide reasoning for each option:",
        "Explain why each option aligns or misaligns with the character's identity, values, and beliefs. You may "
        "reference education level, income bracket, religion, occupation, life stage, and other relevant traits. "
        "Keep the reasoning for each option brief (1-3 sentences).",
    ),
    (
        "Select the most appropriate answer:",
        "After analyzing all options, choose the one that best reflects the character's social background, "
        "personal beliefs, and core values. **Only output the final answer inside the `<answer></answer>` tags, "
        "without any additional explanation.**",
    ),
]
RELEASE_TASK = "".join(
    [
        f"{_RELEASE_INDENT}Based on the character's personal information (such as education, occupation, income, "
        "religious beliefs, life stage, etc.) and the given value-based question, please follow these steps:\n\n",
        *(
            f"{_RELEASE_INDENT}{n}. **{title}**  \n{_RELEASE_INDENT}{text}\n\n"
            for n, (title, text) in enumerate(RELEASE_STEPS, start=1)
        ),
        f"{_RELEASE_INDENT}\n{_RELEASE_INDENT}**Question**: {{question}}\n"
        f"{_RELEASE_INDENT}**Options**: {{options}}\n{_RELEASE_INDENT}",
    ]
)

# For small models trained on a CPU (the quickstart): the question and its options first, then the 11
# attributes as short labelled lines and the answer format; no instructions to read past. The question
# comes first so that, reading left to right, each attribute is seen knowing what is asked.
COMPACT_INPUT = "Question: {question}\nOptions: {options}\n"
COMPACT_PROFILE = (
    "".join(
        f"{label}: {{{name}}}\n"
        for label, name in (
            ("Country", "country"),
            ("Gender", "gender"),
            ("Age", "life_stage"),
            ("Marital status", "marital_status"),
            ("Children", "has_children"),
            ("Income", "income_bracket"),
            ("Occupation", "occupation"),
            ("Work", "work_nature"),
            ("Education", "education_level"),
            ("Religion", "religion"),
            ("Language", "common_language"),
        )
    )
    + "Answer as this person, inside <answer></answer>."
)


class Template(NamedTuple):
    profile: str  # filled per profile
    rest: str  # filled per question (the instructions, the question and its options)
    question_first: bool = False  # the message is rest + profile instead of profile + rest


#: style -> its template.
TEMPLATES = {
    "structured_cot": Template(PROFILE, STRUCTURED_COT + INPUT),
    "free_cot": Template(PROFILE, FREE_COT + INPUT),
    "direct": Template(PROFILE, DIRECT + INPUT),
    "release": Template(RELEASE_PROFILE, RELEASE_TASK),
    "compact": Template(COMPACT_PROFILE, COMPACT_INPUT, question_first=True),
}
PROMPT_STYLES = tuple(TEMPLATES)

# The authors' system messages, verbatim: the training one (verl `rl_dataset.py`, `_build_messages`) is
# indented like the code around it, the evaluation one (`eval_api_parallel.py`, `SYSTEM_PROMPT`) is not.
_TRAIN_INDENT = " " * 24
_FORMAT_LINES = (
    "Respond in the following format:",
    "<reasoning>",
    "...",
    "</reasoning>",
    "<answer>",
    "...",
    "</answer>",
)
RELEASE_SYSTEM_TRAIN = "\n" + "".join(f"{_TRAIN_INDENT}{line}\n" for line in _FORMAT_LINES) + _TRAIN_INDENT
RELEASE_SYSTEM_EVAL = (
    "\nRespond in the following format:\n<reasoning>\n ...\n</reasoning>\n<answer>\n  ...\n</answer>\n"
)


#: What each `--system-prompt` choice puts in `prompt`, for dataset cards.
SYSTEM_PROMPT_NOTE = {
    "release": "the authors' system message asking for <reasoning> and <answer> comes first (their training "
    "string in `corpus`, their evaluation string in the benchmark configs)",
    "none": "no system message, the user turn only",
}


def system_message(choice: str, config: str) -> str | None:
    """The system message of a row of `config` under `--system-prompt choice`: with `release`, the authors'
    training message for the corpus (what verl trained and validated on) and their evaluation message for
    the three benchmark configs (what their evaluation script sent); None with `none`."""
    if choice not in SYSTEM_PROMPTS:
        raise ValueError(f"system prompt must be one of {', '.join(SYSTEM_PROMPTS)}, not {choice!r}")
    if choice == "none":
        return None
    return RELEASE_SYSTEM_TRAIN if config == "corpus" else RELEASE_SYSTEM_EVAL


def _pieces(template: str) -> list[tuple[str, str | None]]:
    return [(literal, name) for literal, name, _, _ in string.Formatter().parse(template)]


def _fill(template: str, values: Mapping[str, str]) -> str:
    return "".join(literal + (values[name] if name is not None else "") for literal, name in _pieces(template))


def _fill_columns(template: str, columns: Mapping[str, pa.Array]) -> pa.Array:
    """`_fill` for whole arrow string columns at once, in one vectorised join."""
    import pyarrow.compute as pc

    parts = [part for literal, name in _pieces(template) for part in (literal, columns[name] if name else "")]
    return pc.binary_join_element_wise(*[p for p in parts if not isinstance(p, str) or p], "")


def _templates(style: str) -> Template:
    if style not in TEMPLATES:
        raise ValueError(f"prompt style must be one of {', '.join(PROMPT_STYLES)}, not {style!r}")
    return TEMPLATES[style]


def as_messages(text: str, system: str | None = None) -> list[dict[str, str]]:
    """A conversation: the system message (if any), then the user message."""
    return ([{"role": "system", "content": system}] if system is not None else []) + [
        {"role": "user", "content": text}
    ]


def render_prompt(
    profile: Mapping[str, str],
    question: str,
    options: Sequence[str],
    style: str = "structured_cot",
    system: str | None = None,
) -> list[dict[str, str]]:
    """The conversation for one profile x question: the optional system message, then the user message."""
    template = _templates(style)
    values = {**profile, "question": question, "options": OPTION_SEPARATOR.join(options)}
    profile, rest = _fill(template.profile, values), _fill(template.rest, values)
    return as_messages(rest + profile if template.question_first else profile + rest, system)


def answer_text(option: str) -> str:
    """An option written as the answer every prompt asks for."""
    return f"<answer>{option}</answer>"


def target_completion(messages: Sequence[Mapping[str, str]], answer: str) -> str:
    """The completion a cold start teaches: the format the system message asks for (an empty
    `<reasoning>` block, then the answer) or, with no system message, `<answer>{answer}</answer>`."""
    if messages and messages[0]["role"] == "system" and "<reasoning>" in messages[0]["content"]:
        return f"<reasoning>\n</reasoning>\n<answer>\n{answer}\n</answer>"
    return answer_text(answer)


def render_prompt_texts(
    profiles: Mapping[str, pa.Array],
    profile_index: np.ndarray,
    questions: Mapping[str, pa.Array],
    question_index: np.ndarray,
    style: str = "structured_cot",
    profile_template: str | None = None,
) -> pa.Array:
    """The user message of every row, row i being profile `profile_index[i]` asked question `question_index[i]`.

    `profiles` holds the attribute columns of the distinct profiles, `questions` the `question` and
    the `options` (a list column) of the distinct questions; `profile_template` (a survey spec's profile
    text) replaces the style's, which names the paper's 11 attributes. Each profile text and each input
    block is rendered once, then the two are joined by a take: 80,000 rows cost about as much as
    5,000 profiles.
    """
    import pyarrow.compute as pc

    template = _templates(style)
    profile = _fill_columns(profile_template or template.profile, profiles).take(profile_index)
    rest = _fill_columns(
        template.rest,
        {"question": questions["question"], "options": pc.binary_join(questions["options"], OPTION_SEPARATOR)},
    ).take(question_index)
    return pc.binary_join_element_wise(*((rest, profile) if template.question_first else (profile, rest)), "")


PLAIN_DELIMITER = "\n"  # between a plain-text prompt and the answer (the harness task's target_delimiter)


def plain_prompt(messages: Sequence[dict]) -> str:
    """A conversation as one text for models without a chat template: the contents, a blank line apart."""
    return "\n\n".join(message["content"] for message in messages)
