"""GRPO and SFT on TRL: script arguments, rewards, the held-out accuracy callback, the model card, the
trainers and the `accelerate launch -m dvmap_hf.training.grpo|sft` entry points, and the tiny CPU model.
Import the modules themselves; this package imports nothing (TRL is heavy)."""
