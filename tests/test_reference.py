"""`dvmap_hf/evaluation/reference.py`: the reference predictors, their answers and their distributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dvmap_hf.evaluation.reference import (
    MajorityPredictor,
    MarginalPredictor,
    NearestPredictor,
    RandomPredictor,
    ScalePredictor,
    TabularPredictor,
)

OPTIONS = ["a", "b", "c"]


def test_majority_is_the_mode_of_the_corpus_train_split(built):
    from datasets import load_dataset

    train = load_dataset(str(built[0]), "corpus")["train"].to_pandas()
    predictor = MajorityPredictor(train)
    usa_q1 = train[(train.country == "United States of America") & (train.question_id == "Q1")]
    expected = usa_q1.answer_index.value_counts().sort_index().idxmax()
    row = usa_q1.iloc[0].to_dict()
    [record] = predictor([row])
    assert record["completion"] == f"<answer>{row['options'][expected]}</answer>"
    shares = usa_q1.answer_index.value_counts(normalize=True).reindex(range(len(row["options"])), fill_value=0)
    assert record["distribution"] == pytest.approx(shares.tolist())  # a strict build: one answer a row
    unseen = {**row, "question_id": "Q999", "id": "x"}
    predictor([unseen])
    assert predictor.fallbacks == 1


def survey_rows() -> pd.DataFrame:
    """Four reference profiles of two groups answering q1 (answer counts over 3 options) and one q2 row."""
    return pd.DataFrame(
        {
            "id": ["p1-q1", "p2-q1", "p3-q1", "p4-q1", "p1-q2"],
            "year": ["2016", "2016", "2018", "2018", "2016"],
            "sex": ["male", "female", "male", "female", "male"],
            "degree": ["none", "none", "college", "college", "none"],
            "question_id": ["q1", "q1", "q1", "q1", "q2"],
            "options": [OPTIONS] * 5,
            "num_options": [3] * 5,
            "answer_index": [0, 2, 1, 1, 0],
            "answer_counts": [[3, 1, 0], [1, 0, 5], [0, 4, 0], [1, 2, 1], [2, 0, 0]],
        }
    )


def ask(predictor, **row) -> dict:
    base = {"id": "t", "year": "2016", "sex": "male", "degree": "college", "question_id": "q1", "options": OPTIONS}
    [record] = predictor([{**base, **row}])
    return record


def test_pooled_references_by_hand():
    train = survey_rows()
    # majority: the mode of the rows' answers per (group, question) (2016 q1: answers 0 and 2, a tie: 0), and
    # the pooled counts of that group as its distribution ([3, 1, 0] + [1, 0, 5])
    majority = ask(MajorityPredictor(train))
    assert majority["completion"] == "<answer>a</answer>"
    assert majority["distribution"] == pytest.approx([4 / 10, 1 / 10, 5 / 10])
    # marginal: every profile's q1 answers pooled: [5, 7, 6]
    marginal = ask(MarginalPredictor(train))
    assert marginal["distribution"] == pytest.approx([5 / 18, 7 / 18, 6 / 18])
    assert marginal["completion"] == "<answer>b</answer>"
    # nearest to (2016, male, college): p1 (year, sex) and p3 (sex, degree) share 2 attributes, p2 and p4 one
    nearest = ask(NearestPredictor(train))
    assert nearest["distribution"] == pytest.approx([3 / 8, 5 / 8, 0])
    assert ask(RandomPredictor(3))["distribution"] == pytest.approx([1 / 3] * 3)


def test_scale_pools_a_profiles_answers_across_the_items_of_its_scale():
    other_scale = {"id": "p1-q3", "year": "2016", "sex": "male", "degree": "none", "question_id": "q3",
                   "options": ["x", "y"], "num_options": 2, "answer_index": 0, "answer_counts": [1, 1]}  # fmt: skip
    train = pd.concat([survey_rows(), pd.DataFrame([other_scale])], ignore_index=True)
    predictor = ScalePredictor(train)
    # an item no reference row answers, asked of p1 (2016, male, none): its q1 and q2 answers [3, 1, 0] + [2, 0, 0]
    own = ask(predictor, question_id="q9", degree="none")
    assert own["distribution"] == pytest.approx([5 / 6, 1 / 6, 0]) and own["completion"] == "<answer>a</answer>"
    # a profile with no answers on the scale: every profile's, q1 [5, 7, 6] + q2 [2, 0, 0]
    assert ask(predictor, question_id="q9")["distribution"] == pytest.approx([7 / 20, 7 / 20, 6 / 20])
    assert ask(predictor, question_id="q9", options=["x", "y"], degree="none")["distribution"] == [0.5, 0.5]
    assert predictor.fallbacks == 0
    ask(predictor, question_id="q9", options=["x", "y", "z"], id="z")  # a scale no reference row uses
    assert predictor.fallbacks == 1


def test_tabular_learns_from_every_respondent_and_gives_probabilities():
    train = survey_rows()
    predictor = TabularPredictor(train)
    record = ask(predictor, year="2018", sex="male", degree="college")
    assert sum(record["distribution"]) == pytest.approx(1.0) and len(record["distribution"]) == 3
    assert int(np.argmax(record["distribution"])) == 1  # p3 (2018, male, college) answered b four times of four
    only = ask(predictor, question_id="q2")
    assert only["distribution"] == [1.0, 0.0, 0.0] and only["completion"] == "<answer>a</answer>"
    assert predictor.fallbacks == 0 and ask(predictor, question_id="q9", id="z") and predictor.fallbacks == 1
