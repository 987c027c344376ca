"""Distribution alignment: each row's predicted answer distribution against its group's real answer counts."""

import evaluate  # noqa: F401  (the examples call evaluate.load; doctest runs them in this module)

try:  # a module, not its names: evaluate takes the first Metric class it finds here as the module's
    from dvmap_hf.evaluation import metric_module as shared
except ImportError:  # on a Hub Space, `dvmap push-metrics` uploads it beside this file
    import metric_module as shared

_DESCRIPTION = """\
One row per (profile, question): the model's probability for each of the K options (from option
log-likelihoods, k samples or a stated distribution) against the survey respondents' answer counts of that
profile, in the same option order. Per row: total variation, Jensen-Shannon distance (log base 2), the
ordinal Wasserstein distance divided by K - 1 and OpinionsQA's alignment (1 minus it), KL(survey || model) in
nats with the model smoothed as (p + 0.001) / (1 + 0.001 K), and the Brier score of the probability the model
puts on the survey's mode. Over rows: their means, SimBench's score 100 (1 - TV / TV of the uniform
distribution) and the expected calibration error of the mode probability (10 bins). With `floor=True`, the
human-noise floor (SubPOP): each row's counts against multinomial resamples of its own respondents.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): per row, the model's probability (or weight) of each option.
    references (`list` of `list` of `float`): per row, how many respondents chose each option (same length).
    floor (`bool`, optional): also return the human-noise floor (`floor_total_variation`, ...). Default False.
    seed (`int`, optional): seed of the floor's resamples. Default 0.
Returns:
    total_variation, jensen_shannon, wasserstein, kl, brier_mode, opinionsqa_alignment, simbench_score and
    ece_mode (`float` each); with floor, floor_total_variation, floor_jensen_shannon, floor_wasserstein.
Examples:
    Example 1: one 3-option row; the respondents split 2-1-1, the model says 50/30/20:
        >>> da = evaluate.load("evaluate_metrics/distribution_alignment")
        >>> result = da.compute(predictions=[[0.5, 0.3, 0.2]], references=[[2, 1, 1]])
        >>> round(result["total_variation"], 4), round(result["simbench_score"], 4)
        (0.05, 70.0)

    Example 2: a unanimous profile resamples to itself, so its floor is 0:
        >>> da.compute(predictions=[[0.9, 0.1]], references=[[3, 0]], floor=True)["floor_total_variation"]
        0.0
"""


class DistributionAlignment(
    shared.DVMapMetric,
    description=_DESCRIPTION,
    inputs=_KWARGS_DESCRIPTION,
    features=shared.DISTRIBUTION_FEATURES,
):
    def _compute(self, predictions, references, floor=False, seed=0):
        core = shared.alignment_core()
        num_options = [len(row) for row in references]
        result = core.summary(core.row_scores(predictions, references, num_options))
        if floor:
            floors = core.human_floor(references, num_options, seed=seed)
            result |= {f"floor_{name}": float(values.mean()) for name, values in floors.items()}
        return result
