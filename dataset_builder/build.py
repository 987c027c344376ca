"""WVS file -> profiles -> consensus filter -> per-country profile sampling -> configs -> rows.

Configs (paper Sec. 4.3):
- `corpus` train / validation / test: training countries x training questions, profile-disjoint splits;
- `cross_demographic`: training countries x training questions, profiles disjoint from every corpus profile;
- `cross_country`: the unseen countries x training questions;
- `cross_value`: training countries x the unseen questions (profiles drawn independently of the corpus:
  the question is what is new).
Profiles are drawn per country, from that country's profiles sorted by their stable key and shuffled
by a generator seeded with (seed, config, country): the same file and seed give the same rows, in
any row order, and changing one country's size leaves the others alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dvmap_hf.data.codebook import NOT_ANSWERED, QUESTIONS, Question
from dvmap_hf.data.consensus import PairTable, answer_matrix, consensus_stats, pair_table
from dvmap_hf.data.profiles import profile_frame, profile_id, profile_keys
from dvmap_hf.data.prompts import render_prompt_texts, system_message
from dvmap_hf.data.schema import COUNTS, as_arrow, messages_array
from dvmap_hf.data.survey import SurveyData
from dvmap_hf.data.wvs import WVSData, read_wvs
from dvmap_hf.errors import DvmapError
from dvmap_hf.options import OptionError

from .config import DEFAULT_PROFILES_PER_COUNTRY, DEFAULT_REQUIRED, SPLITS, BuildConfig

__all__ = ["DEFAULT_PROFILES_PER_COUNTRY", "DEFAULT_REQUIRED", "SPLITS", "BuildConfig", "assemble"]


@dataclass
class BuiltDataset:
    """A build, planned: sizes and statistics are known; the rows are rendered as `tables` is iterated
    (once, in SPLITS order), so a writer can store each split while the next one is rendered."""

    tables: Iterator[tuple[tuple[str, str], pa.Table]]  # ((config, split), rows of the schema)
    sizes: dict[tuple[str, str], int]
    stats: dict
    shortfalls: list[str]


@dataclass
class ProfilePool:
    """The distinct profiles of a build, indexed by profile code (0..P-1)."""

    keys: np.ndarray  # stable 64-bit profile key
    groups: np.ndarray  # the profile's group: its ISO3 country in a WVS build, a survey's year or wave
    attributes: pd.DataFrame  # the attribute labels (the paper's 11, or a survey spec's), categorical columns

    def mask(self, codes: np.ndarray) -> np.ndarray:
        """Boolean mask over all profile codes, true at `codes`: set membership without a sort."""
        mask = np.zeros(len(self.keys), dtype=bool)
        mask[codes] = True
        return mask

    @cached_property
    def group_rank(self) -> np.ndarray:
        """Alphabetical rank of each profile's group (rows are sorted by it)."""
        return pd.factorize(self.groups, sort=True)[0]

    def labels(self, name: str, codes: np.ndarray) -> pa.Array:
        """The attribute `name` of profiles `codes` as an arrow string column, taken from its categories."""
        column = self.attributes[name].array
        return pa.array(column.categories.to_numpy(dtype=object), pa.string()).take(column.codes[codes])


def _stream(seed: int, *names: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(name.encode()) for name in names)])


@dataclass
class Respondents:
    """What a build reads from its source, whatever the survey: one row per respondent in scope."""

    path: Path
    profiles: pd.DataFrame  # the attribute labels (categorical columns) and `profile_key`
    groups: np.ndarray  # each respondent's group (str); profiles are drawn per group
    answers: np.ndarray  # respondents x questions: option index, -1 where no valid answer
    questions: list[Question]  # the training questions first, then the held-out ones (cross_value)


