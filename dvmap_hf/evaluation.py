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
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .codebook import ATTRIBUTE_NAMES
from .dataset_folder import data_fingerprint, load_split
from .errors import DvmapError
from .eval_config import REFERENCE_PREDICTORS, EvalSpec
from .io import atomic_file
from .options import one_of
from .parsing import MATCH_RULES, parse_answer
from .predictors import make_predictor
from .prompts import PROMPT_STYLES, render_prompt
from .report import score, write_report

PREDICTIONS = "predictions.jsonl"
RUN_INFO = "run.json"


def sample_indices(n: int, limit: int | None, seed: int) -> list[int]:
    """All of range(n), or a seeded sample of `limit` of them in increasing order: every country and
    question stays represented (the rows are sorted by country), and the same seed gives the same rows."""
    if limit is None or limit >= n:
        return list(range(n))
    return sorted(np.random.default_rng(seed).choice(n, size=limit, replace=False).tolist())


def sample_rows(split, limit: int | None, seed: int):
    return split if limit is None else split.select(sample_indices(len(split), limit, seed))


def _check_run_folder(out: Path, identity: dict) -> None:
    """Refuse a folder that holds another run, or anything but a run; write nothing (a run's identity is
    written with its first predictions, so a run that fails before them leaves the folder reusable)."""
    if out.exists() and not out.is_dir():
        raise DvmapError(f"{out}: exists and is not a folder")
    info = out / RUN_INFO
    if info.is_file():
        previous = json.loads(info.read_text())
        if previous != identity:
            changed = sorted(k for k in identity if previous.get(k) != identity[k])
            why = "the dataset changed since" if changed == ["data"] else f"different {', '.join(changed)}"
            raise DvmapError(f"{out} holds another run ({why}); use a new --out folder")
    elif out.exists() and any(out.iterdir()):
        raise DvmapError(f"{out}: folder exists, is not empty and holds no dvmap run")


def _start_run(out: Path, identity: dict) -> None:
    if not (out / RUN_INFO).is_file():
        out.mkdir(parents=True, exist_ok=True)
        with atomic_file(out / RUN_INFO) as tmp:
            tmp.write_text(json.dumps(identity, indent=2) + "\n")


def _line_problem(line: str, num_options: dict[str, int] | None) -> str | None:
    """Why a predictions.jsonl line cannot be used, or None."""
    try:
        record = json.loads(line)
    except ValueError:
        return "not a JSON line"
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return "no string `id`"
    if not isinstance(record.get("completion"), str) or not isinstance(record.get("parsed"), int):
        return f"row {record['id']}: no string `completion` or integer `parsed`"
    if num_options is not None:
        if record["id"] not in num_options:
            return f"row {record['id']} is not a row of this run"
        if not -1 <= record["parsed"] < num_options[record["id"]]:
            return (
                f"row {record['id']}: `parsed` {record['parsed']} is out of range -1..{num_options[record['id']] - 1}"
            )
    return None


def read_predictions(path: Path, rows: list[dict] | None = None, repair: bool = False) -> dict[str, dict]:
    """Finished predictions by id. A torn last line (killed mid-write) is cut off the file; any other bad
    line is an error naming the file and line, or with `repair`, dropped (its row is asked again)."""
    if not path.is_file():
        return {}
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    if len(complete) != len(data):
        with open(path, "r+b") as handle:
            handle.truncate(len(complete))
    num_options = None if rows is None else {row["id"]: len(row["options"]) for row in rows}
    lines = complete.decode("utf-8", errors="replace").splitlines()
    bad = [(n, why) for n, line in enumerate(lines, 1) if line.strip() and (why := _line_problem(line, num_options))]
    if bad and not repair:
        n, why = bad[0]
        raise DvmapError(
            f"{path}:{n}: {why} ({len(bad)} bad line(s)); run again with --repair to drop them and redo those rows"
        )
    good = [line for n, line in enumerate(lines, 1) if line.strip() and n not in dict(bad)]
    if bad:
        with atomic_file(path) as tmp:
            tmp.write_text("".join(line + "\n" for line in good), encoding="utf-8")
    return {record["id"]: record for record in map(json.loads, good)}


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
            scores = completion if isinstance(completion, dict) else {"completion": completion}
            parsed = parse_answer(scores["completion"], row["options"], match)
            fresh.append({"id": row["id"], **scores, "parsed": parsed, "correct": parsed == row["answer_index"]})
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
    identity = {**spec.identity(), "data": data_fingerprint(spec.dataset, spec.config, str(split.split))}
    split = sample_rows(split, spec.limit, spec.generation.seed)
    _check_run_folder(out, identity)
    rows = split.to_list()
    done = read_predictions(out / PREDICTIONS, rows, repair=spec.repair)
    missing = any(row["id"] not in done for row in rows)
    predictor = (
        make_predictor(spec.model, spec.dataset, spec.generation, spec.backend, spec.scoring) if missing else None
    )

    def sink(fresh: list[dict]) -> None:
        _start_run(out, identity)
        _append(out / PREDICTIONS, fresh)

    records = predict_rows(
        predictor,
        rows,
        _batch_size(spec),
        spec.generation.seed,
        done,
        sink=sink,
        desc=f"eval {spec.config}",
        match=spec.match,
    )
    frame = _with_predictions(split, {record["id"]: record for record in records})
    metrics = score(frame)
    metrics["run"] = {
        **identity,
        "rows": len(frame),
        "generation": asdict(spec.generation),
        "reference_fallbacks": getattr(predictor, "fallbacks", 0),
        "prompt_format": _prompt_format(predictor),
    }
    write_report(out, metrics, frame)
    return metrics


