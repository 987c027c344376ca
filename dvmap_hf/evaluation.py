"""`dvmap eval`: ask a predictor every row of a config/split, parse, score, report. Resumable.

Rows are taken in dataset order in fixed batches (batch b = rows b*B .. b*B+B-1, sampled with seed
`seed + b`), and each finished batch is appended to `predictions.jsonl` and flushed to disk. Run again
after an interruption, the runner keeps what is on disk (dropping a torn last line), redoes only the
unfinished batches with their own seeds, and so ends with the same predictions and metrics as an
uninterrupted run. A folder that holds another model's, dataset's or setting's run is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .codebook import ATTRIBUTE_NAMES
from .dataset_folder import load_split
from .errors import DvmapError
from .io import atomic_file
from .parsing import MATCH_RULES, parse_answer
from .predictors import REFERENCE_PREDICTORS, GenerationConfig, make_predictor
from .prompts import PROMPT_STYLES, render_prompt
from .report import score, write_report

PREDICTIONS = "predictions.jsonl"
RUN_INFO = "run.json"


@dataclass
class EvalSpec:
    model: str
    dataset: str
    config: str
    split: str | None = None
    backend: str = "transformers"
    limit: int | None = None  # a seeded sample of N rows, kept in dataset order (quick runs)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    match: str = "strict"  # answer matching: strict (the kit's) or release (the authors' evaluation script)

    def __post_init__(self) -> None:
        if self.match not in MATCH_RULES:
            raise DvmapError(f"--match must be one of {', '.join(MATCH_RULES)}, not {self.match!r}")

    def identity(self) -> dict:
        backend = "reference" if self.model in REFERENCE_PREDICTORS else self.backend
        return {
            "model": self.model,
            "dataset": str(self.dataset),
            "config": self.config,
            "split": self.split,
            "backend": backend,
            "limit": self.limit,
            "match": self.match,
            "generation": self.generation.identity(),
        }


def sample_indices(n: int, limit: int | None, seed: int) -> list[int]:
    """All of range(n), or a seeded sample of `limit` of them in increasing order: every country and
    question stays represented (the rows are sorted by country), and the same seed gives the same rows."""
    if limit is None or limit >= n:
        return list(range(n))
    return sorted(np.random.default_rng(seed).choice(n, size=limit, replace=False).tolist())


def sample_rows(split, limit: int | None, seed: int):
    return split if limit is None else split.select(sample_indices(len(split), limit, seed))


def _check_run_folder(out: Path, spec: EvalSpec) -> None:
    info = out / RUN_INFO
    if info.is_file():
        previous = json.loads(info.read_text())
        if previous != spec.identity():
            changed = sorted(k for k in spec.identity() if previous.get(k) != spec.identity()[k])
            raise DvmapError(f"{out} holds another run (different {', '.join(changed)}); use a new --out folder")
    elif out.exists() and any(out.iterdir()):
        raise DvmapError(f"{out}: folder exists, is not empty and holds no dvmap run")
    out.mkdir(parents=True, exist_ok=True)
    info.write_text(json.dumps(spec.identity(), indent=2) + "\n")


def read_predictions(path: Path) -> dict[str, dict]:
    """Finished predictions by id; a torn last line (killed mid-write) is cut off the file."""
    if not path.is_file():
        return {}
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    if len(complete) != len(data):
        with open(path, "r+b") as handle:
            handle.truncate(len(complete))
    records = [json.loads(line) for line in complete.decode("utf-8").splitlines() if line.strip()]
    return {record["id"]: record for record in records}


def _append(path: Path, records: list[dict]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
        handle.flush()
        os.fsync(handle.fileno())


def predict_rows(
    predictor,
    rows: list[dict],
    batch_size: int,
    seed: int,
    done: dict[str, dict],
    sink=None,
    desc: str = "predict",
    match: str = "strict",
) -> list[dict]:
    """Predictions for `rows` in fixed batches, parsed under rule `match`; batches whose rows are all in
    `done` are skipped."""
    records = []
    starts = range(0, len(rows), batch_size)
    for b, start in enumerate(tqdm(starts, desc=desc, unit="batch", disable=len(starts) < 2)):
        batch = rows[start : start + batch_size]
        if all(row["id"] in done for row in batch):
            records.extend(done[row["id"]] for row in batch)
            continue
        completions = predictor(batch, batch_seed=seed + b)
        fresh = []
        for row, completion in zip(batch, completions, strict=True):
            if row["id"] in done:
                records.append(done[row["id"]])
                continue
            parsed = parse_answer(completion, row["options"], match)
            fresh.append(
                {"id": row["id"], "completion": completion, "parsed": parsed, "correct": parsed == row["answer_index"]}
            )
        if sink is not None:
            sink(fresh)
        records.extend(fresh)
    return records


def _batch_size(spec: EvalSpec) -> int:
    """Reference predictors are vectorised: they take large batches whatever --batch-size says."""
    return max(spec.generation.batch_size, 4096) if spec.model in REFERENCE_PREDICTORS else spec.generation.batch_size


def run_eval(spec: EvalSpec, out: str | Path) -> dict:
    """Evaluate `spec.model` on one config/split; write predictions, metrics and the report into `out`."""
    out = Path(out)
    split = load_split(spec.dataset, spec.config, spec.split)
    split = sample_rows(split, spec.limit, spec.generation.seed)
    _check_run_folder(out, spec)
    rows = split.to_list()
    done = read_predictions(out / PREDICTIONS)
    predictor = (
        make_predictor(spec.model, spec.dataset, spec.generation, spec.backend) if len(done) < len(rows) else None
    )
    records = predict_rows(
        predictor,
        rows,
        _batch_size(spec),
        spec.generation.seed,
        done,
        sink=lambda fresh: _append(out / PREDICTIONS, fresh),
        desc=f"eval {spec.config}",
        match=spec.match,
    )
    frame = _with_predictions(split, {record["id"]: record for record in records})
    metrics = score(frame)
    metrics["run"] = {
        **spec.identity(),
        "rows": len(frame),
        "generation": asdict(spec.generation),
        "reference_fallbacks": getattr(predictor, "fallbacks", 0),
    }
    write_report(out, metrics, frame)
    return metrics


def evaluated_frame(out: str | Path) -> pd.DataFrame:
    """The rows of a finished run folder joined with their predictions (for analyses)."""
    out = Path(out)
    spec = json.loads((out / RUN_INFO).read_text())
    split = load_split(spec["dataset"], spec["config"], spec["split"])
    return _with_predictions(split, read_predictions(out / PREDICTIONS))


def _with_predictions(split, predictions: dict[str, dict]) -> pd.DataFrame:
    """The split's rows that have a prediction, with the parsed option beside them (prompts dropped), and
    the option each matching rule credits (`parsed_strict`, `parsed_release`), so every run reports both."""
    frame = split.to_pandas().drop(columns=["prompt"])
    frame = frame[frame["id"].isin(predictions)].reset_index(drop=True)
    frame["parsed"] = [predictions[i]["parsed"] for i in frame["id"]]
    completions = [predictions[i]["completion"] for i in frame["id"]]
    for rule in MATCH_RULES:
        frame[f"parsed_{rule}"] = [parse_answer(c, o, rule) for c, o in zip(completions, frame["options"])]
    return frame


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


def run_robustness(spec: EvalSpec, attribute: str, flips: dict[str, str], out: str | Path) -> dict:
    """Ask every row whose `attribute` can be flipped twice, as is and flipped; report how often the
    answer changes, per category (the value flip rate)."""
    if attribute not in ATTRIBUTE_NAMES:
        raise DvmapError(f"--attribute must be one of {', '.join(ATTRIBUTE_NAMES)}, not {attribute!r}")
    split = load_split(spec.dataset, spec.config, spec.split)
    rows = [row for row in split.to_list() if row[attribute] in flips]
    rows = [rows[i] for i in sample_indices(len(rows), spec.limit, spec.generation.seed)]
    if not rows:
        raise DvmapError(f"no row of {spec.dataset}/{spec.config} has {attribute} in {sorted(flips)}")
    flipped = [
        {**row, attribute: flips[row[attribute]], "prompt": flipped_prompt(row, attribute, flips[row[attribute]])}
        for row in rows
    ]
    predictor = make_predictor(spec.model, spec.dataset, spec.generation, spec.backend)
    size, seed = _batch_size(spec), spec.generation.seed
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
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_file(out / "robustness.json") as tmp:
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