@dataclass
class Layout:
    """How a build turns its pairs into configs: what a WVS build and a survey build share.

    `corpus` (train / validation / test) and `cross_demographic` hold the training groups' profiles on the
    training questions, disjoint; `held_out_config` the held-out groups on those questions; `cross_value`
    the training groups on the held-out questions, profiles drawn independently (the question is new)."""

    training_groups: tuple[str, ...]
    held_out_groups: tuple[str, ...]
    held_out_config: str  # cross_country in a WVS build, cross_<group> in a survey build
    training_questions: int  # the first of `Respondents.questions`; the others make cross_value
    profiles: Callable[[tuple[str, str], int], int | None]  # to draw for (config, split) from n; None: the rest
    options: BuildConfig  # seed, consensus, min support, prompt style, system prompt
    profile_template: str | None = None  # a survey's own profile text; None: the style's (the paper's 11)

    def splits(self, questions: int) -> tuple[tuple[str, str], ...]:
        """The (config, split)s these groups and questions allow, in the order they are drawn and written."""
        keys = [("corpus", "train"), ("corpus", "validation"), ("corpus", "test"), ("cross_demographic", "test")]
        keys += [(self.held_out_config, "test")] if self.held_out_groups else []
        keys += [("cross_value", "test")] if questions > self.training_questions else []
        return tuple(keys)


def _check_countries(data: WVSData, config: BuildConfig) -> None:
    present = set(data.countries)
    for name in ("training_countries", "cross_countries"):
        absent = [c for c in getattr(config, name) if c not in present]
        if absent:
            raise OptionError(name, f"names countries absent from {data.path}: {', '.join(absent)}")


def wvs_respondents(data: WVSData, config: BuildConfig) -> Respondents:
    """Respondents of the requested countries with every required attribute answered, as a build reads them."""
    _check_countries(data, config)
    wanted = data.codes["country"].isin(config.training_countries + config.cross_countries).to_numpy()
    subset = data.subset(wanted)
    profiles = profile_frame(subset)
    keep = np.ones(len(profiles), dtype=bool)
    for name in config.required_attributes:
        keep &= (profiles[name] != NOT_ANSWERED).to_numpy()
    subset = subset.subset(keep)
    _check_answered(subset, config)
    questions = [QUESTIONS[q] for q in config.training_questions + config.cross_value_questions]
    return Respondents(
        subset.path,
        profiles[keep].reset_index(drop=True),
        subset.codes["country"].to_numpy(),
        answer_matrix(subset, questions),
        questions,
    )


def wvs_layout(config: BuildConfig) -> Layout:
    """The paper's configs: fixed profile counts per country and split (`--profiles-per-country`)."""
    return Layout(
        training_groups=config.training_countries,
        held_out_groups=config.cross_countries,
        held_out_config="cross_country",
        training_questions=len(config.training_questions),
        profiles=lambda key, available: config.profiles_per_country[key],
        options=config,
    )


def _check_answered(data: WVSData, config: BuildConfig) -> None:
    """A value question nobody of the requested countries answered would vanish from every config while the
    card still lists it: name it instead."""
    for qid in config.training_questions + config.cross_value_questions:
        if qid in data.codes and not (data.codes[qid].to_numpy() > 0).any():
            raise DvmapError(
                f"{data.path}: column {qid} (value question) has no answer from any respondent of the requested "
                "countries (every cell is blank or a missing code); check the file"
            )


def _sample_profiles(
    pairs: pd.DataFrame,
    groups: tuple[str, ...],
    plan: list[tuple[str, str]],
    pool: ProfilePool,
    layout: Layout,
    shortfalls: list[str],
) -> dict[tuple[str, str], np.ndarray]:
    """Disjoint profile draws (profile codes) per group for the (config, split)s of `plan`, in plan order."""
    chosen: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in plan}
    codes = np.flatnonzero(pool.mask(pairs["profile"].to_numpy()))
    codes = codes[np.argsort(pool.keys[codes])]  # by stable key: independent of file order
    group_of = pool.groups[codes]
    for group in groups:
        stream = _stream(layout.options.seed, "+".join(f"{c}/{s}" for c, s in plan), group)
        mine = stream.permutation(codes[group_of == group])
        start = 0
        for key in plan:
            wanted = layout.profiles(key, len(mine))
            taken = mine[start:] if wanted is None else mine[start : start + wanted]
            if wanted is not None and len(taken) < wanted:
                shortfalls.append(f"{key[0]}/{key[1]} {group}: {len(taken)} of {wanted} profiles available")
            chosen[key].append(taken)
            start += len(taken)
    return {key: np.concatenate(parts) if parts else np.empty(0, np.int64) for key, parts in chosen.items()}


