"""Model backends for `dvmap eval`: each maps a batch of dataset rows to raw completions (strings).

- `transformers`: a local or Hub model, batched generation with left padding and the chat template;
- `vllm`: the same through vLLM (the `gpu` extra; imported only when asked for);
- `openai`: any OpenAI-compatible endpoint (what the authors' own evaluation used), bounded
  concurrency, retries with exponential backoff.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from ..data.prompts import PLAIN_DELIMITER, plain_prompt
from ..data.sampling import row_seed
from ..errors import DvmapError
from .config import InferenceConfig


class TransformersBackend:
    """Batched generation with a local or cached model: left padding, the model's chat template."""

    name = "transformers"
    fallbacks = 0

    def __init__(self, model, tokenizer, generation: InferenceConfig):
        """Around a model already in memory (one being trained, or loaded by `from_pretrained`)."""
        import torch

        self.model, self.tokenizer, self.generation, self.torch = model, tokenizer, generation, torch
        self.model.eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    @classmethod
    def from_pretrained(cls, model: str, generation: InferenceConfig) -> TransformersBackend:
        """A local folder or Hub id, in `generation.dtype`, on `generation.device`."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(model)
            dtype = generation.dtype if generation.dtype == "auto" else getattr(torch, generation.dtype)
            loaded = AutoModelForCausalLM.from_pretrained(model, dtype=dtype)
        except OSError as exc:
            raise DvmapError(f"cannot load model {model!r}: {exc}".splitlines()[0]) from exc
        return cls(loaded.to(generation.torch_device()), tokenizer, generation)

    @property
    def uses_chat_template(self) -> bool:
        """The tokenizer's chat template, unless there is none (a base model) or `--no-chat-template`."""
        return self.generation.chat_template and bool(self.tokenizer.chat_template)

    @property
    def prompt_format(self) -> str:
        return "chat template" if self.uses_chat_template else "plain concatenation (no chat template)"

    def render(self, prompts: Sequence[list[dict]]) -> list[str]:
        """The model's input text: the chat template with the assistant turn opened, or the messages'
        plain concatenation followed by a newline."""
        if not self.uses_chat_template:
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
    prompt_format = "chat messages (vLLM applies the model's chat template)"
    fallbacks = 0

    def __init__(self, model: str, generation: InferenceConfig):
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
    prompt_format = "chat messages (the endpoint applies its chat template)"
    fallbacks = 0
    first_backoff = 1.0  # seconds before the first retry; each next wait doubles, up to 30 s

    def __init__(self, model: str, generation: InferenceConfig, api_key: str | None = None):
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
        delay, last = self.first_backoff, "no attempt"
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
