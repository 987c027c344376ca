"""`evaluation/routes`: stated distributions, k samples a row and the shuffled-profile control, by hand and
through `dvmap eval`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dvmap_app.cli import main
from dvmap_hf.evaluation.routes import (
    SampledPredictor,
    StatedPredictor,
    parse_stated,
    sample_seed,
    shuffle_profiles,
    stated_messages,
)

OPTIONS = ["Agree", "Neither", "Disagree"]


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("<answer>Agree: 50%, Neither: 30%, Disagree: 20%</answer>", [0.5, 0.3, 0.2]),
        ("thinking... <answer>60, 30, 10</answer>", [0.6, 0.3, 0.1]),
        ("<answer>agree 33.3% neither 33.3% disagree 33.3%</answer>", [1 / 3] * 3),  # sums to 99.9: rounding
        ("<answer>Agree: 50%, Disagree: 50%</answer>", None),  # two numbers for three options
        ("<answer>50, 30, 30</answer>", None),  # 110
        ("<answer>Agree</answer>", None),
        ("Agree: 50%, Neither: 30%, Disagree: 20%", None),  # no answer tags
        ("<answer>0, 0, 0</answer>", None),
    ],
)
def test_a_stated_distribution_is_parsed_strictly(reply, expected):
    got = parse_stated(reply, OPTIONS)
    assert got == (None if expected is None else pytest.approx(expected))


def test_numbers_inside_options_are_not_read_as_percentages():
    options = ["1-3 (low)", "4-7 (medium)", "8-10 (high)"]
    assert parse_stated("<answer>1-3 (low): 20%, 4-7 (medium): 50%, 8-10 (high): 30%</answer>", options) == (
        pytest.approx([0.2, 0.5, 0.3])
    )


def test_the_stated_prompt_asks_for_every_option_in_order():
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "Question?"}]
    asked = stated_messages(messages, OPTIONS)
    assert asked[0] == messages[0] and asked[1]["content"].startswith("Question?\n\nDo not pick one answer.")
    assert "<answer>Agree: 34%, Neither: 33%, Disagree: 33%</answer>" in asked[1]["content"]
    assert messages[1]["content"] == "Question?"  # the row's own prompt is left alone


class Scripted:
    """A backend that answers from a script, recording the seeds and prompts it was given."""

    name, prompt_format, rows_per_call = "scripted", "chat template", 0

    def __init__(self, replies):
        self.replies, self.seeds, self.prompts = list(replies), [], []

    def __call__(self, rows, batch_seed=0):
        self.seeds.append(batch_seed)
        self.prompts.append([row["prompt"] for row in rows])
        return [self.replies.pop(0) for _ in rows]


def rows(n=2):
    return [{"id": f"r{i}", "options": OPTIONS, "prompt": [{"role": "user", "content": f"p{i}"}]} for i in range(n)]


def test_k_samples_give_the_valid_answers_shares():
    replies = ["<answer>Agree</answer>", "junk", "<answer>Agree</answer>", "junk", "<answer>Neither</answer>", "junk"]
    backend = Scripted(replies)
    records = SampledPredictor(backend, samples=3)(rows(), batch_seed=7)
    assert backend.seeds == [7, sample_seed(7, 1), sample_seed(7, 2)] and len(set(backend.seeds)) == 3
    assert records[0]["samples"] == [0, 0, 1] and records[0]["distribution"] == pytest.approx([2 / 3, 1 / 3, 0])
    assert records[1]["samples"] == [-1, -1, -1] and records[1]["distribution"] is None  # none valid: counted
    assert records[0]["completion"] == "<answer>Agree</answer>"


def test_a_stated_predictor_keeps_the_reply_and_counts_what_does_not_parse():
    backend = Scripted(["<answer>10, 20, 70</answer>", "I cannot say"])
    predictor = StatedPredictor(backend)
    records = predictor(rows())
    assert records[0] == {"completion": "<answer>10, 20, 70</answer>", "parsed": 2, "distribution": [0.1, 0.2, 0.7]}
    assert records[1] == {"completion": "I cannot say", "parsed": -1, "distribution": None}
    assert predictor.unparsed == 1
    assert "Do not pick one answer" in backend.prompts[0][0][-1]["content"]


def test_shuffled_profiles_move_within_a_question_and_keep_each_rows_answers():
    base = [
        {"id": f"{p}-{q}", "profile_id": p, "question_id": q, "country": p.upper(), "gender": "x", "answer_index": i,
         "prompt": [{"role": "user", "content": f"{p} asked {q}"}]}
        for i, (p, q) in enumerate([(p, q) for p in "abcd" for q in ("q1", "q2")])
    ]  # fmt: skip
    shuffled = shuffle_profiles(base, seed=3)
    assert shuffled == shuffle_profiles(base, seed=3) and shuffled != shuffle_profiles(base, seed=4)
    for own, asked in zip(base, shuffled):
        assert (asked["id"], asked["answer_index"], asked["profile_id"]) == (
            own["id"],
            own["answer_index"],
            own["profile_id"],
        )
        donor = asked["prompt"][0]["content"].split(" asked ")
        assert donor[1] == own["question_id"] and donor[0] != own["profile_id"]  # another profile, same question
        assert asked["country"] == donor[0].upper()  # the attributes move with the prompt


def test_the_control_and_the_model_routes_through_dvmap_eval(built_survey, tiny_model, tmp_path, capsys):
    dataset = str(built_survey)
    argv = ["eval", "--dataset", dataset, "--config", "cross_year", "--bootstrap", "0"]
    for profiles in ("own", "shuffled"):
        assert main([*argv, "--model", "tabular", "--profiles", profiles, "--out", str(tmp_path / profiles)]) == 0
    tv = {p: json.loads((tmp_path / p / "metrics.json").read_text())["distribution"]["figures"]["total_variation"]
          for p in ("own", "shuffled")}  # fmt: skip
    assert tv["shuffled"]["estimate"] > tv["own"]["estimate"]  # the frame's answers follow sex and degree
    assert json.loads((tmp_path / "shuffled" / "run.json").read_text())["profiles"] == "shuffled"
    paired = ["compare", str(tmp_path / "own"), str(tmp_path / "shuffled"), "--bootstrap", "200"]
    assert main([*paired, "--json", str(tmp_path / "paired.json")]) == 0
    assert "Distribution alignment (each row's distribution against its answer counts)" in capsys.readouterr().out
    difference = json.loads((tmp_path / "paired.json").read_text())[str(tmp_path / "shuffled")]
    entry = difference["alignment_total_variation"]
    assert entry["family"] == "alignment" and entry["difference"] == pytest.approx(
        tv["shuffled"]["estimate"] - tv["own"]["estimate"]
    )
    model = ["--model", str(tiny_model), "--limit", "6", "--max-new-tokens", "8"]
    assert main([*argv, *model, "--scoring", "stated", "--out", str(tmp_path / "stated")]) == 0
    stated = json.loads((tmp_path / "stated" / "metrics.json").read_text())["distribution"]
    assert stated["rows"] + stated["rows_without_distribution"] == 6  # a random tiny model states none
    assert main([*argv, *model, "--samples", "3", "--out", str(tmp_path / "k")]) == 0
    lines = [json.loads(line) for line in (tmp_path / "k" / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 6 and all(len(line["samples"]) == 3 for line in lines)
    capsys.readouterr()
    assert main([*argv, "--model", "majority", "--samples", "3", "--out", str(tmp_path / "x")]) == 2
    assert "--samples asks a model" in capsys.readouterr().err
    assert main([*argv, *model, "--samples", "3", "--greedy", "--out", str(tmp_path / "g")]) == 2
    assert "--samples draws several sampled completions" in capsys.readouterr().err


def test_sample_seeds_are_distinct_and_keep_the_first_draw():
    seeds = [sample_seed(11, j) for j in range(50)]
    assert seeds[0] == 11 and len(set(seeds)) == 50 and np.all(np.asarray(seeds) >= 0)
