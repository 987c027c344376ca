"""Wasserstein Distance (DVMap, ACL 2026) between predicted and real answer distributions on ordered options."""

import evaluate  # noqa: F401  (the examples call evaluate.load; doctest runs them in this module)

try:  # a module, not its names: evaluate takes the first Metric class it finds here as the module's
    from dvmap_hf.evaluation import metric_module as shared
except ImportError:  # on a Hub Space, `dvmap push-metrics` uploads it beside this file
    import metric_module as shared

_DESCRIPTION = """\
Per group (e.g. country x question), the predicted and the real answers give two probability
distributions over the K ordered option positions; WD = sum_k |CDF_pred(k) - CDF_real(k)|, the 1-D earth
mover's distance with unit spacing, averaged over groups. With normalize=True (default) each group's
distance is divided by K - 1 (as OpinionsQA and SubPOP do), so WD lies in [0, 1]; normalize=False gives
the paper's raw formula. Mass sits on ordered positions: permuting the options changes the value.
Invalid predictions (-1) are left out of the predicted distribution and reported; a group with no valid
prediction counts as the largest distance.
"""

_KWARGS_DESCRIPTION = (
    shared.GROUPED_INPUTS
    + """\
    normalize (`bool`, optional): divide by K - 1 (default True).
Returns:
    wasserstein_distance (`float`): mean over groups.
    groups (`int`), groups_without_valid_prediction (`int`), invalid_rate (`float`).
Examples:
    Example 1: point masses at the two ends of a 4-point scale:
        >>> wd = evaluate.load("evaluate_metrics/wasserstein_distance")
        >>> wd.compute(predictions=[0, 0], references=[3, 3], num_options=4)["wasserstein_distance"]
        1.0
"""
)


class WassersteinDistance(shared.DVMapMetric, description=_DESCRIPTION, inputs=_KWARGS_DESCRIPTION):
    def _compute(self, predictions, references, num_options=None, groups=None, normalize=True):
        return shared.core().wasserstein_distance(predictions, references, num_options, groups, normalize)
