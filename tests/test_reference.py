"""`dvmap_hf/evaluation/reference.py`: the reference predictors."""

from __future__ import annotations

from dvmap_hf.evaluation.reference import MajorityPredictor


def test_majority_is_the_mode_of_the_corpus_train_split(built):
    from datasets import load_dataset

    train = load_dataset(str(built[0]), "corpus")["train"].to_pandas()
    predictor = MajorityPredictor(train)
    usa_q1 = train[(train.country == "United States of America") & (train.question_id == "Q1")]
    expected = usa_q1.answer_index.value_counts().sort_index().idxmax()
    row = usa_q1.iloc[0].to_dict()
    assert predictor([row]) == [f"<answer>{row['options'][expected]}</answer>"]
    unseen = {**row, "question_id": "Q999", "id": "x"}
    predictor([unseen])
    assert predictor.fallbacks == 1