def _prompt_format(predictor) -> str:
    """How the prompts reached the model: its chat template, or plain concatenation (base models)."""
    backend = getattr(predictor, "backend", predictor)
    if not hasattr(backend, "uses_chat_template"):
        return "chat messages" if predictor is not None else "unknown (resumed run)"
    return "chat template" if backend.uses_chat_template else "plain concatenation (no chat template)"


def evaluated_frame(out: str | Path) -> pd.DataFrame:
    """The rows of a finished run folder joined with their predictions (for analyses)."""
    out = Path(out)
    if not (out / RUN_INFO).is_file() or not (out / PREDICTIONS).is_file():
        raise DvmapError(f"{out}: not a dvmap eval run folder (no {RUN_INFO} and {PREDICTIONS})")
    spec = json.loads((out / RUN_INFO).read_text())
    split = load_split(spec["dataset"], spec["config"], spec["split"])
    rows = split.select_columns(["id", "options"]).to_list()  # what the line checks need, not the prompts
    return _with_predictions(split, read_predictions(out / PREDICTIONS, rows))


def _with_predictions(split, predictions: dict[str, dict]) -> pd.DataFrame:
    """The split's rows that have a prediction, with the parsed option beside them (prompts dropped), and
    the option each matching rule credits (`parsed_strict`, `parsed_release`), so every run reports both."""
    frame = split.to_pandas().drop(columns=["prompt"])
    frame = frame[frame["id"].isin(predictions)].reset_index(drop=True)
    frame["parsed"] = [predictions[i]["parsed"] for i in frame["id"]]
    completions = [predictions[i]["completion"] for i in frame["id"]]
    for rule in MATCH_RULES:
        frame[f"parsed_{rule}"] = [parse_answer(c, o, rule) for c, o in zip(completions, frame["options"])]
    if all("option_probs" in predictions[i] for i in frame["id"]) and len(frame):  # log-likelihood scoring
        frame["option_probs"] = [predictions[i]["option_probs"] for i in frame["id"]]
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


ROBUSTNESS = "robustness.json"


def _check_robustness_folder(out: Path) -> None:
    """A robustness run writes only its own two files: never into an eval run's folder or a stranger's."""
    if (out / RUN_INFO).is_file():
        raise DvmapError(f"{out} holds a dvmap eval run; give robustness a folder of its own")
    if out.exists() and (not out.is_dir() or any(p.name not in (ROBUSTNESS, "robustness.md") for p in out.iterdir())):
        raise DvmapError(f"{out}: exists and holds other files; give robustness a folder of its own")


def run_robustness(spec: EvalSpec, attribute: str, flips: dict[str, str], out: str | Path) -> dict:
    """Ask every row whose `attribute` can be flipped twice, as is and flipped; report how often the
    answer changes, per category (the value flip rate)."""
    one_of("attribute", attribute, ATTRIBUTE_NAMES)
    out = Path(out)
    _check_robustness_folder(out)
    split = load_split(spec.dataset, spec.config, spec.split)
    rows = [row for row in split.to_list() if row[attribute] in flips]
    rows = [rows[i] for i in sample_indices(len(rows), spec.limit, spec.generation.seed)]
    if not rows:
        raise DvmapError(f"no row of {spec.dataset}/{spec.config} has {attribute} in {sorted(flips)}")
    flipped = [
        {**row, attribute: flips[row[attribute]], "prompt": flipped_prompt(row, attribute, flips[row[attribute]])}
        for row in rows
    ]
    predictor = make_predictor(spec.model, spec.dataset, spec.generation, spec.backend, spec.scoring)
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
