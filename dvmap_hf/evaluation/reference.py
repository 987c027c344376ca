"""Reference predictors: answers that need no LLM, to put a model's scores in context.

- `random`: a seeded uniform choice per row;
- `majority`: the most frequent answer of the reference split (the corpus train split by default) per
  country x question (per question where the country is unseen);
- `tabular`: one scikit-learn logistic regression per question on the one-hot 11 attributes.

Each answers as `<answer>option</answer>`, so every row goes through the same parser and metrics as an
LLM's. Rows one cannot cover (a question absent from its reference split) fall back to `random`; how many
did is reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.prompts import answer_text
from ..data.sampling import row_seed
from ..data.schema import attribute_columns, group_column


class RandomPredictor:
    """Uniform over the row's options, seeded per row: the same answer whatever the batching."""

    name = "random"
    prompt_format = "none (a reference predictor reads the row's attributes, not its prompt)"
    rows_per_call = 4096  # vectorised: one call for the whole split

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.fallbacks = 0

    def choose(self, row: dict) -> int:
        return int(np.random.default_rng(row_seed(self.seed, row["id"])).integers(len(row["options"])))

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        return [answer_text(row["options"][self.choose(row)]) for row in rows]


class MajorityPredictor(RandomPredictor):
    """Mode of the corpus train split per (group, question): the group is the country in a WVS build, a
    survey build's group (year, wave); per question if the group is unseen."""

    name = "majority"

    def __init__(self, train: pd.DataFrame, seed: int = 0):
        super().__init__(seed)
        self.group = group_column(train.columns)
        by_pair = train.groupby([self.group, "question_id"])["answer_index"].agg(_mode)
        by_question = train.groupby("question_id")["answer_index"].agg(_mode)
        self.by_pair, self.by_question = by_pair.to_dict(), by_question.to_dict()

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        out = []
        for row in rows:
            index = self.by_pair.get((row[self.group], row["question_id"]), self.by_question.get(row["question_id"]))
            if index is None or index >= len(row["options"]):
                self.fallbacks += 1
                index = self.choose(row)
            out.append(answer_text(row["options"][int(index)]))
        return out


def _mode(values: pd.Series) -> int:
    counts = values.value_counts()
    return int(counts[counts == counts.max()].index.min())  # ties: the earlier option


class TabularPredictor(RandomPredictor):
    """One logistic regression per question on the one-hot attributes (the paper's 11, or a survey build's) of the
    corpus train split."""

    name = "tabular"

    def __init__(self, train: pd.DataFrame, seed: int = 0):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder

        super().__init__(seed)
        self.models, self.attributes = {}, attribute_columns(train.columns)
        for question_id, part in train.groupby("question_id"):
            if part["answer_index"].nunique() < 2:
                self.models[question_id] = int(part["answer_index"].iloc[0])
                continue
            model = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=500))
            self.models[question_id] = model.fit(part[self.attributes], part["answer_index"])

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        frame = pd.DataFrame(rows)
        chosen = np.full(len(rows), -1)
        for question_id, index in frame.groupby("question_id").groups.items():
            model = self.models.get(question_id)
            if isinstance(model, int):
                chosen[index] = model
            elif model is not None:
                chosen[index] = model.predict(frame.loc[index, self.attributes])
        out = []
        for row, index in zip(rows, chosen):
            if index < 0 or index >= len(row["options"]):
                self.fallbacks += 1
                index = self.choose(row)
            out.append(answer_text(row["options"][int(index)]))
        return out
