"""`dvmap import-release`: the authors' released DVMap files -> a dataset folder of the kit, and a
comparison of two dataset folders (`dvmap compare-release`).

The release (GitHub EnlightenedAI/DVMap) holds `Demographic_Value_Alignment/DVMap_Corpus/{train,dev,test}
.parquet` and `Triple-Generalization_Evaluation_Benchmark/{Cross-Demographic,Cross-Country,Cross-Value}/`
folders written by `datasets.Dataset.save_to_disk`. Every table has the string columns `Q_id`, `Country`,
the other 10 attribute columns, `Category`, `Question`, `prompt` (one string), `Options` (options joined
by ", " in scale order), `answer`, and a float `frequency`. The authors' prompt text is kept as the user
message. Rows whose answer is not among their options, or whose `Options` cannot be parsed, are reported
and left out, never repaired.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from dvmap_hf.data.codebook import ATTRIBUTES
from dvmap_hf.data.folder import DATASET_FOLDER, MANIFEST
from dvmap_hf.data.profiles import profile_id, profile_keys
from dvmap_hf.data.prompts import (
    DEFAULT_SYSTEM_PROMPT,
    SYSTEM_PROMPT_NOTE,
    SYSTEM_PROMPTS,
    as_messages,
    system_message,
)
from dvmap_hf.errors import DvmapError
from dvmap_hf.io import check_output_dir
from dvmap_hf.options import one_of

from .folder import write_dataset_folder

PARQUET_SPLITS = {"train": ("corpus", "train"), "dev": ("corpus", "validation"), "test": ("corpus", "test")}
BENCHMARK_FOLDERS = {
    "Cross-Demographic": "cross_demographic",
    "Cross-Country": "cross_country",
    "Cross-Value": "cross_value",
}
RELEASE_COLUMNS = {attr.release_name: attr.name for attr in ATTRIBUTES}
REQUIRED = ["Q_id", *RELEASE_COLUMNS, "Category", "Question", "prompt", "Options", "answer", "frequency"]


def discover(path: Path) -> dict[tuple[str, str], Path]:
    """The release files under `path` (the repository root or any part of it), by (config, split)."""
    if not path.exists():
        raise DvmapError(f"{path}: no such file or folder")
    found: dict[tuple[str, str], Path] = {}
    candidates = [path] if path.is_file() else sorted(path.rglob("*"))
    for item in candidates + ([path] if path.is_dir() else []):
        if item.is_file() and item.suffix == ".parquet" and item.stem in PARQUET_SPLITS:
            found[PARQUET_SPLITS[item.stem]] = item
        elif item.is_dir() and item.name in BENCHMARK_FOLDERS and (item / "state.json").is_file():
            found[BENCHMARK_FOLDERS[item.name], "test"] = item
    if not found:
        raise DvmapError(
            f"{path}: no release files found (expected {{train,dev,test}}.parquet or "
            f"{', '.join(BENCHMARK_FOLDERS)} save_to_disk folders)"
        )
    return found


def read_table(path: Path) -> pd.DataFrame:
    """A release table as a frame, from a parquet file or a save_to_disk folder."""
    try:
        if path.is_file():
            frame = pd.read_parquet(path)
        else:
            from datasets import load_from_disk

            frame = load_from_disk(str(path)).to_pandas()
    except Exception as exc:
        raise DvmapError(f"{path}: cannot read as a release table ({type(exc).__name__}: {exc})") from exc
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DvmapError(f"{path}: missing release column(s) {', '.join(missing)}")
    return frame


def fingerprint(path: Path) -> str:
    """sha256 of a file, or of a folder's files in name order."""
    digest = hashlib.sha256()
    for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.read_bytes())
    return digest.hexdigest()


def parse_options(text) -> list[str] | None:
    """`"A, B, C"` -> ["A", "B", "C"]; None if empty, fewer than 2 options, or with duplicates."""
    if not isinstance(text, str):
        return None
    options = [o.strip() for o in text.split(", ")]
    if len(options) < 2 or any(not o for o in options) or len(set(options)) != len(options):
        return None
    return options


