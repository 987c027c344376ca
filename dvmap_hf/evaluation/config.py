"""What `dvmap eval` and `dvmap robustness` ask and how they generate: `EvalConfig` and `InferenceConfig`,
each field declared once (default, help, allowed values) for the library and the command line alike.

A light module (no numpy, pandas or torch): the command line builds its options from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..options import OptionError, at_least, check_choices, one_of, option

#: The answers and distributions that need no LLM (`reference.py`); the first three are the paper-style table's
REFERENCE_PREDICTORS = ("random", "majority", "tabular", "marginal", "nearest", "scale")
TABLE_REFERENCES = REFERENCE_PREDICTORS[:3]
FITTED_PREDICTORS = REFERENCE_PREDICTORS[1:]  # fitted on a corpus split (`--reference-split`)
BACKENDS = ("transformers", "vllm", "openai")
SCORINGS = ("generate", "loglik", "stated")
PROFILE_MODES = ("own", "shuffled")
MATCH_RULES = ("strict", "release")
DTYPES = ("auto", "float32", "bfloat16", "float16")  # how an answer is matched to an option: `parsing.py`


#: The fewest bootstrap resamples behind a 95% interval: below 40 its 2.5% and 97.5% tails hold no draw,
#: and the "interval" is only the range of the draws.
MIN_RESAMPLES = 40
#: More resamples than this move a 95% interval's ends by far less than the data's own error (1,000-2,000
#: suffice, Efron & Tibshirani 1993) and take minutes to hours: 10,000 add ~0.5 s on the released test split.
MAX_RESAMPLES = 100_000


def check_resamples(name: str, resamples: int, none_allowed: bool = False) -> None:
    """Refuse a resample count too small to place a 95% interval (0, for none, where `none_allowed`), or
    so large it would run for hours to no purpose."""
    if resamples == 0 and none_allowed:
        return
    if resamples > MAX_RESAMPLES:
        raise OptionError(name, f"must be <= {MAX_RESAMPLES:,}, not {resamples:,}: more change no interval")
    if resamples < MIN_RESAMPLES:
        least = f"0 (no intervals) or >= {MIN_RESAMPLES}" if none_allowed else f">= {MIN_RESAMPLES}"
        raise OptionError(
            name, f"must be {least}, not {resamples}: a 95% interval's tails need {MIN_RESAMPLES} resamples"
        )


@dataclass
class InferenceConfig:
    max_new_tokens: int = option(1024, "tokens per completion (the authors' evaluation: max_tokens=1024)")
    temperature: float = option(0.7, "sampling temperature (the paper's and the authors' evaluation)")
    top_p: float = option(1.0, "nucleus sampling; explicit, so no backend falls back on a model's own (Qwen3: 0.95)")
    top_k: int = option(0, "top-k sampling, 0 = off; explicit for the same reason (Qwen3: 20; openai: sent if set)")
    greedy: bool = option(False, "greedy decoding instead of sampling")
    enable_thinking: bool = option(False, "Qwen3 thinking mode (off: the structured CoT is in the visible answer)")
    chat_template: bool = option(
        True,
        "transformers backend: plain concatenation of the messages even when the model has a chat template",
        flag="--no-chat-template",
    )
    seed: int = option(0, "sampling seed (and the seed of --limit's sample)")
    batch_size: int = option(8, "rows per batch")
    concurrency: int = option(8, "openai backend: requests in flight")
    max_retries: int = option(3, "openai backend: retries after a 5xx, 429 or timeout (with backoff)")
    timeout: float = option(60.0, "openai backend: seconds one request may take")
    api_base: str | None = option(None, "openai backend: base URL (default: $OPENAI_BASE_URL)")
    dtype: str = option("auto", "transformers backend: the weights' dtype", choices=DTYPES)
    device: str = option("auto", "transformers backend: auto (cuda when there is one, else cpu), cuda:1 ...")
    tensor_parallel_size: int = option(1, "vllm backend: GPUs one copy of the model is split over")
    gpu_memory_utilization: float = option(0.9, "vllm backend: share of each GPU's memory vLLM may take")
    max_model_len: int | None = option(None, "vllm backend: context length (default: the model's own)", parse=int)

    def __post_init__(self) -> None:
        for name in ("max_new_tokens", "batch_size", "concurrency", "tensor_parallel_size", "max_model_len"):
            at_least(name, getattr(self, name))
        at_least("max_retries", self.max_retries, 0)
        at_least("top_k", self.top_k, 0)
        if not self.timeout > 0:
            raise OptionError("timeout", f"must be > 0, not {self.timeout}")
        if not self.greedy and not self.temperature > 0:
            raise OptionError("temperature", f"must be > 0, not {self.temperature} (for greedy decoding: --greedy)")
        if not 0 < self.top_p <= 1:
            raise OptionError("top_p", f"must be in (0, 1], not {self.top_p}")
        if not 0 < self.gpu_memory_utilization <= 1:
            raise OptionError("gpu_memory_utilization", f"must be in (0, 1], not {self.gpu_memory_utilization}")
        one_of("dtype", self.dtype, DTYPES)
        if not (self.device in ("auto", "cpu", "mps") or self.device.split(":")[0] == "cuda"):
            raise OptionError("device", f"must be auto, cpu, mps, cuda or cuda:N, not {self.device!r}")

    def torch_device(self) -> str:
        import torch

        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise OptionError("device", f"is {self.device!r}, but this torch sees no CUDA device (use cpu or auto)")
        return ("cuda" if torch.cuda.is_available() else "cpu") if self.device == "auto" else self.device

    def identity(self) -> dict:
        """What must not change between an interrupted run and its resumption."""
        keys = ("max_new_tokens", "temperature", "top_p", "top_k", "greedy", "enable_thinking", "seed")
        keys += ("chat_template",)
        return {k: getattr(self, k) for k in keys}

    def sampling(self) -> dict:
        """The sampling settings every backend sends, whatever the model's own generation config says."""
        if self.greedy:
            return {"do_sample": False}
        return {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k}


