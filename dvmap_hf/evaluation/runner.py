"""`dvmap eval`: ask a predictor every row of a config/split, parse, score, report. Resumable.

Rows are taken in dataset order in fixed batches (batch b = rows b*B .. b*B+B-1, sampled with seed
`seed + b`), and each finished batch is appended to `predictions.jsonl` and flushed to disk; a predictor
whose rows carry their own seeds and that streams (the openai backend) gets every row to do in one window
instead, and what finishes is written as it arrives (at least every second). Run again
after an interruption, the runner keeps what is on disk (dropping a torn last line), redoes only the
unfinished batches with their own seeds, and so ends with the same predictions and metrics as an
uninterrupted run. A folder that holds another model's, dataset's or setting's run is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from ..data.folder import DatasetSource, data_fingerprint, find_dataset, load_split
from ..data.sampling import sample_rows
from ..errors import DvmapError
from ..io import atomic_file, folder_lock
from ..redact import redact_url
from .config import MATCH_RULES, EvalConfig
from .parsing import parse_answer
from .predictors import Predictor, StreamingPredictor, make_predictor
from .report import METRICS_FILE, read_metrics, write_report
from .routes import shuffle_profiles
from .scoring import score

PREDICTIONS = "predictions.jsonl"
#: Where a prediction carries the model's answer distribution: a reference's own, or log-likelihood scoring's
#: option probabilities (renormalised over the options).
DISTRIBUTION_SOURCES = ("distribution", "option_probs")
RUN_INFO = "run.json"


def read_run_info(out: Path) -> dict:
    """A run folder's identity (run.json), or a clear error where it is damaged: nothing is rewritten, so
    the predictions beside it stay as they are."""
    path = out / RUN_INFO
    try:
        info = json.loads(path.read_text())
    except ValueError as exc:
        info, why = None, f"not valid JSON ({exc})"
    else:
        why = "not a JSON object"
    if not isinstance(info, dict):
        raise DvmapError(
            f"{path}: damaged, {why}; the run's identity is unknown, so nothing was resumed: use a new --out "
            f"folder (its {PREDICTIONS} is left as it is)"
        )
    return info


def _check_run_folder(out: Path, identity: dict) -> None:
    """Refuse a folder that holds another run, or anything but a run; write nothing (a run's identity is
    written with its first predictions, so a run that fails before them leaves the folder reusable)."""
    if out.exists() and not out.is_dir():
        raise DvmapError(f"{out}: exists and is not a folder")
    info = out / RUN_INFO
    if info.is_file():
        previous = read_run_info(out)
        if previous != identity:
            changed = sorted(k for k in identity if previous.get(k) != identity[k])
            why = "the dataset changed since" if changed == ["data"] else f"different {', '.join(changed)}"
            if "batch_size" in changed:
                why += f"; sampling depends on the batch: resume with --batch-size {previous.get('batch_size')}"
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
        distribution = record.get("distribution")
        if distribution is not None and not _is_distribution(distribution, num_options[record["id"]]):
            return f"row {record['id']}: `distribution` is not {num_options[record['id']]} numbers >= 0 with a sum > 0"
    return None


def _is_distribution(values, k: int) -> bool:
    ok = isinstance(values, list) and len(values) == k
    ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < float("inf") for v in values)
    return ok and sum(values) > 0


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


def _append(path: Path, records: list[dict], sync: bool = True) -> None:
    """Append records as lines; `sync` makes them durable (fsync) before returning."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
        handle.flush()
        if sync:
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
    """Predictions for `rows`, parsed under rule `match`, in dataset order. In fixed batches (batches whose
    rows are all in `done` are skipped), or for a `StreamingPredictor` all rows not done in one window,
    each written as it finishes."""
    if isinstance(predictor, StreamingPredictor):
        return _predict_streaming(predictor, rows, done, sink, desc, match)
    records = []
    starts = range(0, len(rows), batch_size)
    for b, start in enumerate(tqdm(starts, desc=desc, unit="batch", disable=len(starts) < 2)):
        batch = rows[start : start + batch_size]
        if all(row["id"] in done for row in batch):
            records.extend(done[row["id"]] for row in batch)
            continue
        completions = predictor(batch, batch_seed=seed + b)
        fresh = {
            row["id"]: _record(row, completion, match)
            for row, completion in zip(batch, completions, strict=True)
            if row["id"] not in done
        }
        if sink is not None:
            sink(list(fresh.values()))
        records.extend(done.get(row["id"]) or fresh[row["id"]] for row in batch)
    return records


def _record(row: dict, completion, match: str) -> dict:
    """A prediction line: the completion (and what the predictor scored beside it), the parsed option (the
    predictor's own, where it parsed a stated distribution) and whether it is right."""
    scores = dict(completion) if isinstance(completion, dict) else {"completion": completion}
    parsed = scores.pop("parsed") if "parsed" in scores else parse_answer(scores["completion"], row["options"], match)
    return {"id": row["id"], **scores, "parsed": parsed, "correct": parsed == row["answer_index"]}


