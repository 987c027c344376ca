"""The options of a build, declared once: `BuildConfig` (what `dvmap build` exposes) and the paper's sizes.

A light module (no pandas, pyarrow or datasets) so that the command line can list the options fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dvmap_hf.codebook import (
    ATTRIBUTE_NAMES,
    CROSS_COUNTRIES,
    CROSS_VALUE_QUESTIONS,
    QUESTIONS,
    TRAINING_COUNTRIES,
    TRAINING_QUESTIONS,
)
from dvmap_hf.consensus import CONSENSUS_MODES
from dvmap_hf.errors import DvmapError
from dvmap_hf.prompts import PROMPT_STYLES, SYSTEM_PROMPTS

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
    system_prompt: str = "release"  # the authors' system message before every prompt; "none": user turn only
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
        if self.system_prompt not in SYSTEM_PROMPTS:
            raise DvmapError(f"--system-prompt must be one of {', '.join(SYSTEM_PROMPTS)}, not {self.system_prompt!r}")
        if self.seed < 0:
            raise DvmapError(f"--seed must be >= 0, not {self.seed}")
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
        shared = set(self.training_questions) & set(self.cross_value_questions)
        if shared:
            raise DvmapError(f"questions cannot be both training and cross-value: {', '.join(sorted(shared))}")
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
            "system_prompt": self.system_prompt,
            "profiles_per_country": {f"{c}/{s}": n for (c, s), n in self.profiles_per_country.items()},
            "required_attributes": list(self.required_attributes),
            "uk": self.uk,
        }
