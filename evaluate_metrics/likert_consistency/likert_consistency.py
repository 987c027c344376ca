"""Likert Consistency (DVMap, ACL 2026): closeness of a predicted option to the real one on an ordinal scale."""

import datasets
import evaluate

_CITATION = """\
@inproceedings{dvmap2026,
  title     = {Fine-Grained Pluralistic Value Alignment via High-Consensus Demographic-Value Mapping},
  booktitle = {Proceedings of the 64th Annual Meeting of the Association for Computational Linguistics (ACL)},
  year      = {2026},
  note      = {arXiv:2605.14420}
}
"""

_DESCRIPTION = """\
Likert Consistency LC = 1 - mean(|yhat - y| / (K - 1)) over rows, where yhat and y are 0-based option
indices on an ordered scale of K options. An invalid (unparseable) prediction, given as -1, scores 0.
LC is 1 for exact answers and falls linearly with the distance on the scale.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `int`): predicted option indices, 0-based; -1 for an invalid answer. Whole
        numbers: 1.7 (or num_options 4.9) is an error, never truncated.
    references (`list` of `int`): real option indices, 0-based.
    num_options (`int` or `list` of `int`): K, the number of options: one for all rows or one per row.
Returns:
    likert_consistency (`float`): in [0, 1].
    invalid_rate (`float`): share of predictions that were -1.
Examples:
    Example 1: one exact, one off by one of four options, one invalid:
        >>> lc = evaluate.load("evaluate_metrics/likert_consistency")
        >>> lc.compute(predictions=[0, 2, -1], references=[0, 1, 3], num_options=4)
        {'likert_consistency': 0.4444444444444444, 'invalid_rate': 0.3333333333333333}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class LikertConsistency(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("float64"), "references": datasets.Value("float64")}
            ),
        )

    def _compute(self, predictions, references, num_options=None):
        try:
            from dvmap_hf.evaluation.metrics import invalid_rate, likert_consistency
        except ImportError:  # on a Hub Space, `dvmap push-metrics` uploads the numpy core beside this file
            from metrics_core import invalid_rate, likert_consistency
        return {
            "likert_consistency": likert_consistency(predictions, references, num_options),
            "invalid_rate": invalid_rate(predictions),
        }