def _predict_streaming(predictor, rows, done, sink, desc, match, sync_every: float = 1.0) -> list[dict]:
    """Every row not in `done` through `predictor.stream`, each written as it finishes and made durable at
    least every `sync_every` seconds (and before an error propagates)."""
    import time

    todo = [row for row in rows if row["id"] not in done]
    finished, last, unsynced = dict(done), time.monotonic(), False
    try:
        for at, completion in tqdm(predictor.stream(todo), desc=desc, unit="row", total=len(todo), disable=not todo):
            record = finished[todo[at]["id"]] = _record(todo[at], completion, match)
            if sink is not None:
                unsynced = time.monotonic() - last < sync_every
                sink([record], sync=not unsynced)
                last = last if unsynced else time.monotonic()
    finally:
        if unsynced:
            sink([], sync=True)
    return [finished[row["id"]] for row in rows]


def batch_size(spec: EvalConfig, predictor: Predictor | None) -> int:
    """Rows per predictor call: `--batch-size`, or more where the predictor asks for large calls
    (`rows_per_call`); with no predictor (every row done) the batches only walk the finished rows."""
    return max(spec.generation.batch_size, getattr(predictor, "rows_per_call", 0))


def run_eval(spec: EvalConfig, out: str | Path) -> dict:
    """Evaluate `spec.model` on one config/split; write predictions, metrics and the report into `out`
    (one writer at a time: a second run into the same folder is refused while the first is alive)."""
    out, dataset = Path(out), find_dataset(spec.dataset)  # found once: the split, its fingerprint, the references
    split = load_split(dataset, spec.config, spec.split)
    with folder_lock(out, "dvmap eval"):
        return _run_locked(spec, out, dataset, split)


def _run_locked(spec: EvalConfig, out: Path, dataset: DatasetSource, split) -> dict:
    identity = {**spec.identity(), "data": data_fingerprint(dataset, spec.config, str(split.split))}
    split = sample_rows(split, spec.limit, spec.generation.seed)
    _check_run_folder(out, identity)
    rows = split.to_list()
    done = read_predictions(out / PREDICTIONS, rows, repair=spec.repair)
    asked = shuffle_profiles(rows, spec.generation.seed) if spec.profiles == "shuffled" else rows
    missing = any(row["id"] not in done for row in rows)
    predictor = make_predictor(spec, dataset) if missing else None

    def sink(fresh: list[dict], sync: bool = True) -> None:
        _start_run(out, identity)
        _append(out / PREDICTIONS, fresh, sync)

    records = predict_rows(
        predictor,
        asked,
        batch_size(spec, predictor),
        spec.generation.seed,
        done,
        sink=sink,
        desc=f"eval {spec.config}",
        match=spec.match,
    )
    frame = _with_predictions(split, {record["id"]: record for record in records})
    metrics = score(frame, spec.bootstrap, spec.generation.seed)
    metrics["run"] = {
        **identity,
        "rows": len(frame),
        "generation": {**asdict(spec.generation), "api_base": redact_url(spec.generation.api_base)},
        "reference_fallbacks": sum(bool(record.get("fallback")) for record in records),
        "prompt_format": predictor.prompt_format if predictor else _previous_prompt_format(out),
    }
    write_report(out, metrics, frame)
    return metrics


def _previous_prompt_format(out: Path) -> str:
    """A finished run evaluated again asks no model: its report keeps what the first pass recorded."""
    try:
        return read_metrics(out)["run"]["prompt_format"]
    except (DvmapError, KeyError):
        return "unknown (resumed run)"


def evaluated_frame(out: str | Path) -> pd.DataFrame:
    """The rows of a finished run folder joined with their predictions (for analyses and comparisons). An
    unfinished run is refused: its figures would be those of whichever rows happened to be done."""
    out = Path(out)
    if not (out / RUN_INFO).is_file() or not (out / PREDICTIONS).is_file():
        raise DvmapError(f"{out}: not a dvmap eval run folder (no {RUN_INFO} and {PREDICTIONS})")
    spec = read_run_info(out)
    split = sample_rows(load_split(spec["dataset"], spec["config"], spec["split"]), spec.get("limit"), _seed(spec))
    rows = split.select_columns(["id", "options"]).to_list()  # what the line checks need, not the prompts
    frame = _with_predictions(split, read_predictions(out / PREDICTIONS, rows))
    if len(frame) < len(rows) or not (out / METRICS_FILE).is_file():
        raise DvmapError(
            f"{out}: an unfinished run ({len(frame):,} of {len(rows):,} rows); finish it with its `dvmap eval` command"
        )
    return frame


def _seed(identity: dict) -> int:
    return identity.get("generation", {}).get("seed", 0)


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
    source = next((key for key in DISTRIBUTION_SOURCES if any(key in predictions[i] for i in frame["id"])), None)
    if source is not None:  # the predictor's answer distribution per row (None where a route found none)
        frame["distribution"] = [predictions[i].get(source) for i in frame["id"]]
    return frame
