"""The model card a training run writes and pushes: the Hub's `ModelCardData` for the metadata (base model,
datasets, tags, and evaluation results in `model-index` form), and a short body saying what DVMap needs
to know: data, recipe, reward, final training metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..data.codebook import ATTRIBUTE_NAMES

PAPER = "https://arxiv.org/abs/2605.14420"

TEMPLATE = """---
{{ card_data }}
---

# {{ model_name }}

Trained with dvmap-hf ({{ method }} on TRL) to answer World Values Survey questions as the demographic
profile in the prompt would ([DVMap]({{ paper }}), ACL 2026).

- Base model: `{{ base }}`
- Dataset: `{{ dataset }}`, config `{{ config }}`
- Method: {{ method }} (TRL); recipe: `{{ recipe }}`
- Reward: {{ reward }}
- Attributes in the prompt: {{ attributes }}

## Final training metrics

| metric | value |
|---|---|
{{ metric_rows }}

Evaluate with `dvmap eval --model <this repo> --dataset <dataset> --config cross_demographic`.
"""


@dataclass
class RunInfo:
    """What a card says about the run beyond its logs."""

    base_model: str
    dataset: str
    config: str
    recipe: str | None = None
    rewards: list[str] = field(default_factory=list)
    weights: list[float] | None = None
    method: str = "GRPO"


def final_metrics(log_history: list[dict]) -> dict:
    """The last logged value of each training metric (loss, each reward, ...)."""
    metrics: dict = {}
    for entry in log_history:
        metrics.update({k: v for k, v in entry.items() if isinstance(v, int | float)})
    return metrics


def _hub_name(name: str) -> str | None:
    """A Hub id as the metadata should name it; a local path is not one."""
    from ..data.folder import looks_like_hub_id

    return name if looks_like_hub_id(name) and not Path(name).exists() else None


def model_card(info: RunInfo, metrics: dict, eval_results: list | None = None):
    """The card (`huggingface_hub.ModelCard`); `eval_results` are `EvalResult`s for the Hub's model-index."""
    from huggingface_hub import ModelCard, ModelCardData

    weights = info.weights or [1.0] * len(info.rewards)
    reward = " + ".join(f"{w:g} * {name}" for name, w in zip(info.rewards, weights, strict=True)) or "(none: SFT)"
    shown = {k: v for k, v in sorted(metrics.items()) if k.startswith(("train", "loss", "reward", "epoch"))}
    name = f"{Path(info.base_model).name}-DVMap ({info.method})"
    data = ModelCardData(
        base_model=_hub_name(info.base_model),
        datasets=[d] if (d := _hub_name(info.dataset)) else None,
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=["dvmap", "pluralistic-alignment", "trl", info.method.lower()],
        model_name=name if eval_results else None,
        eval_results=eval_results or None,
    )
    return ModelCard.from_template(
        data,
        template_str=TEMPLATE,
        model_name=name,
        paper=PAPER,
        base=info.base_model,
        dataset=info.dataset,
        config=info.config,
        method=info.method,
        recipe=info.recipe or "command line",
        reward=reward,
        attributes=", ".join(ATTRIBUTE_NAMES),
        metric_rows="\n".join(f"| {k} | {v:.6g} |" for k, v in shown.items()) or "| (none logged) | |",
    )
