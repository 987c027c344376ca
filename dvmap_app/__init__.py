"""The application layer: the `dvmap` command and the quickstart.

It sits above the two libraries and is the only place that uses both: `dvmap_hf` (the core: codebook,
WVS reader, prompts, rewards, metrics, evaluation, training) and `dataset_builder` (the Hub dataset, built
on the core). Neither library imports this package.
"""
