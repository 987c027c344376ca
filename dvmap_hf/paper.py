"""The paper's reference figures, in one table: the build report, the dataset card, the analyses and the
README quote them from here (a test checks the README against it), so a figure is corrected in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    value: float
    what: str
    where: str  # the paper's section
    percent: bool = False

    def __str__(self) -> str:
        return f"{self.value:.1%}" if self.percent else f"{self.value:g}"


FIGURES = {
    "shared_profiles": Figure(0.328, "samples whose demographic profile overlaps another's", "Sec. 4.1", True),
    "divergent_dropped": Figure(0.092, "divergent samples dropped by the consensus filter (H = 0)", "Sec. 4.1", True),
    "difficulty_r": Figure(-0.857, "Pearson r, answer entropy vs accuracy per question (DVMap)", "Sec. 5.3"),
    "semantic_r_average": Figure(-0.451, "Pearson r, cross-value accuracy gain vs average distance", "Sec. 5.5"),
    "semantic_r_nearest": Figure(-0.198, "Pearson r, cross-value accuracy gain vs nearest distance", "Sec. 5.5"),
}

#: Rows per config/split: the paper's counts; corpus validation/test from the released files (dev, test).
SIZES = {
    ("corpus", "train"): 41_813,
    ("corpus", "validation"): 7_183,
    ("corpus", "test"): 7_156,
    ("cross_demographic", "test"): 6_240,
    ("cross_country", "test"): 7_973,
    ("cross_value", "test"): 7_340,
}


def paper(name: str) -> str:
    """A figure as the kit quotes it: `paper("shared_profiles")` -> '32.8%'."""
    return str(FIGURES[name])