def _question_columns(questions: list[Question]) -> dict[str, pa.Array]:
    """Arrow columns of the questions, indexed like `questions`."""
    return {
        "question_id": pa.array([q.id for q in questions], pa.string()),
        "question": pa.array([q.text for q in questions], pa.string()),
        "category": pa.array([q.category for q in questions], pa.string()),
        "options": pa.array([list(q.options) for q in questions], pa.list_(pa.string())),
    }


def _share_within(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each row, the share of rows of its group having its value (groups, values: small ints)."""
    cells = groups * (int(values.max(initial=0)) + 1) + values
    return np.bincount(cells)[cells] / np.bincount(groups)[groups]


def _rows(
    rows: pd.DataFrame,
    pool: ProfilePool,
    questions: dict[str, pa.Array],
    style: str,
    system: str | None,
    counts: PairTable | None = None,
    profile_template: str | None = None,
) -> pa.Table:
    """The kept (profile, question) pairs of one split as rows of the dataset schema, sorted by group,
    profile id and question order, so that equal inputs give equal files; with `counts` (a distributional
    build) each pair's answer counts beside its mode. Built column by column in arrow: no object per row."""
    profile, question = rows["profile"].to_numpy(), rows["question"].to_numpy()
    group_rank = pool.group_rank[profile]
    order = np.lexsort((question, pool.keys[profile], group_rank))
    profile, question, group_rank = profile[order], question[order], group_rank[order]
    answer = rows["answer_index"].to_numpy()[order].astype(np.int32)
    new_profile = np.r_[True, profile[1:] != profile[:-1]]  # rows of a profile are adjacent
    distinct, profile_index = profile[new_profile], np.cumsum(new_profile) - 1
    profile_ids = pa.array(profile_id(pool.keys[distinct]), pa.string()).take(profile_index)
    attributes = {name: pool.labels(name, distinct) for name in pool.attributes.columns}
    options = questions["options"]
    offsets = options.offsets.to_numpy()  # question q's options are values[offsets[q]:offsets[q + 1]]
    columns = {name: values.take(profile_index) for name, values in attributes.items()}
    columns |= {name: questions[name].take(question) for name in ("question_id", "question", "category", "options")}
    columns |= {
        "id": pc.binary_join_element_wise(profile_ids, columns["question_id"], "-"),
        "profile_id": profile_ids,
        "answer": options.values.take(offsets[question] + answer),
        "answer_index": pa.array(answer),
        "num_options": pa.array(np.diff(offsets)[question].astype(np.int32)),
        "support": pa.array(rows["support"].to_numpy()[order]),
        "entropy": pa.array(rows["entropy"].to_numpy()[order]),
        "frequency": pa.array(_share_within(group_rank * len(options) + question, answer)),
        "prompt": messages_array(
            render_prompt_texts(
                attributes,
                profile_index,
                {"question": questions["question"], "options": options},
                question,
                style,
                profile_template,
            ),
            system,
        ),
    }
    if counts is not None:  # the frame's index is each pair's position in the pair table
        columns[COUNTS] = counts.answer_counts(rows.index.to_numpy()[order], np.diff(offsets)[question])
    return as_arrow(columns)


def assemble_respondents(respondents: Respondents, layout: Layout) -> BuiltDataset:
    """Every (config, split) table of a build: pairs, consensus filter, profile draws per group, rows (with
    each pair's answer counts, `answer_counts`, in a distributional build)."""
    options = layout.options
    codes, keys = pd.factorize(respondents.profiles["profile_key"])
    table = pair_table(codes, respondents.answers)
    first = np.unique(codes, return_index=True)[1]  # a respondent of each profile
    pool = ProfilePool(
        keys=keys.to_numpy(),
        groups=respondents.groups[first],
        attributes=respondents.profiles.iloc[first].drop(columns="profile_key").reset_index(drop=True),
    )
    pairs = table.kept(options.consensus, options.min_support)
    is_training = (pairs["question"] < layout.training_questions).to_numpy()
    training, cross_value = pairs[is_training], pairs[~is_training]
    shortfalls: list[str] = []
    corpus_plan = [("corpus", "validation"), ("corpus", "test"), ("cross_demographic", "test"), ("corpus", "train")]
    draw = partial(_sample_profiles, pool=pool, layout=layout, shortfalls=shortfalls)
    chosen = draw(training, layout.training_groups, corpus_plan)
    if layout.held_out_groups:
        chosen |= draw(training, layout.held_out_groups, [(layout.held_out_config, "test")])
    if len(respondents.questions) > layout.training_questions:
        chosen |= draw(cross_value, layout.training_groups, [("cross_value", "test")])
    selected = {}
    for key in layout.splits(len(respondents.questions)):
        source = cross_value if key[0] == "cross_value" else training
        selected[key] = source[pool.mask(chosen[key])[source["profile"].to_numpy()]]
        if selected[key].empty:
            raise DvmapError(
                f"{respondents.path}: no rows left for {key[0]}/{key[1]} after filtering "
                f"(consensus={options.consensus}, min_support={options.min_support})"
            )
    question_columns = _question_columns(respondents.questions)
    render = partial(
        _rows,
        pool=pool,
        questions=question_columns,
        style=options.prompt_style,
        counts=table if options.consensus == "distribution" else None,
        profile_template=layout.profile_template,
    )
    tables = (
        (key, render(rows, system=system_message(options.system_prompt, key[0]))) for key, rows in selected.items()
    )
    sizes = {key: len(rows) for key, rows in selected.items()}
    stats = consensus_stats(codes, table, options.consensus, options.min_support)
    return BuiltDataset(tables, sizes, stats, shortfalls)


def assemble(data: WVSData, config: BuildConfig) -> BuiltDataset:
    """Build every (config, split) table of the paper from a WVS file already read."""
    return assemble_respondents(wvs_respondents(data, config), wvs_layout(config))


def survey_respondents(data: SurveyData) -> Respondents:
    """A survey's respondents as a build reads them: the profile key hashes the spec's attributes."""
    profiles = data.attributes.copy()
    profiles["profile_key"] = profile_keys(profiles, data.spec.attribute_names)
    return Respondents(data.spec.path, profiles, data.groups, data.answers, data.questions)


def survey_layout(data: SurveyData, config: BuildConfig) -> Layout:
    """A survey's configs: each split a share of every group's profiles (the spec's `splits`), the corpus's
    train the rest; the held-out groups make `cross_<group>`."""
    spec = data.spec
    share_of = {
        ("corpus", "validation"): spec.shares["validation"],
        ("corpus", "test"): spec.shares["test"],
        ("cross_demographic", "test"): spec.shares["cross_demographic"],
        ("cross_value", "test"): spec.shares["cross_value"],
        (spec.held_out_config, "test"): spec.shares["cross_group"],
    }

    def profiles(key: tuple[str, str], available: int) -> int | None:
        """At least one profile of a group that has any: a small group still reaches every split."""
        return None if key == ("corpus", "train") else min(available, max(1, round(share_of[key] * available)))

    return Layout(
        training_groups=tuple(sorted(set(data.groups) - set(spec.held_out_groups))),
        held_out_groups=spec.held_out_groups,
        held_out_config=spec.held_out_config,
        training_questions=len(spec.questions) - spec.held_out_questions,
        profiles=profiles,
        options=config,
        profile_template=spec.profile,
    )


def assemble_survey(data: SurveyData, config: BuildConfig) -> BuiltDataset:
    """Build every (config, split) table a survey spec allows from its frame already read."""
    return assemble_respondents(survey_respondents(data), survey_layout(data, config))


def read_source(config: BuildConfig) -> WVSData:
    """The WVS file of a build: only the questions and the UK unit it asks for."""
    questions = list(config.training_questions + config.cross_value_questions)
    return read_wvs(config.wvs, questions, merge_units=config.uk == "merge")


def build(config: BuildConfig) -> BuiltDataset:
    return assemble(read_source(config), config)
