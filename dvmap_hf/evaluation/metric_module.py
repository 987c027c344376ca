"""What the `evaluate` modules (`evaluate_metrics/`) share: the citation, the input features, the
`evaluate.Metric` base that reports them, and the numpy cores they compute with. Installed with the kit; on
a Hub Space, `dvmap push-metrics` uploads this file beside each module as `metric_module.py` and the cores
as `metrics_core.py` and `alignment_core.py`, so a module runs there without the kit."""

import datasets
import evaluate

CITATION = """\
@inproceedings{dvmap2026,
  title     = {Fine-Grained Pluralistic Value Alignment via High-Consensus Demographic-Value Mapping},
  booktitle = {Proceedings of the 64th Annual Meeting of the Association for Computational Linguistics (ACL)},
  year      = {2026},
  note      = {arXiv:2605.14420}
}
"""

#: Option indices arrive as floats, so that 1.7 reaches the core and is refused there, never truncated.
FEATURES = datasets.Features({"predictions": datasets.Value("float64"), "references": datasets.Value("float64")})
#: A distribution a row: the model's probabilities and the survey's answer counts, K values each.
DISTRIBUTION_FEATURES = datasets.Features(
    {
        "predictions": datasets.Sequence(datasets.Value("float64")),
        "references": datasets.Sequence(datasets.Value("float64")),
    }
)

#: The inputs every option-index module takes, heading its `inputs` text (the module adds its own after them).
INDEX_INPUTS = """
Args:
    predictions (`list` of `int`): predicted option indices, 0-based; -1 for an invalid answer. Whole
        numbers: 1.7 (or num_options 4.9) is an error, never truncated.
    references (`list` of `int`): real option indices, 0-based.
"""
#: With the per-group inputs of the distribution modules (WD, TV / JS).
GROUPED_INPUTS = (
    INDEX_INPUTS
    + """    num_options (`int` or `list` of `int`): K, one for all rows or one per row (constant within a group).
    groups (`list` of `str`, optional): the group of each row, e.g. "USA|Q1"; default: one group.
"""
)


def core():
    """The numpy core: the installed kit's `dvmap_hf.evaluation.metrics`, or on a Space its uploaded copy."""
    try:
        from dvmap_hf.evaluation import metrics
    except ImportError:
        import metrics_core as metrics
    return metrics


def alignment_core():
    """The per-row distribution core: the kit's `dvmap_hf.evaluation.alignment`, or on a Space its copy."""
    try:
        from dvmap_hf.evaluation import alignment
    except ImportError:
        import alignment_core as alignment
    return alignment


class DVMapMetric(evaluate.Metric):
    """An `evaluate.Metric` whose card text is the module's own description and inputs, given as class
    keywords (`class WD(DVMapMetric, description=..., inputs=...)`); they head its docstring too, as
    `evaluate`'s `add_start_docstrings` would put them."""

    description = ""
    inputs = ""
    features = FEATURES

    def __init_subclass__(cls, description: str = "", inputs: str = "", features=FEATURES, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.description, cls.inputs, cls.features = description, inputs, features
        cls.__doc__ = description + inputs + (cls.__doc__ or "")

    def _info(self):
        return evaluate.MetricInfo(
            description=self.description, citation=CITATION, inputs_description=self.inputs, features=self.features
        )
