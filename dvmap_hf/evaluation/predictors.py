"""What `dvmap eval` can ask, and the one interface the runner uses: `Predictor`.

A predictor maps a batch of dataset rows to completions: strings, or for log-likelihood scoring records
that carry each option's probability. Reference predictors (`reference.py`) need no LLM; model backends
(`backends/`) generate; `loglik.py` scores the options instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import DvmapError
from ..options import OptionError
from .config import BACKENDS, REFERENCE_PREDICTORS, EvalConfig, InferenceConfig

if TYPE_CHECKING:
    from ..data.folder import DatasetSource


@runtime_checkable
class Predictor(Protocol):
    """The runner's view of a predictor."""

    #: short name, for logs and reports
    name: str
    #: how the prompts reach the model, as the report says it ("chat template", "plain concatenation", ...)
    prompt_format: str
    #: the fewest rows a call should carry (0: `--batch-size` decides): vectorised reference predictors and
    #: vLLM, which schedules inside a call, want large calls whatever `--batch-size` says
    rows_per_call: int

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str | dict]:
        """One completion per row, in order; `batch_seed` seeds the batch's sampling. A dict completion
        carries what was scored beside it (`distribution`; `fallback`: a reference answered at random)."""
        ...


@runtime_checkable
class StreamingPredictor(Predictor, Protocol):
    """A predictor whose rows are independent (a seed per row) and that can keep a window of them in flight
    over the whole run: the runner hands it every row to do and writes each as it finishes, instead of
    waiting for the slowest row of every batch (the openai backend)."""

    def stream(self, rows: list[dict]) -> Iterator[tuple[int, str | dict]]:
        """(position in `rows`, completion) for every row, in the order they finish."""
        ...


def make_predictor(spec: EvalConfig, dataset: DatasetSource | None = None) -> Predictor:
    """The predictor `spec` asks for: a reference predictor (fitted on the corpus's `reference_split` of
    `dataset`, found from `spec.dataset` unless the run found it already), or `spec.model` run by
    `spec.backend`, generating or (`scoring: loglik`) scoring each option."""
    if spec.scoring == "loglik" and (spec.model in REFERENCE_PREDICTORS or spec.backend == "openai"):
        raise OptionError("scoring", "loglik needs the model's token probabilities: a transformers or vllm model")
    if spec.model in REFERENCE_PREDICTORS:
        return _reference(spec.model, dataset or spec.dataset, spec.generation.seed, spec.reference_split)
    backend = _backend(spec.model, spec.backend, spec.generation)
    if spec.scoring == "loglik":
        from .loglik import LoglikScorer, VLLMLoglikScorer

        return (LoglikScorer if spec.backend == "transformers" else VLLMLoglikScorer)(backend)
    from .routes import SampledPredictor, StatedPredictor

    if spec.scoring == "stated":
        return StatedPredictor(backend)
    return SampledPredictor(backend, spec.samples, spec.match) if spec.samples > 1 else backend


def _backend(model: str, backend: str, generation: InferenceConfig) -> Predictor:
    if backend == "transformers":
        from ..data.folder import hub_offline, looks_like_hub_id
        from .backends import TransformersBackend

        if not Path(model).exists() and (not looks_like_hub_id(model) or hub_offline("model")):
            where = "the Hub is off (HF_HUB_OFFLINE)" if looks_like_hub_id(model) else "it is not a Hub id"
            raise DvmapError(f"model path {model!r} does not exist ({where})")
        return TransformersBackend.from_pretrained(model, generation)
    if backend == "vllm":
        from .backends import VLLMBackend

        return VLLMBackend(model, generation)
    if backend == "openai":
        from .backends import OpenAIBackend

        return OpenAIBackend(model, generation)
    raise OptionError("backend", f"must be one of {', '.join(BACKENDS)}, not {backend!r}")


def _reference(model: str, dataset: str | DatasetSource, seed: int, reference_split: str) -> Predictor:
    from . import reference

    if model == "random":
        return reference.RandomPredictor(seed)
    from ..data.folder import load_split

    train = load_split(dataset, "corpus", reference_split).to_pandas()
    return reference.FITTED[model](train, seed)
