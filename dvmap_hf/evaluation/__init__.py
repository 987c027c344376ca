"""`dvmap eval` and what it stands on: options, predictors (reference and model backends), log-likelihood
scoring, answer parsing, the paper's metrics, the runner, robustness and reports. Import the modules
themselves; this package imports nothing, so `dvmap --help` stays fast."""