@dataclass
class EvalConfig:
    model: str = option(
        help="model folder / Hub id, an endpoint's model (openai), or a reference: " + " | ".join(REFERENCE_PREDICTORS)
    )
    dataset: str = option("dvmap", "dataset folder or Hub id")
    config: str = option("cross_demographic", "config to evaluate on")
    split: str | None = option(None, "split (default: test, or the config's only split)")
    backend: str = option("transformers", "how to run --model (reference predictors need none)", choices=BACKENDS)
    limit: int | None = option(None, "a seeded sample of N rows, in dataset order (same seed, same rows)", parse=int)
    generation: InferenceConfig = field(default_factory=InferenceConfig)
    match: str = option(
        "strict",
        "answer matching: strict (the exact option) or release (the authors' script: also an answer containing "
        "exactly one option); metrics.json reports accuracy under both",
        choices=MATCH_RULES,
    )
    scoring: str = option(
        "generate",
        "generate (a sampled completion, parsed), loglik (each option's log-likelihood; transformers and vllm) or "
        "stated (the model states a percentage per option: its answer distribution)",
        choices=SCORINGS,
    )
    samples: int = option(1, "completions per row (generate): k > 1 scores the k answers' shares as a distribution")
    profiles: str = option(
        "own",
        "own, or shuffled: the conditioning control, each row asked with another profile's prompt on its question",
        choices=PROFILE_MODES,
    )
    reference_split: str = option(
        "train", "the corpus split majority and tabular are fitted on (an imported release may have no train)"
    )
    bootstrap: int = option(1000, "resamples of the profile bootstrap behind every interval (0 = none)")
    repair: bool = option(False, "drop unusable lines of predictions.jsonl and ask those rows again")

    def __post_init__(self) -> None:
        check_choices(self)
        at_least("limit", self.limit)
        check_resamples("bootstrap", self.bootstrap, none_allowed=True)
        at_least("samples", self.samples)
        if self.samples > 1 and (self.scoring != "generate" or self.generation.greedy):
            raise OptionError("samples", "draws several sampled completions: it needs --scoring generate, not greedy")
        if (self.samples > 1 or self.scoring == "stated") and self.model in REFERENCE_PREDICTORS:
            raise OptionError("samples" if self.samples > 1 else "scoring", "asks a model: reference predictors give "
                              "their distribution already")  # fmt: skip
        evaluated = self.split or "test"
        if self.model in FITTED_PREDICTORS and self.config == "corpus" and self.reference_split == evaluated:
            raise OptionError("reference_split", f"is the evaluated split ({evaluated!r}): fit on another one")

    @property
    def batch_seeded(self) -> bool:
        """Whether sampling draws from a seed per batch (transformers generation), so that the batch size is
        part of the run: reference predictors, openai and vllm (a seed per row), greedy decoding and
        log-likelihood scoring give every row the same answer whatever the batch."""
        sampled = not self.generation.greedy and self.scoring != "loglik"
        return self.model not in REFERENCE_PREDICTORS and self.backend == "transformers" and sampled

    def identity(self) -> dict:
        backend = "reference" if self.model in REFERENCE_PREDICTORS else self.backend
        return {
            "model": self.model,
            "dataset": str(self.dataset),
            "config": self.config,
            "split": self.split,
            "backend": backend,
            "limit": self.limit,
            "match": self.match,
            **({"reference_split": self.reference_split} if self.model in FITTED_PREDICTORS else {}),
            **({"batch_size": self.generation.batch_size} if self.batch_seeded else {}),
            "scoring": self.scoring,
            **({"samples": self.samples} if self.samples > 1 else {}),
            **({"profiles": self.profiles} if self.profiles != "own" else {}),
            "generation": self.generation.identity(),
        }
