"""Answer parsing, shared by the GRPO rewards and the evaluation runner (one definition of "correct").

Two rules, chosen by `match`:
- `strict` (the kit's default): take the last complete `<answer>...</answer>` (any case); normalise case,
  whitespace, quotes, markdown, brackets and trailing punctuation; the result must equal exactly one
  option normalised the same way. No substring matching, so "Agree" never matches inside "Strongly
  agree"; anything else is invalid (-1).
- `release` (the authors' evaluation script, `eval_api_parallel.py`): the text after the last
  `<answer>` up to the next `</answer>` (case-sensitive tags; none when no closing tag follows),
  stripped; an option it equals exactly, else the one option it contains when no other option (the
  `Options` string split on ",", as their script splits it) is contained in it too; else -1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from ..data.prompts import OPTION_SEPARATOR
from .config import MATCH_RULES
from .metrics import INVALID

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
    """Content of the last complete <answer>...</answer> (any case), or None: the matches a non-greedy
    regex finds left to right, found in one linear pass (the regex is quadratic on many unclosed tags)."""
    content, position = None, 0
    while (opened := OPEN_TAG.search(text, position)) and (closed := CLOSE_TAG.search(text, opened.end())):
        content, position = text[opened.end() : closed.start()], closed.end()
    return content


def extract_answer_release(text: str) -> str | None:
    """The authors' evaluation extraction: what follows the last `<answer>`, up to the first `</answer>`
    after it, stripped; None without an `<answer>` or with no `</answer>` after the last one."""
    _, opened, tail = text.rpartition("<answer>")
    content, closed, _ = tail.partition("</answer>")
    return content.strip() if opened and closed else None


@lru_cache(maxsize=4096)
def _release_pieces(options: tuple[str, ...]) -> tuple[str, ...]:
    """The options as the authors' script sees them: the released `Options` string split on ","."""
    return tuple(piece.strip() for piece in OPTION_SEPARATOR.join(options).strip().split(","))


def match_release(content: str | None, options: Sequence[str]) -> int:
    """The option the authors' rule credits for an extracted answer: exact match first, else the one
    option contained in it when no other option piece is; -1 otherwise."""
    if not content:
        return INVALID
    if content in options:
        return list(options).index(content)
    contained = [i for i, option in enumerate(options) if option in content]
    if len(contained) != 1:
        return INVALID
    gold = options[contained[0]]
    others = (piece for piece in _release_pieces(tuple(options)) if piece != gold)
    return contained[0] if all(piece not in content for piece in others) else INVALID


def parse_answer(completion: Any, options: Sequence[str], match: str = "strict") -> int:
    """0-based index of the option the completion answers under rule `match`, or -1 (absent, ambiguous
    or no match). See the module docstring for the two rules.

    Example:
        >>> parse_answer("<answer>I strongly agree</answer>", ["Strongly agree", "Agree"], match="release")
        -1
        >>> parse_answer("<answer>Very happy indeed</answer>", ["Very happy", "Not happy"], match="release")
        0
    """
    text = completion_text(completion)
    if match == "release":
        return match_release(extract_answer_release(text), options)
    if match != "strict":
        raise ValueError(f"match must be one of {', '.join(MATCH_RULES)}, not {match!r}")
    content = extract_answer(text)
    if content is None:
        return INVALID
    return _normalized_options(tuple(options)).get(normalize(content), INVALID)


def parse_answers(completions: Iterable[Any], options: Iterable[Sequence[str]], match: str = "strict") -> list[int]:
    return [parse_answer(c, o, match) for c, o in zip(completions, options, strict=True)]


def is_well_formed(completion: Any, options: Sequence[str]) -> bool:
    """Exactly one <answer> and one </answer>, and what they hold is one of the options."""
    text = completion_text(completion)
    return len(OPEN_TAG.findall(text)) == 1 and len(CLOSE_TAG.findall(text)) == 1 and parse_answer(text, options) >= 0
