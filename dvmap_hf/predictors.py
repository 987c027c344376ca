"""Everything `dvmap eval` can ask: LLM backends and reference predictors that need no LLM.

A predictor maps a batch of dataset rows to raw completions (strings). Reference predictors answer as
`<answer>option</answer>`, so every row goes through the same parser and metrics as an LLM's.

- `transformers`: local or Hub model, batched generation with left padding and the chat template;
- `vllm`: the same through vLLM (the `gpu` extra; imported only when asked for);
- `openai`: any OpenAI-compatible endpoint (what the authors' own evaluation used), bounded
  concurrency, retries with exponential backoff;
- `random`: a seeded uniform choice per row;
- `majority`: the most frequent answer of the corpus train split per country x question
  (per question where the country is unseen);
- `tabular`: one scikit-learn logistic regression per question on the one-hot 11 attributes of the
  corpus train split.
Rows a reference predictor cannot cover (a question absent from the corpus) fall back to `random`;
how many did is reported.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .codebook import ATTRIBUTE_NAMES
from .errors import DvmapError
from .eval_config import BACKENDS, REFERENCE_PREDICTORS, GenerationConfig
from .options import OptionError
from .prompts import answer_text


def row_seed(seed: int, row_id: str) -> int:
    return zlib.crc32(f"{seed}:{row_id}".encode())


class RandomPredictor:
    """Uniform over the row's options, seeded per row: the same answer whatever the batching."""

    name = "random"

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.fallbacks = 0

    def choose(self, row: dict) -> int:
        return int(np.random.default_rng(row_seed(self.seed, row["id"])).integers(len(row["options"])))

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        return [answer_text(row["options"][self.choose(row)]) for row in rows]


class MajorityPredictor(RandomPredictor):
    """Mode of the corpus train split per (country, question); per question if the country is unseen."""

    name = "majority"

    def __init__(self, train: pd.DataFrame, seed: int = 0):
        super().__init__(seed)
        by_pair = train.groupby(["country", "question_id"])["answer_index"].agg(_mode)
        by_question = train.groupby("question_id")["answer_index"].agg(_mode)
        self.by_pair, self.by_question = by_pair.to_dict(), by_question.to_dict()

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        out = []
        for row in rows:
            index = self.by_pair.get((row["country"], row["question_id"]), self.by_question.get(row["question_id"]))
            if index is None or index >= len(row["options"]):
                self.fallbacks += 1
                index = self.choose(row)
            out.append(answer_text(row["options"][int(index)]))
        return out


def _mode(values: pd.Series) -> int:
    counts = values.value_counts()
    return int(counts[counts == counts.max()].index.min())  # ties: the earlier option


class TabularPredictor(RandomPredictor):
    """One logistic regression per question on the one-hot 11 attributes of the corpus train split."""

    name = "tabular"

    def __init__(self, train: pd.DataFrame, seed: int = 0):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder

        super().__init__(seed)
        self.models = {}
        for question_id, part in train.groupby("question_id"):
            if part["answer_index"].nunique() < 2:
                self.models[question_id] = int(part["answer_index"].iloc[0])
                continue
            model = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=500))
            self.models[question_id] = model.fit(part[list(ATTRIBUTE_NAMES)], part["answer_index"])

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        frame = pd.DataFrame(rows)
        chosen = np.full(len(rows), -1)
        for question_id, index in frame.groupby("question_id").groups.items():
            model = self.models.get(question_id)
            if isinstance(model, int):
                chosen[index] = model
            elif model is not None:
                chosen[index] = model.predict(frame.loc[index, list(ATTRIBUTE_NAMES)])
        out = []
        for row, index in zip(rows, chosen):
            if index < 0 or index >= len(row["options"]):
                self.fallbacks += 1
                index = self.choose(row)
            out.append(answer_text(row["options"][int(index)]))
        return out


class TransformersBackend:
    """Batched generation with a local or cached model: left padding, the model's chat template."""

    name = "transformers"

    @classmethod
    def from_loaded(cls, model, tokenizer, generation: GenerationConfig) -> TransformersBackend:
        """A backend around a model already in memory (e.g. one being trained)."""
        import torch

        backend = cls.__new__(cls)
        backend.generation, backend.torch, backend.model, backend.tokenizer = generation, torch, model, tokenizer
        backend._prepare()
        return backend

    def __init__(self, model: str, generation: GenerationConfig):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.generation, self.torch = generation, torch
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model)
            dtype = generation.dtype if generation.dtype == "auto" else getattr(torch, generation.dtype)
            self.model = AutoModelForCausalLM.from_pretrained(model, dtype=dtype)
        except OSError as exc:
            raise DvmapError(f"cannot load model {model!r}: {exc}".splitlines()[0]) from exc
        self.model.to(generation.torch_device())
        self._prepare()

    def _prepare(self) -> None:
        self.model.eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    @property
    def uses_chat_template(self) -> bool:
        """The tokenizer's chat template, unless there is none (a base model) or `--no-chat-template`."""
        return self.generation.chat_template and bool(self.tokenizer.chat_template)

    def render(self, prompts: Sequence[list[dict]]) -> list[str]:
        """The model's input text: the chat template with the assistant turn opened, or the messages'
        plain concatenation followed by a newline."""
        if not self.uses_chat_template:
            from .loglik import PLAIN_DELIMITER, plain_prompt

            return [plain_prompt(messages) + PLAIN_DELIMITER for messages in prompts]
        return [
            self.tokenizer.apply_chat_template(
                list(messages),
                tokenize=False,
                add_generation_prompt=True,
                enable_thinking=self.generation.enable_thinking,
            )
            for messages in prompts
        ]

    def generate(self, prompts: Sequence[list[dict]], batch_seed: int) -> list[str]:
        gen = self.generation
        inputs = self.tokenizer(self.render(prompts), return_tensors="pt", padding=True, add_special_tokens=False)
        inputs = inputs.to(self.model.device)
        self.torch.manual_seed(batch_seed)
        with self.torch.no_grad():
            output = self.model.generate(
                **inputs,
                max_new_tokens=gen.max_new_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                **gen.sampling(),
            )
        return self.tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        return self.generate([row["prompt"] for row in rows], batch_seed)


