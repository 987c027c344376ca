"""Likert Consistency (DVMap, ACL 2026): closeness of a predicted option to the real one on an ordinal scale."""

import evaluate  # noqa: F401  (the examples call evaluate.load; doctest runs them in this module)

try:  # a module, not its names: evaluate takes the first Metric class it finds here as the module's
    from dvmap_hf.evaluation import metric_module as shared
except ImportError:  # on a Hub Space, `dvmap push-metrics` uploads it beside this file
    import metric_module as shared

_DESCRIPTION = """\
Likert Consistency LC = 1 - mean(|yhat - y| / (K - 1)) over rows, where yhat and y are 0-based option
indices on an ordered scale of K options. An invalid (unparseable) prediction, given as -1, scores 0.
LC is 1 for exact answers and falls linearly with the distance on the scale.
"""

_KWARGS_DESCRIPTION = (
    shared.INDEX_INPUTS
    + """\
    num_options (`int` or `list` of `int`): K, the number of options: one for all rows or one per row.
Returns:
    likert_consistency (`float`): in [0, 1].
    invalid_rate (`float`): share of predictions that were -1.
Examples:
    Example 1: one exact, one off by one of four options, one invalid:
        >>> lc = evaluate.load("evaluate_metrics/likert_consistency")
        >>> lc.compute(predictions=[0, 2, -1], references=[0, 1, 3], num_options=4)
        {'likert_consistency': 0.5555555555555556, 'invalid_rate': 0.3333333333333333}
"""
)


class LikertConsistency(shared.DVMapMetric, description=_DESCRIPTION, inputs=_KWARGS_DESCRIPTION):
    def _compute(self, predictions, references, num_options=None):
        metrics = shared.core()
        return {
            "likert_consistency": metrics.likert_consistency(predictions, references, num_options),
            "invalid_rate": metrics.invalid_rate(predictions),
        }
