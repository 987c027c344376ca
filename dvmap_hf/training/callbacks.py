"""Training callbacks: the held-out accuracy that makes a learning curve."""

from __future__ import annotations

import contextlib

from transformers import Trainer, TrainerCallback


class HeldOutAccuracy(TrainerCallback):
    """Greedy accuracy on a fixed held-out sample at the start, every `every` steps and at the last step,
    logged as `heldout_accuracy` through `transformers.Trainer.log` (so TensorBoard, W&B and the log
    history all see it). The same generation and parser as `dvmap eval`. Like TRL's own completion-logging
    callbacks, it is given the trainer it reports to."""

    def __init__(self, trainer, rows: list[dict], every: int, max_new_tokens: int = 12):
        self.trainer, self.rows, self.every, self.max_new_tokens = trainer, rows, max(1, every), max_new_tokens

    def measure(self, model, tokenizer) -> float:
        """Greedy accuracy on the rows; the random streams are restored after, so that watching a run does
        not change it (generation reseeds torch per batch). Under ZeRO-3 every rank gathers the whole
        parameters for it, as TRL does for GRPO's own generation (without a trainer: the model as given)."""
        import torch

        from ..evaluation.backends import TransformersBackend
        from ..evaluation.config import InferenceConfig
        from ..evaluation.parsing import parse_answer

        side, was_training = tokenizer.padding_side, model.training
        generation = InferenceConfig(max_new_tokens=self.max_new_tokens, greedy=True)
        try:
            with torch.random.fork_rng(), self._whole(model) as whole:
                backend = TransformersBackend(whole, tokenizer, generation)
                completions = [c for i in range(0, len(self.rows), 32) for c in backend(self.rows[i : i + 32])]
        finally:
            tokenizer.padding_side = side
            model.train(was_training)
        hits = [
            parse_answer(c, r["options"]) == r["answer_index"] for c, r in zip(completions, self.rows, strict=True)
        ]
        return sum(hits) / len(hits)

    def _whole(self, model):
        if self.trainer is None:
            return contextlib.nullcontext(model)
        from trl.models import unwrap_model_for_generation

        return unwrap_model_for_generation(self.trainer.model_wrapped, self.trainer.accelerator)

    def _log(self, control, model, tokenizer):
        # The base class's log, not TRL's override: GRPOTrainer.log and SFTTrainer.log also average and clear
        # their own metrics, which would cut their reward and loss curves at this callback's steps. And a log
        # clears `should_log`, which would drop the trainer's own log of this step: it is kept as it was.
        should_log = control.should_log
        Trainer.log(self.trainer, {"heldout_accuracy": self.measure(model, tokenizer)})
        control.should_log = should_log
        return control

    def on_train_begin(self, args, state, control, model=None, processing_class=None, **kwargs):
        return self._log(control, model, processing_class)

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if state.global_step % self.every == 0 or state.global_step == state.max_steps:
            return self._log(control, model, processing_class)
        return control
