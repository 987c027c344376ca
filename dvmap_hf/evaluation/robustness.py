"""`dvmap robustness`: flip one attribute of every row (income Low <-> High by default, paper Sec. 5.6) and
report how often the answer changes, per category (the value flip rate)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..data.codebook import ATTRIBUTE_NAMES
from ..data.folder import find_dataset, load_split
from ..data.prompts import PROMPT_STYLES, render_prompt
from ..data.sampling import sample_indices
from ..errors import DvmapError
from ..io import atomic_file
from ..options import one_of
from .config import EvalConfig
from .predictors import make_predictor
from .runner import RUN_INFO, batch_size, predict_rows

#: Default flips: income Low <-> High with the other 10 attributes fixed (paper Sec. 5.6, Fig. 8).
DEFAULT_FLIPS = {"income_bracket": {"Low income": "High income", "High income": "Low income"}}


def flipped_prompt(row: dict, attribute: str, new_value: str) -> list[dict]:
    """The row's prompt with one attribute changed: re-rendered in the row's own prompt style, or (for
    prompts the kit did not render, e.g. imported ones) with the value replaced where it occurs once."""
    text = row["prompt"][-1]["content"]
    question, options = row["question"], row["options"]
    system = row["prompt"][0]["content"] if row["prompt"][0]["role"] == "system" else None
    for style in PROMPT_STYLES:
        if render_prompt(row, question, options, style, system) == list(row["prompt"]):
            return render_prompt({**row, attribute: new_value}, question, options, style, system)
    if text.count(row[attribute]) != 1:
        raise DvmapError(f"row {row['id']}: cannot locate {attribute}={row[attribute]!r} in its prompt to flip it")
    return [*row["prompt"][:-1], {"role": "user", "content": text.replace(row[attribute], new_value)}]


ROBUSTNESS = "robustness.json"


def _check_robustness_folder(out: Path) -> None:
    """A robustness run writes only its own two files: never into an eval run's folder or a stranger's."""
    if (out / RUN_INFO).is_file():
        raise DvmapError(f"{out} holds a dvmap eval run; give robustness a folder of its own")
    if out.exists() and (not out.is_dir() or any(p.name not in (ROBUSTNESS, "robustness.md") for p in out.iterdir())):
        raise DvmapError(f"{out}: exists and holds other files; give robustness a folder of its own")


def _check_flips(flips: dict[str, str], values: set[str], attribute: str) -> None:
    """A flip to the same value changes nothing, and one from a value that never occurs flips no row."""
    same = [a for a, b in flips.items() if a == b]
    if same:
        raise DvmapError(f"--flip {same[0]}={same[0]} changes nothing; flip a value to another")
    absent = sorted(set(flips) - values)
    if absent:
        raise DvmapError(
            f"{attribute} never takes the value(s) {', '.join(map(repr, absent))} here; its values: "
            + ", ".join(map(repr, sorted(values)))
        )


def run_robustness(spec: EvalConfig, attribute: str, flips: dict[str, str], out: str | Path) -> dict:
    """Ask every row whose `attribute` can be flipped twice, as is and flipped; report how often the
    answer changes, per category (the value flip rate)."""
    one_of("attribute", attribute, ATTRIBUTE_NAMES)
    out = Path(out)
    _check_robustness_folder(out)
    dataset = find_dataset(spec.dataset)  # once: the split and the reference predictors read the same one
    split = load_split(dataset, spec.config, spec.split)
    _check_flips(flips, set(split.unique(attribute)), attribute)
    rows = [row for row in split.to_list() if row[attribute] in flips]
    rows = [rows[i] for i in sample_indices(len(rows), spec.limit, spec.generation.seed)]
    if not rows:
        raise DvmapError(f"no row of {spec.dataset}/{spec.config} has {attribute} in {sorted(flips)}")
    flipped = [
        {**row, attribute: flips[row[attribute]], "prompt": flipped_prompt(row, attribute, flips[row[attribute]])}
        for row in rows
    ]
    predictor = make_predictor(spec, dataset)
    size, seed = batch_size(spec, predictor), spec.generation.seed
    before = predict_rows(predictor, rows, size, seed, {}, desc="as is", match=spec.match)
    after = predict_rows(predictor, flipped, size, seed, {}, desc="flipped", match=spec.match)
    frame = pd.DataFrame(
        {
            "category": [r["category"] for r in rows],
            "question_id": [r["question_id"] for r in rows],
            "before": [r["parsed"] for r in before],
            "after": [r["parsed"] for r in after],
        }
    )
    valid = (frame["before"] >= 0) & (frame["after"] >= 0)
    frame["flipped"] = frame["before"] != frame["after"]

    def rates(part: pd.DataFrame) -> dict:
        ok = part[(part["before"] >= 0) & (part["after"] >= 0)]
        return {
            "pairs": int(len(part)),
            "valid_pairs": int(len(ok)),
            "flip_rate": float(ok["flipped"].mean()) if len(ok) else None,
        }

    result = {
        "attribute": attribute,
        "flips": flips,
        "run": spec.identity(),
        "overall": rates(frame),
        "per_category": {str(k): rates(p) for k, p in frame.groupby("category", sort=True)},
        "invalid_pairs": int((~valid).sum()),
    }
    with atomic_file(out / ROBUSTNESS) as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"# Value flip rate: {attribute} flipped ({spec.model})",
        "",
        "| category | pairs | valid pairs | flip rate |",
        "|---|---:|---:|---:|",
    ]
    for key, r in {"all": result["overall"], **result["per_category"]}.items():
        rate = "n/a" if r["flip_rate"] is None else f"{r['flip_rate']:.1%}"
        lines.append(f"| {key} | {r['pairs']} | {r['valid_pairs']} | {rate} |")
    with atomic_file(out / "robustness.md") as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return result
