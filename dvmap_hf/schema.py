"""The row schema every dataset folder of the kit shares (built, imported, evaluated)."""

from __future__ import annotations

import pyarrow as pa
from datasets import Features, List, Value

from .codebook import ATTRIBUTE_NAMES

MESSAGE = {"role": Value("string"), "content": Value("string")}

FEATURES = Features(
    {
        "id": Value("string"),
        "profile_id": Value("string"),
        **{name: Value("string") for name in ATTRIBUTE_NAMES},
        "question_id": Value("string"),
        "question": Value("string"),
        "category": Value("string"),
        "options": List(Value("string")),
        "answer": Value("string"),
        "answer_index": Value("int32"),
        "num_options": Value("int32"),
        "support": Value("int32"),
        "entropy": Value("float64"),
        "frequency": Value("float64"),
        "prompt": List(MESSAGE),
    }
)
COLUMNS = list(FEATURES)

#: Config name -> its splits, in the order the card lists them. `corpus` is the default config.
CONFIG_SPLITS = {
    "corpus": ("train", "validation", "test"),
    "cross_demographic": ("test",),
    "cross_country": ("test",),
    "cross_value": ("test",),
}


def messages_array(texts: pa.Array) -> pa.ListArray:
    """One-turn user conversations `[{"role": "user", "content": text}]` as an arrow column, built without
    a Python object per row."""
    contents = texts.cast(pa.string())
    roles = pa.repeat(pa.scalar("user"), len(contents))
    structs = pa.StructArray.from_arrays([roles, contents], names=["role", "content"])
    offsets = pa.array(range(len(contents) + 1), pa.int32())
    return pa.ListArray.from_arrays(offsets, structs)
