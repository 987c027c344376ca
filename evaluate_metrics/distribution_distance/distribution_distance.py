"""Distribution distances (total variation, Jensen-Shannon) between predicted and real answer distributions."""

import evaluate  # noqa: F401  (the examples call evaluate.load; doctest runs them in this module)

try:  # a module, not its names: evaluate takes the first Metric class it finds here as the module's
    from dvmap_hf.evaluation import metric_module as shared
except ImportError:  # on a Hub Space, `dvmap push-metrics` uploads it beside this file
    import metric_module as shared

_DESCRIPTION = """\
Per group (e.g. country x question), the predicted and the real answers give two probability
distributions over the group's K options. The module returns, averaged over groups, the total variation
0.5 * sum_k |p_k - q_k| and the Jensen-Shannon distance sqrt(JSD) with log base 2, both in [0, 1]. With
`probabilities` (each row's probability of every option, as log-likelihood scoring gives), the "soft"
versions compare the mean predicted probabilities of the group with the real answers. Neither distance
sees the order of the options (the Wasserstein module does). Invalid predictions (-1) are left out of the
predicted distribution; a group with no valid prediction counts as 1.
"""

_KWARGS_DESCRIPTION = (
    shared.GROUPED_INPUTS
    + """\
    probabilities (`list` of `list` of `float`, optional): each row's K option probabilities.
Returns:
    total_variation (`float`), jensen_shannon (`float`, log base 2); with probabilities also
    soft_total_variation (`float`) and soft_jensen_shannon (`float`).
Examples:
    Example 1: two rows of a 3-option question, one predicted right:
        >>> dd = evaluate.load("evaluate_metrics/distribution_distance")
        >>> dd.compute(predictions=[0, 2], references=[0, 1], num_options=3)["total_variation"]
        0.5
"""
)


class DistributionDistance(shared.DVMapMetric, description=_DESCRIPTION, inputs=_KWARGS_DESCRIPTION):
    def _compute(self, predictions, references, num_options=None, groups=None, probabilities=None):
        return shared.core().distribution_distances(predictions, references, num_options, groups, probabilities)
