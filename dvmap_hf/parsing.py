"""Answer parsing, shared by the GRPO rewards and the evaluation runner (one definition of "correct").

Rules: take the last complete `<answer>...</answer>`; normalise case, whitespace, quotes, markdown,
brackets and trailing punctuation; the result must equal exactly one option normalised the same way.
No substring matching, so "Agree" never matches inside "Strongly agree"; anything else is invalid (-1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

INVALID = -1
ANSWER = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)
OPEN_TAG = re.compile(r"<answer>", re.IGNORECASE)
CLOSE_TAG = re.compile(r"</answer>", re.IGNORECASE)
_DECORATION = str.maketrans({c: " " for c in "\"'`*_[](){}“”‘’«»"})
_EDGE = " \t\n\r\f\v.,;:!?-–—"


def normalize(text: str) -> str:
    """Lower case, no quotes / markdown / brackets, no edge punctuation, single spaces."""
    return " ".join(text.translate(_DECORATION).strip(_EDGE).lower().split())


@lru_cache(maxsize=4096)
def _normalized_options(options: tuple[str, ...]) -> dict[str, int]:
    """Normalised option -> index; an option that normalises like another maps to -1 (ambiguous)."""
    index: dict[str, int] = {}
    for i, option in enumerate(options):
        key = normalize(option)
        index[key] = INVALID if key in index else i
    return index


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or TRL's conversational `[{"role": "assistant", "content": ...}]`."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content") or "")
    if isinstance(completion, Sequence) and completion:
        return completion_text(completion[-1])
    return ""


def extract_answer(text: str) -> str | None:
    """Content of the last complete <answer>...</answer>, or None."""
    found = ANSWER.findall(text)
    return found[-1] if found else None


def parse_answer(completion: Any, options: Sequence[str]) -> int:
    """0-based index of the option the completion answers, or -1 (absent, ambiguous or no exact match)."""
    content = extract_answer(completion_text(completion))
    if content is None:
        return INVALID
    return _normalized_options(tuple(options)).get(normalize(content), INVALID)


def parse_answers(completions: Iterable[Any], options: Iterable[Sequence[str]]) -> list[int]:
    return [parse_answer(c, o) for c, o in zip(completions, options, strict=True)]


def is_well_formed(completion: Any, options: Sequence[str]) -> bool:
    """Exactly one <answer> and one </answer>, and what they hold is one of the options."""
    text = completion_text(completion)
    return len(OPEN_TAG.findall(text)) == 1 and len(CLOSE_TAG.findall(text)) == 1 and parse_answer(text, options) >= 0
