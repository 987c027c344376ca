"""The rows a training run sees: a dataset folder's (or Hub id's) splits in TRL's conversational format."""

from __future__ import annotations

from ..data.folder import load_split
from ..data.prompts import target_completion


def load_training_data(script_args, with_eval: bool):
    """Train (and eval) splits of a dataset folder or Hub id, in TRL's conversational format."""
    train = load_split(script_args.dataset_name, script_args.dataset_config, script_args.dataset_train_split)
    if script_args.shuffle_seed is not None:
        train = train.shuffle(seed=script_args.shuffle_seed)
    if script_args.max_train_samples is not None:
        train = train.select(range(min(script_args.max_train_samples, len(train))))
    evaluation = None
    if with_eval:
        evaluation = load_split(script_args.dataset_name, script_args.dataset_config, script_args.dataset_test_split)
    return train, evaluation


def to_prompt_completion(row: dict) -> dict:
    """TRL's conversational prompt-completion format for the cold start: the loss is on the answer only,
    written in the format the row's system message asks for."""
    return {"completion": [{"role": "assistant", "content": target_completion(row["prompt"], row["answer"])}]}
