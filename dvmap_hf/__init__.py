"""dvmap-hf: the DVMap corpus, benchmark, rewards and metrics as Hugging Face-native building blocks."""

__version__ = "0.1.0"
