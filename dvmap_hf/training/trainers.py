"""DVMap's TRL trainers: GRPO and SFT with a model card that says what DVMap needs, the SFT cold start's
completion-only loss (logits computed only where a completion token is predicted), and soft-target SFT toward
the survey's answer distribution (`soft_targets.py`)."""

from __future__ import annotations

from pathlib import Path

from transformers import Trainer
from trl import GRPOTrainer, SFTTrainer

from .card import RunInfo, final_metrics, model_card


class ModelCardMixin:
    """A model card that says what DVMap needs: base, data, recipe, reward, final metrics."""

    run_info: RunInfo | None = None

    def create_model_card(self, model_name=None, dataset_name=None, tags=None):
        if self.is_world_process_zero() and self.run_info is not None:
            card = model_card(self.run_info, final_metrics(self.state.log_history))
            card.save(Path(self.args.output_dir, "README.md"))


class DVMapGRPOTrainer(ModelCardMixin, GRPOTrainer):
    pass


class DVMapSFTTrainer(ModelCardMixin, SFTTrainer):
    token_metrics = True

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """TRL's loss with its entropy and token-accuracy metrics, or (`token_metrics: false`) the model's own
        causal-LM loss from the logits of the completion positions alone: on a CPU, projecting every prompt
        position onto the vocabulary to mask it away costs most of a small model's step."""
        if self.token_metrics:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        if return_outputs:  # evaluation asking for the logits: the model's full outputs
            return Trainer.compute_loss(self, model, inputs, return_outputs, num_items_in_batch)
        # what `Trainer.compute_loss` does with the count: a sum over the accumulated batch's tokens, times
        # the processes that average it (DDP averages gradients), or a plain mean
        items = num_items_in_batch if self.model_accepts_loss_kwargs else None
        loss = completion_loss(model, inputs, items)
        if self.args.average_tokens_across_devices and items is not None:
            loss = loss * (
                self.accelerator.num_processes // self.get_tp_size() if self.args.n_gpu <= 1 else self.args.n_gpu
            )
        return loss


class DVMapSoftTargetTrainer(DVMapSFTTrainer):
    """SFT whose loss is between the model's option distribution and the row's survey distribution; its batches
    come from `OptionsCollator` (every option of a row), its loss is a mean over rows (so the Trainer divides
    it over gradient accumulation itself)."""

    distribution_loss = "ce"
    model_accepts_loss_kwargs = False

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        from .soft_targets import distribution_loss, option_logprobs

        logprobs = option_logprobs(model, inputs)
        loss = distribution_loss(logprobs, inputs["targets"], self.distribution_loss)
        return (loss, {"option_logprobs": logprobs}) if return_outputs else loss


def completion_loss(model, inputs: dict, num_items_in_batch=None):
    """transformers' causal-LM loss (labels shifted left, -100 ignored), with logits computed only where the
    next token is a label (`logits_to_keep` as a boolean mask): summed over `num_items_in_batch` tokens when
    given, else averaged."""
    import torch.nn.functional as F

    targets = inputs.get("shift_labels")
    if targets is None:
        targets = F.pad(inputs["labels"][:, 1:], (0, 1), value=-100)
    scored = targets != -100
    features = {key: value for key, value in inputs.items() if key not in ("labels", "shift_labels")}
    logits = model(**features, use_cache=False, logits_to_keep=scored).logits
    if logits.shape != (int(scored.sum()), logits.shape[-1]):
        raise ValueError(
            f"token_metrics false: the model returned logits of shape {tuple(logits.shape)} for a boolean "
            "logits_to_keep mask (expected one row per label token); set token_metrics: true for this model"
        )
    loss = F.cross_entropy(logits.float(), targets[scored], reduction="mean" if num_items_in_batch is None else "sum")
    return loss if num_items_in_batch is None else loss / num_items_in_batch
