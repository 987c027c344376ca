"""Reference predictors: answers and answer distributions that need no LLM, to put a model's scores in context.

- `random`: a seeded uniform choice per row; its distribution is uniform;
- `majority`: the most frequent answer of the reference split (the corpus train split by default) per
  group x question (the country in a WVS build; per question where the group is unseen); its distribution
  is that group's pooled answers;
- `marginal`: the item's marginal, the pooled answers of every reference profile per question;
- `tabular`: one scikit-learn logistic regression per question on the one-hot attributes (the paper's 11, or a
  survey build's); its distribution is the regression's (a multinomial model on the profile attributes);
- `nearest`: the pooled answers of the reference profiles that share the most attributes with the row's;
- `scale`: the row's profile's pooled answers to every reference question on the row's scale (the same
  option list), else every profile's: the one fitted reference for a question no reference row answers
  (cross_value), where the others fall back to `random`.

Pooled answers are the rows' `answer_counts` where the reference split has them (a distributional build),
else one answer per row. Each predictor answers as `<answer>option</answer>` (the distribution's first largest
option for `marginal` and `nearest`), so every row goes through the same parser and metrics as an LLM's, and
gives its distribution beside (`distribution`). Rows one cannot cover (a question absent from its reference
split) fall back to `random`; how many did is reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.prompts import answer_text
from ..data.sampling import row_seed
from ..data.schema import COUNTS, attribute_columns, group_column


def pooled_counts(train: pd.DataFrame) -> np.ndarray:
    """Each reference row's answers as counts over the widest K (rows x options): its `answer_counts`, or one
    answer."""
    width = int(train["num_options"].max())
    out = np.zeros((len(train), width))
    if COUNTS in train:
        for i, counts in enumerate(train[COUNTS]):
            out[i, : len(counts)] = counts
    else:
        out[np.arange(len(train)), train["answer_index"].to_numpy()] = 1
    return out


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

    def distribution(self, row: dict) -> list[float] | None:
        """The row's answer distribution (None: not known, the uniform one stands in)."""
        return None

    def answer(self, row: dict) -> int | None:
        """The row's answer (None: not known, a random choice stands in and counts as a fallback)."""
        return self.choose(row)

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[dict]:
        return [self._record(row, self.answer(row), self.distribution(row)) for row in rows]

    def _record(self, row: dict, index, distribution) -> dict:
        k = len(row["options"])
        fallback = index is None or not 0 <= index < k
        if fallback:
            self.fallbacks += 1
            index = self.choose(row)
        if distribution is None or len(distribution) != k or not sum(distribution) > 0:
            distribution = [1.0] * k
        total = float(sum(distribution))
        return {
            "completion": answer_text(row["options"][int(index)]),
            "distribution": [v / total for v in distribution],
            **({"fallback": True} if fallback else {}),  # kept in predictions.jsonl: a resumed run counts it
        }


class PooledPredictor(RandomPredictor):
    """Answers and distributions from the reference split's pooled answers per key (question, or group x
    question), falling back to the question's, then to random."""

    def __init__(self, train: pd.DataFrame, seed: int = 0, by_group: bool = True):
        super().__init__(seed)
        self.group = group_column(train.columns) if by_group else None
        counts = pd.DataFrame(pooled_counts(train), index=train.index)
        self.by_question = counts.groupby(train["question_id"]).sum()
        self.by_pair = counts.groupby([train[self.group], train["question_id"]]).sum() if by_group else None

    def pooled(self, row: dict) -> np.ndarray | None:
        if self.by_pair is not None and (row[self.group], row["question_id"]) in self.by_pair.index:
            return self.by_pair.loc[(row[self.group], row["question_id"])].to_numpy()
        if row["question_id"] in self.by_question.index:
            return self.by_question.loc[row["question_id"]].to_numpy()
        return None

    def distribution(self, row: dict) -> list[float] | None:
        counts = self.pooled(row)
        return None if counts is None else counts[: len(row["options"])].tolist()

    def answer(self, row: dict) -> int | None:
        counts = self.pooled(row)
        return None if counts is None else int(np.argmax(counts[: len(row["options"])]))


class MajorityPredictor(PooledPredictor):
    """Mode of the reference split per (group, question): the group is the country in a WVS build, a
    survey build's group (year, wave); per question if the group is unseen. The mode counts each reference
    row's answer once (as the paper's majority baseline); the distribution pools the rows' answer counts."""

    name = "majority"

    def __init__(self, train: pd.DataFrame, seed: int = 0):
        super().__init__(train, seed)
        by_pair = train.groupby([self.group, "question_id"])["answer_index"].agg(_mode)
        by_question = train.groupby("question_id")["answer_index"].agg(_mode)
        self.mode_by_pair, self.mode_by_question = by_pair.to_dict(), by_question.to_dict()

    def answer(self, row: dict) -> int | None:
        key = (row[self.group], row["question_id"])
        return self.mode_by_pair.get(key, self.mode_by_question.get(row["question_id"]))