def convert(frame: pd.DataFrame, source: str, system: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Release rows -> rows of the kit's schema, each prompt after `system` when given; the rejected rows
    are counted with examples."""
    rows = frame.rename(columns=RELEASE_COLUMNS).copy()
    empty = frame[REQUIRED].isna().any(axis=1)  # a null country or answer is not the string "None"
    for name in RELEASE_COLUMNS.values():
        rows[name] = rows[name].astype(str)
    qid = rows["Q_id"].astype(str).str.strip()
    rows["question_id"] = qid.where(qid.str.upper().str.startswith("Q"), "Q" + qid).str.upper()
    rows["options"] = rows["Options"].map(parse_options)
    unparseable = rows["options"].isna() & ~empty
    answer = rows["answer"].astype(str).str.strip()
    in_options = [(o is not None and a in o) for o, a in zip(rows["options"], answer, strict=True)]
    not_in_options = ~empty & ~unparseable & ~pd.Series(in_options, index=rows.index)
    problems = {
        "source": source,
        "rows": int(len(rows)),
        "unparseable_options": int(unparseable.sum()),
        "answer_not_in_options": int(not_in_options.sum()),
        "empty_fields": int(empty.sum()),
        "examples": [
            {
                "row": int(i),
                "Q_id": str(frame.loc[i, "Q_id"]),
                "Options": str(frame.loc[i, "Options"]),
                "answer": str(frame.loc[i, "answer"]),
                "why": _why(frame.loc[i], unparseable[i]),
            }
            for i in rows.index[empty | unparseable | not_in_options][:5]
        ],
    }
    rows = rows[~empty & ~unparseable & ~not_in_options].copy()
    answer = answer[rows.index]
    rows["answer"] = answer
    rows["answer_index"] = [o.index(a) for o, a in zip(rows["options"], answer, strict=True)]
    rows["num_options"] = rows["options"].str.len()
    rows["profile_id"] = profile_id(profile_keys(rows))
    rows["id"] = _unique_ids(rows["profile_id"] + "-" + rows["question_id"])
    rows["question"], rows["category"] = rows["Question"].astype(str), rows["Category"].astype(str)
    rows["support"], rows["entropy"] = -1, 0.0  # not in the release: unknown support; H = 0 by construction
    rows["frequency"] = rows["frequency"].astype(float)
    rows["prompt"] = [as_messages(str(text), system) for text in rows["prompt"]]
    return rows.reset_index(drop=True), problems


def _why(row: pd.Series, unparseable: bool) -> str:
    empty = [column for column in REQUIRED if pd.isna(row[column])]
    if empty:
        return f"empty {', '.join(empty)}"
    return "unparseable Options" if unparseable else "answer not among the options"


def _unique_ids(ids: pd.Series) -> pd.Series:
    """Suffix repeats (-2, -3 ...) so that ids stay unique when a profile asks a question twice."""
    rank = ids.groupby(ids).cumcount()
    return ids.where(rank == 0, ids + "-" + (rank + 1).astype(str))


def import_release(
    path: str | Path, out: str | Path, force: bool = False, system_prompt: str = DEFAULT_SYSTEM_PROMPT
) -> dict:
    """Import every release table found under `path` into the dataset folder `out`; return the report.
    `system_prompt` as in `dvmap build`: `release` puts the authors' system message before each prompt."""
    path = Path(path)
    one_of("system_prompt", system_prompt, SYSTEM_PROMPTS)
    check_output_dir(out, force, inputs=(path,), kind=DATASET_FOLDER)
    tables, problems, sources = {}, [], {}
    for key, source in sorted(discover(path).items()):
        tables[key], report = convert(read_table(source), str(source), system_message(system_prompt, key[0]))
        problems.append(report)
        sources[f"{key[0]}/{key[1]}"] = {
            "path": str(source.relative_to(path) if source != path else source.name),
            "sha256": fingerprint(source),
        }
        if tables[key].empty:
            raise DvmapError(f"{source}: no usable rows (every row was rejected)")
    manifest = {"kind": "import-release", "system_prompt": system_prompt, "sources": sources, "problems": problems}
    write_dataset_folder(
        out,
        tables,
        _card(sources, problems, tables, system_prompt),
        {
            "pretty_name": "DVMap (authors' release, imported)",
            "license": "other",
            "tags": ["dvmap", "world-values-survey", "pluralistic-alignment"],
        },
        manifest,
        force=force,
        inputs=(path,),
    )
    return {**manifest, "sizes": {f"{c}/{s}": len(t) for (c, s), t in tables.items()}, "out": str(out)}


def _card(sources: dict, problems: list[dict], tables: dict, system_prompt: str) -> str:
    files = "\n".join(f"- `{k}`: `{v['path']}` (sha256 `{v['sha256']}`)" for k, v in sources.items())
    sizes = "\n".join(f"| {c} | {s} | {len(t):,} |" for (c, s), t in tables.items())
    rejected = sum(p["unparseable_options"] + p["answer_not_in_options"] + p["empty_fields"] for p in problems)
    return f"""# DVMap: the authors' release, imported with dvmap-hf

Imported from the authors' released DVMap files (GitHub EnlightenedAI/DVMap) with `dvmap import-release`;
the authors' prompt text is kept as the user message. Same configs and row schema as a `dvmap build`.
System prompt `{system_prompt}`: {SYSTEM_PROMPT_NOTE[system_prompt]}.

| config | split | rows |
|---|---|---:|
{sizes}

## Source files

{files}

## Differences from a build

- `support` is -1 (the release does not give it) and `entropy` is 0.0 (the release keeps H = 0 pairs only).
- `profile_id` is the kit's hash of the 11 attribute strings, comparable with a build's.
- Rows rejected (answer not among the options, unparseable `Options`, or an empty field): {rejected}; see
  `{MANIFEST}`.

## Citation

arXiv:2605.14420 (DVMap, ACL 2026); WVS Wave 7, doi:10.14281/18241.24. The WVS terms of use apply.
"""


def _load_all(folder: Path) -> dict[tuple[str, str], pd.DataFrame]:
    from dvmap_hf.data.folder import load_split, read_manifest

    sizes = read_manifest(folder)["sizes"]
    return {tuple(key.split("/")): load_split(folder, *key.split("/")).to_pandas() for key in sizes}


def _diff(a: set, b: set) -> str:
    only_a, only_b = sorted(a - b), sorted(b - a)
    if not only_a and not only_b:
        return "same"
    return f"only in build: {', '.join(only_a) or '-'}; only in release: {', '.join(only_b) or '-'}"


def compare_folders(build: str | Path, release: str | Path) -> str:
    """How a build differs from the release: sizes, countries, questions, attribute values, answers."""
    a, b = _load_all(Path(build)), _load_all(Path(release))
    lines = ["# Build vs release", "", "| config | split | build rows | release rows |", "|---|---|---:|---:|"]
    for key in sorted(set(a) | set(b)):
        lines.append(f"| {key[0]} | {key[1]} | {len(a.get(key, [])):,} | {len(b.get(key, [])):,} |")
    lines += ["", "| config | countries | questions |", "|---|---|---|"]
    for key in sorted(set(a) & set(b)):
        lines.append(
            f"| {key[0]}/{key[1]} | {_diff(set(a[key].country), set(b[key].country))} | "
            f"{_diff(set(a[key].question_id), set(b[key].question_id))} |"
        )
    all_a, all_b = pd.concat(a.values()), pd.concat(b.values())
    lines += ["", "## Attribute values", "", "| attribute | difference |", "|---|---|"]
    for name in RELEASE_COLUMNS.values():
        lines.append(f"| {name} | {_diff(set(all_a[name]), set(all_b[name]))} |")
    lines += [
        "",
        "## Answer distributions (total variation distance per question, all configs)",
        "",
        "| question | TV distance |",
        "|---|---:|",
    ]
    for qid in sorted(set(all_a.question_id) & set(all_b.question_id), key=lambda q: (len(q), q)):
        share_a = all_a.loc[all_a.question_id == qid, "answer"].value_counts(normalize=True)
        share_b = all_b.loc[all_b.question_id == qid, "answer"].value_counts(normalize=True)
        tv = 0.5 * share_a.sub(share_b, fill_value=0).abs().sum()
        lines.append(f"| {qid} | {tv:.3f} |")
    return "\n".join(lines)
