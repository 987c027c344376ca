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

import dataclasses
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dvmap_hf.codebook import (
    ATTRIBUTE_NAMES,
    CROSS_COUNTRIES,
    CROSS_VALUE_QUESTIONS,
    NOT_ANSWERED,
    QUESTIONS,
    TRAINING_COUNTRIES,
    TRAINING_QUESTIONS,
    Question,
)
from dvmap_hf.consensus import CONSENSUS_MODES, answer_matrix, consensus_stats, pair_table
from dvmap_hf.errors import DvmapError
from dvmap_hf.profiles import profile_frame, profile_id
from dvmap_hf.prompts import PROMPT_STYLES, render_prompt_texts
from dvmap_hf.schema import messages_array
from dvmap_hf.wvs import WVSData, read_wvs

#: Sample sizes of the paper (rows). Corpus split sizes from the released files (dev 7,183, test 7,156).
PAPER_SIZES = {
    ("corpus", "train"): 41_813,
    ("corpus", "validation"): 7_183,
    ("corpus", "test"): 7_156,
    ("cross_demographic", "test"): 6_240,
    ("cross_country", "test"): 7_973,
    ("cross_value", "test"): 7_340,
}
#: Profiles drawn per country. The release holds 46 profiles per training country in dev and in test
#: and ~15.6 rows per profile; the other sizes follow from the paper's row counts the same way.
DEFAULT_PROFILES_PER_COUNTRY = {
    ("corpus", "train"): 268,
    ("corpus", "validation"): 46,
    ("corpus", "test"): 46,
    ("cross_demographic", "test"): 40,
    ("cross_country", "test"): 66,
    ("cross_value", "test"): 110,
}
SPLITS = tuple(DEFAULT_PROFILES_PER_COUNTRY)
DEFAULT_REQUIRED = ("life_stage", "income_bracket")  # the release has no "Not Answered" for these two


@dataclass
class BuildConfig:
    wvs: Path
    training_countries: tuple[str, ...] = TRAINING_COUNTRIES
    cross_countries: tuple[str, ...] = CROSS_COUNTRIES
    training_questions: tuple[str, ...] = tuple(q.id for q in TRAINING_QUESTIONS)
    cross_value_questions: tuple[str, ...] = tuple(q.id for q in CROSS_VALUE_QUESTIONS)
    consensus: str = "strict"
    min_support: int = 1
    seed: int = 42
    prompt_style: str = "structured_cot"
    profiles_per_country: dict[tuple[str, str], int] = field(
        default_factory=lambda: dict(DEFAULT_PROFILES_PER_COUNTRY)
    )
    required_attributes: tuple[str, ...] = DEFAULT_REQUIRED
    uk: str = "merge"  # "merge": GBR = Great Britain + Northern Ireland; "gbr-only": Great Britain alone

    def __post_init__(self) -> None:
        self.wvs = Path(self.wvs)
        if self.consensus not in CONSENSUS_MODES:
            raise DvmapError(f"--consensus must be one of {', '.join(CONSENSUS_MODES)}, not {self.consensus!r}")
        if self.prompt_style not in PROMPT_STYLES:
            raise DvmapError(f"--prompt-style must be one of {', '.join(PROMPT_STYLES)}, not {self.prompt_style!r}")
        if self.min_support < 1:
            raise DvmapError(f"--min-support must be >= 1, not {self.min_support}")
        if self.uk not in ("merge", "gbr-only"):
            raise DvmapError(f"--uk must be 'merge' or 'gbr-only', not {self.uk!r}")
        for qid in self.training_questions + self.cross_value_questions:
            if qid not in QUESTIONS:
                raise DvmapError(f"unknown question {qid!r}; known: {', '.join(QUESTIONS)}")
        for name in self.required_attributes:
            if name not in ATTRIBUTE_NAMES:
                raise DvmapError(f"--require: unknown attribute {name!r}; known: {', '.join(ATTRIBUTE_NAMES)}")
        overlap = set(self.training_countries) & set(self.cross_countries)
        if overlap:
            raise DvmapError(f"countries cannot be both training and cross-country: {', '.join(sorted(overlap))}")
        unknown_splits = set(self.profiles_per_country) - set(SPLITS)
        if unknown_splits:
            raise DvmapError(f"unknown config/split(s) {sorted(unknown_splits)}; known: {SPLITS}")

    def parameters(self) -> dict:
        """The build parameters as plain data, for the dataset card and the report."""
        return {
            "training_countries": list(self.training_countries),
            "cross_countries": list(self.cross_countries),
            "training_questions": list(self.training_questions),
            "cross_value_questions": list(self.cross_value_questions),
            "consensus": self.consensus,
            "min_support": self.min_support,
            "seed": self.seed,
            "prompt_style": self.prompt_style,
            "profiles_per_country": {f"{c}/{s}": n for (c, s), n in self.profiles_per_country.items()},
            "required_attributes": list(self.required_attributes),
            "uk": self.uk,
        }