class MarginalPredictor(PooledPredictor):
    """The item's marginal: every reference profile's answers to the question, pooled."""

    name = "marginal"

    def __init__(self, train: pd.DataFrame, seed: int = 0):
        super().__init__(train, seed, by_group=False)


def _mode(values: pd.Series) -> int:
    counts = values.value_counts()
    return int(counts[counts == counts.max()].index.min())  # ties: the earlier option


class TabularPredictor(RandomPredictor):
    """One logistic regression per question on the one-hot attributes (the paper's 11, or a survey build's)
    of the reference split: a multinomial model of the answer given the profile. It learns from every
    respondent's answer (`answer_counts` as weights) where the split has them, else from each row's answer."""

    name = "tabular"

    def __init__(self, train: pd.DataFrame, seed: int = 0):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder

        super().__init__(seed)
        self.models, self.attributes = {}, attribute_columns(train.columns)
        train = train.reset_index(drop=True)
        counts = pooled_counts(train) if COUNTS in train else None
        for question_id, part in train.groupby("question_id"):
            features, labels, weight = part[self.attributes], part["answer_index"].to_numpy(), None
            if counts is not None:  # one sample per (row, option) someone chose, weighted by how many did
                options, rows = np.nonzero(counts[part.index].T)
                features, labels, weight = part.iloc[rows][self.attributes], options, counts[part.index[rows], options]
            if len(np.unique(labels)) < 2:
                self.models[question_id] = int(labels[0])
                continue
            model = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=500))
            self.models[question_id] = model.fit(features, labels, logisticregression__sample_weight=weight)

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[dict]:
        frame = pd.DataFrame(rows)
        probabilities: list[np.ndarray | None] = [None] * len(rows)
        for question_id, index in frame.groupby("question_id").groups.items():
            model = self.models.get(question_id)
            if isinstance(model, int):  # every reference answer the same option
                for i in index:
                    probabilities[i] = np.eye(max(len(rows[i]["options"]), model + 1))[model][
                        : len(rows[i]["options"])
                    ]
            elif model is not None:
                proba = model.predict_proba(frame.loc[index, self.attributes])
                for i, p in zip(index, proba):
                    probabilities[i] = np.zeros(len(rows[i]["options"]))
                    probabilities[i][model.classes_] = p
        return [
            self._record(row, None if p is None else int(np.argmax(p)), None if p is None else p.tolist())
            for row, p in zip(rows, probabilities)
        ]


class NearestPredictor(PooledPredictor):
    """The pooled answers of the reference profiles that share the most attributes with the row's profile
    (every profile at the largest count of shared attributes), per question."""

    name = "nearest"

    def __init__(self, train: pd.DataFrame, seed: int = 0):
        train = train.reset_index(drop=True)
        super().__init__(train, seed, by_group=False)
        self.attributes = attribute_columns(train.columns)
        self.counts = pooled_counts(train)
        self.rows_of = {question: index.to_numpy() for question, index in train.groupby("question_id").groups.items()}
        self.profiles = train[self.attributes].to_numpy(dtype=str)

    def pooled(self, row: dict) -> np.ndarray | None:
        mine = self.rows_of.get(row["question_id"])
        if mine is None:
            return None
        shared = (self.profiles[mine] == np.asarray([str(row[a]) for a in self.attributes])).sum(axis=1)
        return self.counts[mine[shared == shared.max()]].sum(axis=0)


class ScalePredictor(PooledPredictor):
    """What a profile answers on a scale, whatever the item: its pooled answers to every reference question
    with the row's option list (every profile's where the profile has none). On a question the reference split
    answers it ignores which item is asked (`marginal` and `nearest` know); on a held-out question it is what
    the split knows."""

    name = "scale"

    def __init__(self, train: pd.DataFrame, seed: int = 0):
        train = train.reset_index(drop=True)
        super().__init__(train, seed, by_group=False)
        self.attributes = attribute_columns(train.columns)
        counts = pd.DataFrame(pooled_counts(train), index=train.index)
        scale, profile = train["options"].map(_scale_key), train[self.attributes].astype(str).agg(_KEY.join, axis=1)
        self.by_scale = counts.groupby(scale).sum()
        self.by_profile_scale = counts.groupby([profile, scale]).sum()

    def pooled(self, row: dict) -> np.ndarray | None:
        scale, profile = _scale_key(row["options"]), _KEY.join(str(row[a]) for a in self.attributes)
        if (profile, scale) in self.by_profile_scale.index:
            return self.by_profile_scale.loc[(profile, scale)].to_numpy()
        return self.by_scale.loc[scale].to_numpy() if scale in self.by_scale.index else None


_KEY = "\x1f"  # joins option labels or attribute values into one key: no label holds it


def _scale_key(options) -> str:
    return _KEY.join(str(option) for option in options)


#: The fitted references by name (`config.FITTED_PREDICTORS`).
FITTED = {
    cls.name: cls for cls in (MajorityPredictor, MarginalPredictor, TabularPredictor, NearestPredictor, ScalePredictor)
}
