"""The paper's analyses, one shape for all five: a function of the `AnalysisConfig` it names returns an
`AnalysisResult` (table, markdown summary, figures), which one writer saves as CSV + markdown + PNG.

- entropy (Fig. 1a-b): Shannon entropy (natural log) of each value question's answers within a country;
- importance (Fig. 1c): random forest per question on the one-hot 11 attributes, mean-decrease-impurity
  summed over each attribute's one-hot columns;
- consensus (Sec. 3): per country, respondents sharing their profile and (profile, question) pairs the
  strict filter drops, for several min-support values;
- semantic (App. J): cosine distances of each cross-value question to the training questions (nearest and
  average) from a local embedding model, and Pearson r with accuracy gains between two runs;
- difficulty (Sec. 5.3): per question, answer entropy in the evaluated split vs the run's accuracy.
The survey analyses read WVS files through the builder's reader, profiles and consensus code; the run
analyses read `dvmap eval` folders. This module is light (the `dvmap` command lists it); the work is in
`survey.py` and `runs.py`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..options import OptionError, at_least, csv_list, option

if TYPE_CHECKING:
    import pandas as pd


def _supports(text: str) -> tuple[int, ...]:
    return tuple(int(item) for item in csv_list(text))


@dataclass
class AnalysisConfig:
    """Everything an analysis may read; each analysis names the inputs it takes and those it needs."""

    wvs: str | None = option(None, "WVS file (entropy, importance, consensus)")
    country: str = option("USA", "entropy: ISO3 country")
    seed: int = option(0, "importance: random forest seed")
    trees: int = option(100, "importance: trees per forest")
    min_support: tuple[int, ...] = option(
        (1, 2, 3, 5), "consensus: least respondents per pair, several", parse=_supports
    )
    embedder: str | None = option(None, "semantic: local HF model or sentence-transformers folder")
    dataset: str | None = option(None, "semantic: take the question wording from this dataset")
    run: str | None = option(None, "difficulty: run folder; semantic: the trained model's cross_value run")
    base_run: str | None = option(None, "semantic: the base model's cross_value run (accuracy gains = run - base)")

    def __post_init__(self) -> None:
        at_least("trees", self.trees)
        at_least("min_support", min(self.min_support, default=0))


@dataclass
class AnalysisResult:
    name: str
    table: pd.DataFrame
    summary: str  # markdown
    figures: dict[str, Any] = field(default_factory=dict)  # file name -> matplotlib figure

    def save(self, out: str | Path) -> Path:
        """<name>.csv, <name>.md and each figure's PNG in `out`, each written whole or not at all."""
        from ..io import atomic_file
        from .plots import close

        out = Path(out)
        with atomic_file(out / f"{self.name}.csv") as tmp:
            self.table.to_csv(tmp, index=False)
        with atomic_file(out / f"{self.name}.md") as tmp:
            tmp.write_text(self.summary.strip() + "\n")
        for file_name, figure in self.figures.items():
            with atomic_file(out / file_name) as tmp:
                figure.savefig(tmp, format="png", dpi=110)
            close(figure)
        return out


@dataclass(frozen=True)
class Analysis:
    name: str
    help: str
    function: str  # module:function in this package
    takes: tuple[str, ...]  # fields of AnalysisConfig passed as keywords
    needs: tuple[str, ...]  # those that may not be None

    def __call__(self, inputs: AnalysisConfig) -> AnalysisResult:
        for name in self.needs:
            if getattr(inputs, name) is None:
                raise OptionError(name, f"is needed by analyze {self.name} ({self.help})")
        module, function = self.function.split(":")
        run = getattr(importlib.import_module(f"{__name__}.{module}"), function)
        return run(**{name: getattr(inputs, name) for name in self.takes})


ANALYSES = {
    analysis.name: analysis
    for analysis in (
        Analysis(
            "entropy",
            "answer entropy per question in a country",
            "survey:answer_entropy",
            ("wvs", "country"),
            ("wvs",),
        ),
        Analysis(
            "importance", "attribute importance per question", "survey:importance", ("wvs", "seed", "trees"), ("wvs",)
        ),
        Analysis(
            "consensus", "the consensus filter per country", "survey:consensus", ("wvs", "min_support"), ("wvs",)
        ),
        Analysis(
            "semantic",
            "semantic distance of the cross-value questions",
            "runs:semantic",
            ("embedder", "run", "base_run", "dataset"),
            ("embedder",),
        ),
        Analysis("difficulty", "answer entropy vs a run's accuracy", "runs:difficulty", ("run",), ("run",)),
    )
}


def run_analysis(name: str, inputs: AnalysisConfig, out: str | Path) -> AnalysisResult:
    """Run the analysis `name` and save what it found in `out`."""
    result = ANALYSES[name](inputs)
    result.save(out)
    return result
