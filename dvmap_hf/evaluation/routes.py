"""How a model's answer distribution per row is obtained, beside log-likelihood scoring's option probabilities,
and the conditioning control.

- `--samples k`: k sampled completions a row, parsed; the distribution is the valid answers' shares (a row with
  no valid answer has none, and is counted);
- `--scoring stated`: the model is asked to state the distribution (a percentage per option, in order, inside
  the answer tags; `STATED_INSTRUCTION`) and the reply is parsed strictly (`parse_stated`): exactly K
  numbers summing to 100 +- `STATED_TOLERANCE`; any other reply has no distribution and is counted, never
  taken as uniform;
- `--profiles shuffled`: each row is asked with the profile (prompt and attributes) of another row of the same
  question, and scored against its own answers (the random-profile control of Cao et al. 2025): what remains
  of a score is the item's prior, what it loses came from the profile.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from ..data.schema import attribute_columns
from .parsing import extract_answer, parse_answer

STATED_TOLERANCE = 2.0  # percentage points: a reply's percentages may sum to 98-102 (rounding)
STATED_INSTRUCTION = (
    "\n\nDo not pick one answer. Estimate how people with this background would split across the options: give "
    "a percentage for every option, in the order listed, inside the <answer></answer> tags, e.g. "
    "<answer>{example}</answer>. The percentages must add up to 100."
)
NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*%?")


def stated_messages(messages: Sequence[dict], options: Sequence[str]) -> list[dict]:
    """The row's conversation with the last user turn asking for a stated distribution."""
    share = [100 // len(options)] * len(options)
    share[0] += 100 - sum(share)
    example = ", ".join(f"{option}: {value}%" for option, value in zip(options, share))
    last = dict(messages[-1])
    last["content"] = last["content"] + STATED_INSTRUCTION.format(example=example)
    return [*messages[:-1], last]


def parse_stated(completion: str, options: Sequence[str]) -> list[float] | None:
    """The distribution a reply states inside its last answer tags: exactly one number per option, in order
    (each may follow the option's text and a colon, and carry a % sign), summing to 100 +- STATED_TOLERANCE;
    None for anything else. Option texts are removed first, so a number inside an option ("1-3") is not read."""
    content = extract_answer(completion)
    if content is None:
        return None
    for option in sorted(options, key=len, reverse=True):
        content = re.sub(re.escape(option), " ", content, flags=re.IGNORECASE)
    values = [float(v) for v in NUMBER.findall(content)]
    if len(values) != len(options) or abs(sum(values) - 100) > STATED_TOLERANCE or sum(values) <= 0:
        return None
    return [v / sum(values) for v in values]


class StatedPredictor:
    """Asks the model for a stated distribution a row; the record keeps the reply, the distribution (null where
    the reply states none) and as `parsed` its first largest option (-1 where it states none)."""

    def __init__(self, backend):
        self.backend = backend
        self.name, self.prompt_format = f"{backend.name}-stated", backend.prompt_format
        self.rows_per_call = getattr(backend, "rows_per_call", 0)
        self.unparsed = 0

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[dict]:
        asked = [{**row, "prompt": stated_messages(row["prompt"], row["options"])} for row in rows]
        records = []
        for row, completion in zip(rows, self.backend(asked, batch_seed=batch_seed), strict=True):
            distribution = parse_stated(completion, row["options"])
            self.unparsed += distribution is None
            parsed = -1 if distribution is None else int(np.argmax(distribution))
            records.append({"completion": completion, "parsed": parsed, "distribution": distribution})
        return records


class SampledPredictor:
    """k completions a row (the batch asked k times, each with its own seed); the record keeps the first
    completion, every parsed answer (`samples`) and the valid answers' shares as the distribution (null where
    none is valid)."""

    def __init__(self, backend, samples: int, match: str = "strict"):
        self.backend, self.samples, self.match = backend, samples, match
        self.name, self.prompt_format = f"{backend.name}-x{samples}", backend.prompt_format
        self.rows_per_call = getattr(backend, "rows_per_call", 0)

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[dict]:
        draws = [self.backend(rows, batch_seed=sample_seed(batch_seed, j)) for j in range(self.samples)]
        records = []
        for i, row in enumerate(rows):
            parsed = [parse_answer(draw[i], row["options"], self.match) for draw in draws]
            counts = np.bincount([p for p in parsed if p >= 0], minlength=len(row["options"]))
            distribution = (counts / counts.sum()).tolist() if counts.sum() else None
            records.append({"completion": draws[0][i], "samples": parsed, "distribution": distribution})
        return records


def sample_seed(batch_seed: int, draw: int) -> int:
    """The seed of draw j of a batch: draw 0 keeps the batch's own seed (a one-sample run's), the others
    derive from it, so runs with k and k + 1 samples share their first k draws."""
    return batch_seed if draw == 0 else zlib.crc32(f"{batch_seed}/{draw}".encode())


def shuffle_profiles(rows: list[dict], seed: int) -> list[dict]:
    """Each row with the profile (prompt and attributes) of another row of its question: within a question the
    rows are put in a seeded random order and each takes the next one's profile (a question asked of a single
    row keeps its own)."""
    if not rows:
        return rows
    attributes = attribute_columns(rows[0].keys())
    by_question: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_question.setdefault(row["question_id"], []).append(i)
    out = list(rows)
    rng = np.random.default_rng([seed, 0xC0])
    for question in sorted(by_question):
        order = rng.permutation(by_question[question])
        for at, donor in zip(order, np.roll(order, -1)):
            taken = {name: rows[donor][name] for name in ("prompt", *attributes)}
            out[at] = {**rows[at], **taken}
    return out