@dataclass
class BuiltDataset:
    tables: dict[tuple[str, str], pd.DataFrame]  # (config, split) -> rows
    stats: dict
    shortfalls: list[str]


def _stream(seed: int, *names: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(name.encode()) for name in names)])


def _check_countries(data: WVSData, config: BuildConfig) -> None:
    present = set(data.countries)
    for option, countries in (
        ("--countries", config.training_countries),
        ("--cross-countries", config.cross_countries),
    ):
        absent = [c for c in countries if c not in present]
        if absent:
            raise DvmapError(f"{data.path}: {option} names countries absent from the file: {', '.join(absent)}")


def _respondents(data: WVSData, config: BuildConfig) -> tuple[WVSData, pd.DataFrame]:
    """Respondents of the requested countries with every required attribute answered."""
    wanted = data.codes["country"].isin(config.training_countries + config.cross_countries).to_numpy()
    subset = dataclasses.replace(data, codes=data.codes[wanted].reset_index(drop=True))
    profiles = profile_frame(subset)
    keep = np.ones(len(profiles), dtype=bool)
    for name in config.required_attributes:
        keep &= (profiles[name] != NOT_ANSWERED).to_numpy()
    subset.codes = subset.codes[keep].reset_index(drop=True)
    return subset, profiles[keep].reset_index(drop=True)


def _sample_profiles(
    pairs: pd.DataFrame,
    countries: tuple[str, ...],
    plan: list[tuple[str, str]],
    config: BuildConfig,
    shortfalls: list[str],
) -> dict[tuple[str, str], np.ndarray]:
    """Disjoint profile draws per country for the (config, split)s of `plan`, in plan order."""
    chosen: dict[tuple[str, str], list[np.ndarray]] = {key: [] for key in plan}
    by_country = pairs.drop_duplicates("profile_key")[["country_alpha", "profile_key"]]
    for country in countries:
        keys = np.sort(by_country.loc[by_country["country_alpha"] == country, "profile_key"].to_numpy())
        keys = _stream(config.seed, "+".join(f"{c}/{s}" for c, s in plan), country).permutation(keys)
        start = 0
        for key in plan:
            wanted = config.profiles_per_country[key]
            taken = keys[start : start + wanted]
            if len(taken) < wanted:
                shortfalls.append(f"{key[0]}/{key[1]} {country}: {len(taken)} of {wanted} profiles available")
            chosen[key].append(taken)
            start += len(taken)
    return {key: np.concatenate(parts) if parts else np.empty(0, np.uint64) for key, parts in chosen.items()}