class VLLMBackend:
    """vLLM generation (GPU). Imported only when asked for."""

    name = "vllm"

    def __init__(self, model: str, generation: GenerationConfig):
        try:
            from vllm import LLM, SamplingParams
        except ImportError as exc:
            raise DvmapError("the vllm backend needs vLLM: pip install -e '.[gpu]' (on a CUDA machine)") from exc
        self.generation = generation
        self.llm = LLM(model=model, seed=generation.seed)
        sampling = generation.sampling()
        self.params = SamplingParams(
            temperature=sampling.get("temperature", 0.0),
            top_p=sampling.get("top_p", 1.0),
            top_k=sampling.get("top_k", 0) or -1,  # vLLM's "off" is -1
            max_tokens=generation.max_new_tokens,
        )

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        kwargs = {"chat_template_kwargs": {"enable_thinking": self.generation.enable_thinking}}
        outputs = self.llm.chat([row["prompt"] for row in rows], self.params, use_tqdm=False, **kwargs)
        return [output.outputs[0].text for output in outputs]


class OpenAIBackend:
    """Any OpenAI-compatible /chat/completions endpoint, with bounded concurrency and retries."""

    name = "openai"

    def __init__(self, model: str, generation: GenerationConfig, api_key: str | None = None):
        import os
        import threading

        self.model, self.generation = model, generation
        self.stop = threading.Event()  # set by the first request that fails for good: the others give up
        base = generation.api_base or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.url = base.rstrip("/") + "/chat/completions"
        key = api_key or os.environ.get("OPENAI_API_KEY", "")
        self.headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}

    def _post(self, body: dict) -> tuple[int, str]:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.url, json.dumps(body).encode(), self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.generation.timeout) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def _one(self, messages: list[dict], seed: int) -> str:
        gen = self.generation
        sampling = gen.sampling()
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": gen.max_new_tokens,
            "seed": seed,
            "temperature": sampling.get("temperature", 0.0),
            "top_p": sampling.get("top_p", 1.0),
        }
        if sampling.get("top_k"):  # not an OpenAI parameter: sent only when asked for (vLLM servers take it)
            body["top_k"] = sampling["top_k"]
        delay, last = 1.0, "no attempt"
        for attempt in range(gen.max_retries + 1):
            if self.stop.is_set():
                raise DvmapError(f"endpoint {self.url}: stopped, another request of the batch failed")
            try:
                status, text = self._post(body)
                if status == 200:
                    return json.loads(text)["choices"][0]["message"]["content"] or ""
                last = f"HTTP {status}: {text[:200]}"
                if status not in (408, 409, 429) and status < 500:
                    break  # a client error will not go away by asking again
            except Exception as exc:  # connection refused, timeouts, bad JSON
                last = f"{type(exc).__name__}: {exc}"
                if _no_server(exc):
                    break  # nothing listens there: asking again only waits
            if attempt < gen.max_retries and self.stop.wait(delay):  # no wait after the last attempt
                break
            delay = min(delay * 2, 30.0)
        self.stop.set()
        raise DvmapError(f"endpoint {self.url} failed ({last}); after {attempt + 1} attempt(s)")

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        self.stop.clear()
        seeds = [row_seed(self.generation.seed, row["id"]) for row in rows]
        with ThreadPoolExecutor(max(1, self.generation.concurrency)) as pool:
            return list(pool.map(self._one, [row["prompt"] for row in rows], seeds))


def _no_server(exc: Exception) -> bool:
    """A refused connection or an unknown host: no server, as opposed to a slow or busy one."""
    import socket
    import urllib.error

    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


def make_predictor(
    model: str, dataset: str, generation: GenerationConfig, backend: str = "transformers", scoring: str = "generate"
) -> Any:
    """`model` is a reference predictor name, or a model for `backend`; `scoring` generate (a sampled
    completion) or loglik (each option's log-likelihood, `dvmap_hf.loglik`)."""
    if scoring == "loglik":
        from .loglik import LoglikScorer, VLLMLoglikScorer

        if model in REFERENCE_PREDICTORS or backend == "openai":
            raise OptionError("scoring", "loglik needs the model's token probabilities: a transformers or vllm model")
        inner = make_predictor(model, dataset, generation, backend)
        return (LoglikScorer if backend == "transformers" else VLLMLoglikScorer)(inner)
    if model in REFERENCE_PREDICTORS:
        if model == "random":
            return RandomPredictor(generation.seed)
        from .dataset_folder import load_split

        train = load_split(dataset, "corpus", "train").to_pandas()
        return (MajorityPredictor if model == "majority" else TabularPredictor)(train, generation.seed)
    if backend == "transformers":
        from .dataset_folder import hub_offline, looks_like_hub_id

        if not Path(model).exists() and (not looks_like_hub_id(model) or hub_offline()):
            where = "the Hub is off (HF_HUB_OFFLINE)" if looks_like_hub_id(model) else "it is not a Hub id"
            raise DvmapError(f"model path {model!r} does not exist ({where})")
        return TransformersBackend(model, generation)
    if backend == "vllm":
        return VLLMBackend(model, generation)
    if backend == "openai":
        return OpenAIBackend(model, generation)
    raise OptionError("backend", f"must be one of {', '.join(BACKENDS)}, not {backend!r}")
