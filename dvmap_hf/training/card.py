"""The model card a training run writes and pushes: the Hub's `ModelCardData` for the metadata (base model,
datasets, tags, and evaluation results in `model-index` form), and a short body saying what DVMap needs
to know: data, recipe, reward, final training metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..data.codebook import ATTRIBUTE_NAMES
from ..errors import DvmapError

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
    attributes: tuple[str, ...] = ATTRIBUTE_NAMES  # the profile's, as the training rows carry them


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
        attributes=", ".join(info.attributes),
        metric_rows="\n".join(f"| {k} | {v:.6g} |" for k, v in shown.items()) or "| (none logged) | |",
    )


#: the figures a card carries, as the Hub names metric types
CARD_METRICS = {
    "accuracy": "accuracy",
    "likert_consistency": "likert_consistency",
    "wasserstein_distance": "wasserstein_distance",
    "total_variation": "total_variation",
    "jensen_shannon": "jensen_shannon",
}


def eval_results(runs: list[dict]) -> list:
    """`EvalResult`s (the Hub's model-index) from the metrics.json of finished `dvmap eval` runs."""
    from huggingface_hub import EvalResult

    results = []
    for metrics in runs:
        run = metrics["run"]
        dataset = _hub_name(run["dataset"]) or "dvmap"
        for name, metric_type in CARD_METRICS.items():
            if name in metrics["overall"]:
                results.append(
                    EvalResult(
                        task_type="text-generation",
                        dataset_type=dataset,
                        dataset_name=f"DVMap {run['config']}",
                        dataset_config=run["config"],
                        dataset_split=run.get("split") or "test",
                        metric_type=metric_type,
                        metric_name=f"{name} ({run.get('scoring', 'generate')}, {run.get('match', 'strict')} match)",
                        metric_value=round(float(metrics["overall"][name]), 6),
                    )
                )
    return results


def with_eval_results(folder: str | Path, runs: list[dict]) -> Path:
    """Write the runs' results into the model folder's card (README.md), replacing earlier results of the
    same dataset, config, split and metric; a folder without a card gets a minimal one. Runs of a reference
    predictor or of another local model are refused: they do not describe this one."""
    from huggingface_hub import ModelCard, ModelCardData

    from ..io import atomic_file, model_folder

    folder = model_folder(folder)
    for metrics in runs:
        model = Path(metrics["run"]["model"])
        if metrics["run"].get("backend") == "reference":
            raise DvmapError(f"{model} is a reference predictor, not this model: its run cannot go into a card")
        if model.exists() and model.resolve() != folder.resolve():
            raise DvmapError(f"a run of {model} cannot go into the card of {folder}: evaluate {folder} itself")
    path = Path(folder) / "README.md"
    card = _read_card(path) if path.is_file() else ModelCard.from_template(ModelCardData(), template_str=_BARE)
    fresh = eval_results(runs)
    key = lambda r: (r.dataset_type, r.dataset_config, r.dataset_split, r.metric_type)  # noqa: E731
    kept = [r for r in card.data.eval_results or [] if key(r) not in {key(f) for f in fresh}]
    card.data.eval_results = kept + fresh
    card.data.model_name = card.data.model_name or Path(folder).resolve().name
    with atomic_file(path) as tmp:
        card.save(tmp)
    return path


def _read_card(path: Path):
    """The card at `path`, or one line naming it where its YAML header cannot be read (it is not rewritten:
    what else it holds is the user's)."""
    import yaml
    from huggingface_hub import ModelCard

    try:
        return ModelCard.load(path)
    except (yaml.YAMLError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise DvmapError(f"{path}: its YAML header cannot be read ({reason}); fix it and run again") from None


_BARE = "---\n{{ card_data }}\n---\n\n# {{ card_data.model_name or 'DVMap model' }}\n"