def _rows(
    pairs: pd.DataFrame, keys: np.ndarray, attributes: pd.DataFrame, questions: list[Question], style: str
) -> pd.DataFrame:
    """Rows of the dataset schema for the chosen profiles; sorted so that equal inputs give equal files."""
    order = {q.id: i for i, q in enumerate(questions)}
    rows = pairs[pairs["profile_key"].isin(keys) & pairs["question_id"].isin(order)].copy()
    rows = rows.merge(attributes, on="profile_key", how="left")
    rows["profile_id"] = profile_id(rows["profile_key"])
    rows["_order"] = rows["question_id"].map(order)
    rows = rows.sort_values(["country_alpha", "profile_id", "_order"], kind="stable").reset_index(drop=True)
    meta = {q.id: q for q in questions}
    rows["question"] = rows["question_id"].map({k: q.text for k, q in meta.items()})
    rows["category"] = rows["question_id"].map({k: q.category for k, q in meta.items()})
    rows["options"] = rows["question_id"].map({k: list(q.options) for k, q in meta.items()})
    rows["num_options"] = rows["options"].str.len().astype(np.int32)
    rows["answer"] = [opts[i] for opts, i in zip(rows["options"], rows["answer_index"])]
    counts = rows.groupby(["country_alpha", "question_id", "answer_index"])["profile_key"].transform("size")
    totals = rows.groupby(["country_alpha", "question_id"])["profile_key"].transform("size")
    rows["frequency"] = counts / totals
    rows["id"] = rows["profile_id"] + "-" + rows["question_id"]
    rows["prompt"] = pd.arrays.ArrowExtensionArray(messages_array(render_prompt_texts(rows, style)))
    return rows


def assemble(data: WVSData, config: BuildConfig) -> BuiltDataset:
    """Build every (config, split) table from data already read."""
    _check_countries(data, config)
    data, profiles = _respondents(data, config)
    questions = [QUESTIONS[q] for q in config.training_questions + config.cross_value_questions]
    codes, keys = pd.factorize(profiles["profile_key"])
    table = pair_table(codes, answer_matrix(data, questions))
    kept = table.kept(config.consensus, config.min_support)
    first = np.unique(codes, return_index=True)[1]
    attributes = profiles.iloc[first][list(ATTRIBUTE_NAMES) + ["profile_key"]]  # categorical: cheap to join
    attributes["country_alpha"] = data.codes["country"].to_numpy()[first]
    pairs = pd.DataFrame(
        {
            "profile_key": keys.to_numpy()[kept["profile"].to_numpy()],
            "question_id": np.asarray([q.id for q in questions])[kept["question"].to_numpy()],
            "answer_index": kept["answer_index"].to_numpy().astype(np.int32),
            "support": kept["support"].to_numpy(),
            "entropy": kept["entropy"].to_numpy(),
        }
    ).merge(attributes[["profile_key", "country_alpha"]], on="profile_key")
    attributes = attributes.drop(columns="country_alpha")
    training = pairs[pairs["question_id"].isin(config.training_questions)]
    cross_value = pairs[pairs["question_id"].isin(config.cross_value_questions)]
    shortfalls: list[str] = []
    corpus_plan = [("corpus", "validation"), ("corpus", "test"), ("cross_demographic", "test"), ("corpus", "train")]
    chosen = _sample_profiles(training, config.training_countries, corpus_plan, config, shortfalls)
    chosen |= _sample_profiles(training, config.cross_countries, [("cross_country", "test")], config, shortfalls)
    chosen |= _sample_profiles(cross_value, config.training_countries, [("cross_value", "test")], config, shortfalls)
    training_q = [QUESTIONS[q] for q in config.training_questions]
    cross_q = [QUESTIONS[q] for q in config.cross_value_questions]
    tables = {}
    for key in SPLITS:
        source, qs = (cross_value, cross_q) if key[0] == "cross_value" else (training, training_q)
        tables[key] = _rows(source, chosen[key], attributes, qs, config.prompt_style)
        if tables[key].empty:
            raise DvmapError(
                f"{data.path}: no rows left for {key[0]}/{key[1]} after filtering "
                f"(consensus={config.consensus}, min_support={config.min_support})"
            )
    stats = consensus_stats(codes, table, config.consensus, config.min_support)
    return BuiltDataset(tables, stats, shortfalls)


def read_source(config: BuildConfig) -> WVSData:
    """The WVS file of a build: only the questions and the UK unit it asks for."""
    questions = list(config.training_questions + config.cross_value_questions)
    return read_wvs(config.wvs, questions, merge_units=config.uk == "merge")


def build(config: BuildConfig) -> BuiltDataset:
    return assemble(read_source(config), config)
