"""The row schema every dataset folder of the kit shares (built, imported, evaluated)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
from datasets import Features, List, Value

from .codebook import ATTRIBUTE_NAMES

MESSAGE = {"role": Value("string"), "content": Value("string")}
#: The columns of every row, around the profile's attributes (the 11 of the paper, or a survey spec's).
HEAD = {"id": Value("string"), "profile_id": Value("string")}
TAIL = {
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
#: A distributional build (`--consensus distribution`, every survey build) adds each pair's answer counts,
#: in scale order.
COUNTS = "answer_counts"


def features_for(attributes, counts: bool = False) -> Features:
    """The schema of rows whose profiles have these attribute columns, with or without `answer_counts`."""
    extra = {COUNTS: List(Value("int32"))} if counts else {}
    return Features({**HEAD, **{name: Value("string") for name in attributes}, **TAIL, **extra})


FEATURES = features_for(ATTRIBUTE_NAMES)
COLUMNS = list(FEATURES)
ARROW_SCHEMA = FEATURES.arrow_schema  # carries the `datasets` features in its metadata
FEATURES_WITH_COUNTS = features_for(ATTRIBUTE_NAMES, counts=True)


def attribute_columns(columns) -> list[str]:
    """The profile attributes among these columns: the paper's 11 where the rows hold them all (other columns
    are not the schema's), else every column that is not the schema's own (a survey build's, group first)."""
    attributes = [name for name in columns if name not in HEAD and name not in TAIL and name != COUNTS]
    return list(ATTRIBUTE_NAMES) if set(ATTRIBUTE_NAMES) <= set(attributes) else attributes


def group_column(columns) -> str:
    """The first attribute: the group whose rows of a question pool into one answer distribution and within
    which profiles are drawn (`country` in a WVS build, a survey build's group)."""
    return attribute_columns(columns)[0]


def features_of(columns) -> Features:
    """The schema of rows with these columns (`answer_counts` where present)."""
    columns = list(columns)
    return features_for(attribute_columns(columns), counts=COUNTS in columns)


#: Config name -> its splits, in the order the card lists them. `corpus` is the default config.
CONFIG_SPLITS = {
    "corpus": ("train", "validation", "test"),
    "cross_demographic": ("test",),
    "cross_country": ("test",),
    "cross_value": ("test",),
}
BENCHMARK_PREFIX = "cross_"  # a survey build's held-out groups make `cross_<group>` (cross_year, ...)


def splits_of(config: str) -> tuple[str, ...]:
    """The splits a config may hold: the corpus's three, one `test` for every benchmark config."""
    return CONFIG_SPLITS.get(config) or (("test",) if config.startswith(BENCHMARK_PREFIX) else ())


def config_rank(config: str) -> tuple[int, str]:
    """Cards list the corpus first (the default config), then the paper's benchmarks, then any other."""
    order = list(CONFIG_SPLITS)
    return (order.index(config), "") if config in order else (len(order), config)


def messages_array(texts: pa.Array, system: str | None = None) -> pa.ListArray:
    """Conversations `[{"role": "user", "content": text}]`, each after `{"role": "system", "content":
    system}` when a system message is given, as an arrow column built without a Python object per row."""
    contents = texts.cast(pa.string())
    n, turns = len(contents), 1 if system is None else 2
    if system is not None:  # interleave: system, text 0, system, text 1, ...
        pool = pa.concat_arrays([pa.array([system], pa.string()), contents])
        index = np.stack([np.zeros(n, np.int64), np.arange(1, n + 1)], axis=1).ravel()
        contents = pool.take(pa.array(index))
    roles = pa.array(np.tile(["system", "user"][-turns:], n), pa.string())
    structs = pa.StructArray.from_arrays([roles, contents], names=["role", "content"])
    return pa.ListArray.from_arrays(pa.array(np.arange(0, n * turns + 1, turns, dtype=np.int32)), structs)


def as_arrow(rows: pa.Table | pd.DataFrame | Mapping[str, pa.Array]) -> pa.Table:
    """Rows of the schema (a table, a frame, or arrow columns by name) as an arrow table with the schema's
    types, column order and `datasets` metadata: what every dataset folder's parquet files hold (with
    `answer_counts` where the rows carry it)."""
    names = rows.column_names if isinstance(rows, pa.Table) else list(rows)
    schema = features_of(names).arrow_schema
    columns = list(schema.names)
    if isinstance(rows, pa.Table):
        return rows.select(columns).cast(schema)
    if isinstance(rows, pd.DataFrame):
        table = pa.Table.from_pandas(rows[columns], schema=schema, preserve_index=False)
        return table.replace_schema_metadata(schema.metadata)
    missing = [name for name in columns if name not in rows]
    if missing:
        raise ValueError(f"rows lack the schema's columns {missing}")
    return pa.Table.from_arrays([rows[f.name].cast(f.type) for f in schema], schema=schema)
