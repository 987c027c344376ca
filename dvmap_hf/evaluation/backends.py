"""Model backends for `dvmap eval`: each maps a batch of dataset rows to raw completions (strings).

- `transformers`: a local or Hub model, batched generation with the chat template, shared prompt text read once;
- `vllm`: the same through vLLM (the `gpu` extra; imported only when asked for);
- `openai`: any OpenAI-compatible endpoint (what the authors' own evaluation used), bounded
  concurrency, retries with exponential backoff.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ..data.prompts import PLAIN_DELIMITER, plain_prompt
from ..data.sampling import row_seed
from ..errors import DvmapError
from ..redact import redact, redact_url
from .config import InferenceConfig
from .prefix import PrefixCache

_log = logging.getLogger("dvmap.evaluation")
#: The longest a 429 / 503's Retry-After is honoured, in seconds: past it the kit waits this long and says so.
MAX_RETRY_AFTER = 60.0


class TransformersBackend:
    """Batched generation with a local or cached model and its chat template; what prompts share is read once."""

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
        self.prefix = PrefixCache(model)  # the last prompt read, for the next batch (generation and loglik)

    @classmethod
    def from_pretrained(cls, model: str, generation: InferenceConfig) -> TransformersBackend:
        """A local folder or Hub id, in `generation.dtype`, on `generation.device`."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        check_model_files(model)
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

    #: the least prompt tokens per row that sharing must save (below it, a plain left-padded batch is cheaper)
    min_shared_prefix = 32

    def generate(self, prompts: Sequence[list[dict]], batch_seed: int) -> list[str]:
        """Completions of a batch. Its prompts but each one's last token are read through the `PrefixCache`
        (what they share with each other and with the previous batch, once); then every row's keys and values
        are laid side by side, padded in the middle, and generation starts from the last tokens (greedy
        completions equal the left-padded batch's; tested)."""
        gen = self.generation
        ids = [self.tokenizer(text, add_special_tokens=False)["input_ids"] for text in self.render(prompts)]
        inputs = self._shared_inputs(ids) or self._left_padded(ids)
        self.torch.manual_seed(batch_seed)
        with self.torch.no_grad():
            output = self.model.generate(
                **inputs, max_new_tokens=gen.max_new_tokens, pad_token_id=self.tokenizer.pad_token_id, **gen.sampling()
            )
        return self.tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)

    def _left_padded(self, ids: list[list[int]]) -> dict:
        width, pad = max(map(len, ids)), self.tokenizer.pad_token_id
        return self._tensors(
            [[pad] * (width - len(x)) + x for x in ids], [[0] * (width - len(x)) + [1] * len(x) for x in ids]
        )

    def _shared_inputs(self, ids: list[list[int]]) -> dict | None:
        """Generation's inputs with every row's prompt but its last token in its `cache`, or None when
        the model carries no cache or sharing would save too little."""
        if not self.prefix.carries:
            return None
        tree = self.prefix.plan([x[:-1] for x in ids], own=0)
        if sum(map(len, ids)) - len(ids) - len(tree.tokens) < self.min_shared_prefix * len(ids):
            return None
        from transformers import DynamicCache

        _, layers = self.prefix.read(tree)
        chains = [tree.chain(r) for r in range(len(ids))]
        width, pad = max(map(len, chains)), self.tokenizer.pad_token_id
        index = self.torch.tensor([c + [0] * (width - len(c)) for c in chains], device=self.model.device)
        inputs = self._tensors(
            [x[:-1] + [pad] * (width - len(x) + 1) + x[-1:] for x in ids],
            [[1] * (len(x) - 1) + [0] * (width - len(x) + 1) + [1] for x in ids],
        )
        # [1, heads, positions, dim] -> each row's own positions: [rows, heads, width, dim]
        rows = [(k[0][:, index].transpose(0, 1), v[0][:, index].transpose(0, 1)) for k, v in layers]
        inputs["cache"] = DynamicCache(ddp_cache_data=rows)
        return inputs

    def _tensors(self, input_ids: list[list[int]], attention_mask: list[list[int]]) -> dict:
        device = self.model.device
        return {
            "input_ids": self.torch.tensor(input_ids, device=device),
            "attention_mask": self.torch.tensor(attention_mask, device=device),
        }

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        return self.generate([row["prompt"] for row in rows], batch_seed)


TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json", "spiece.model")


def check_model_files(model: str) -> None:
    """A local model folder without tokenizer files loads a 1-token tokenizer without a word from transformers,
    and every completion is then empty; one with a file this user cannot read fails with "No such file":
    refuse both before any work, saying which."""
    folder = Path(model)
    if folder.is_dir() and not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise DvmapError(
            f"{model}: no tokenizer files ({', '.join(TOKENIZER_FILES[:3])} ...); save the tokenizer with the model"
        )
    unreadable = sorted(p.name for p in folder.glob("*") if p.is_file() and not os.access(p, os.R_OK))
    if folder.is_dir() and unreadable:  # safetensors would say "No such file or directory"
        raise DvmapError(f"{model}: cannot read {', '.join(unreadable)} (permission denied; its owner can chmod a+r)")


class VLLMBackend:
    """vLLM generation (GPU), imported only when asked for. Each row samples from its own seed (as openai
    rows do), so chunking and resuming change nothing; prefix caching is on, so the rows of one profile,
    which the dataset keeps together, share their prompt's cached prefix."""

    name = "vllm"
    prompt_format = "chat messages (vLLM applies the model's chat template)"
    fallbacks = 0
    rows_per_call = 1024  # vLLM schedules inside a call: large calls keep it busy; the runner writes after each

    def __init__(self, model: str, generation: InferenceConfig):
        try:
            from vllm import LLM, SamplingParams
        except ImportError as exc:
            raise DvmapError("the vllm backend needs vLLM: pip install -e '.[gpu]' (on a CUDA machine)") from exc
        self.generation, self.SamplingParams = generation, SamplingParams
        self.llm = LLM(
            model=model,
            seed=generation.seed,
            tensor_parallel_size=generation.tensor_parallel_size,
            gpu_memory_utilization=generation.gpu_memory_utilization,
            max_model_len=generation.max_model_len,
            enable_prefix_caching=True,
        )
        sampling = generation.sampling()
        self.sampling = {
            "temperature": sampling.get("temperature", 0.0),
            "top_p": sampling.get("top_p", 1.0),
            "top_k": sampling.get("top_k", 0) or -1,  # vLLM's "off" is -1
            "max_tokens": generation.max_new_tokens,
        }

    def params(self, row: dict):
        return self.SamplingParams(**self.sampling, seed=row_seed(self.generation.seed, row["id"]))

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        kwargs = {"chat_template_kwargs": {"enable_thinking": self.generation.enable_thinking}}
        params = [self.params(row) for row in rows]
        outputs = self.llm.chat([row["prompt"] for row in rows], params, use_tqdm=False, **kwargs)
        return [output.outputs[0].text for output in outputs]


class OpenAIBackend:
    """Any OpenAI-compatible /chat/completions endpoint, with bounded concurrency and retries. Each worker
    keeps its connection alive between requests (HTTP/1.1; through a proxy the environment names, urllib
    opens one per request). `--timeout` bounds each whole request (connecting, waiting and reading), replies
    are checked before they are kept, redirects are not followed, and no credential of the URL or the key
    reaches a message."""

    name = "openai"
    prompt_format = "chat messages (the endpoint applies its chat template)"
    fallbacks = 0
    first_backoff = 1.0  # seconds before the first retry; each next wait doubles, up to 30 s
    max_reply = 4 << 20  # bytes: a completion of 1,024 tokens is a few kB; anything near this is not one

    def __init__(self, model: str, generation: InferenceConfig, api_key: str | None = None):
        import os
        import threading

        self.model, self.generation = model, generation
        self.stop = threading.Event()  # set by the first request that fails for good: the others give up
        self.failure: DvmapError | None = None  # that request's error, which the others raise too
        base = generation.api_base or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.url = _endpoint(base)
        self.shown = redact_url(self.url)
        key = api_key or os.environ.get("OPENAI_API_KEY", "")
        self.secrets = (key, *_credentials(self.url))
        self.headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
        self.target = _request_target(self.url)
        self.proxied = _proxied(self.url)  # then urllib, through the proxy, a connection per request
        self.opener = urllib.request.build_opener(_NoRedirect)
        self.local = threading.local()  # each worker thread's connection, kept alive between its requests
        self.open: set = set()  # all of them, closed when a stream ends
        self.lock = threading.Lock()

    def _post(self, body: dict) -> tuple[int, str, dict]:
        """(status, reply text, headers), the whole exchange within `--timeout` seconds, on this thread's
        kept-alive connection (one the server closed while it was idle is opened again, once)."""
        import time

        payload, deadline = json.dumps(body).encode(), time.monotonic() + self.generation.timeout
        if self.proxied:
            return self._post_via_proxy(payload, deadline)
        while True:
            reused = getattr(self.local, "connection", None) is not None
            connection = self._connection()
            try:
                connection.request("POST", self.target, payload, self.headers)
                response = connection.getresponse()
                reply = self._read(response, deadline)
                response.close()  # read to its length, not yet released (read1 leaves that to the next call)
            except Exception as exc:
                self._drop()
                if reused and isinstance(exc, ConnectionResetError | BrokenPipeError):
                    continue  # closed by the server while idle (http.client.RemoteDisconnected): a new one
                raise
            if response.will_close:
                self._drop()
            return response.status, reply, dict(response.headers)

    def _connection(self):
        import http.client
        from urllib.parse import urlsplit

        if getattr(self.local, "connection", None) is None:
            parts = urlsplit(self.url)  # credentials of the URL are not sent (nor shown)
            kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            self.local.connection = kind(parts.hostname, parts.port, timeout=self.generation.timeout)
            with self.lock:
                self.open.add(self.local.connection)
        return self.local.connection

    def _drop(self) -> None:
        connection, self.local.connection = getattr(self.local, "connection", None), None
        if connection is not None:
            connection.close()
            with self.lock:
                self.open.discard(connection)

    def _close_all(self) -> None:
        with self.lock:
            connections, self.open = self.open, set()
        for connection in connections:
            connection.close()

    def _post_via_proxy(self, payload: bytes, deadline: float) -> tuple[int, str, dict]:
        import urllib.error

        request = urllib.request.Request(self.url, payload, self.headers, method="POST")
        try:
            with self.opener.open(request, timeout=self.generation.timeout) as response:
                return response.status, self._read(response, deadline), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, self._read(exc, deadline), dict(exc.headers or {})

    def _read(self, response, deadline: float) -> str:
        import time

        read = getattr(response, "read1", None) or getattr(getattr(response, "fp", None), "read1", response.read)
        chunks, size = [], 0
        while chunk := read(65536):
            size += len(chunk)
            if size > self.max_reply:
                raise _Refused(f"a reply over {self.max_reply >> 20} MiB (not a completion)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the reply took longer than --timeout {self.generation.timeout:g} s")
            chunks.append(chunk)
        if getattr(response, "length", None):  # the connection ended before the Content-Length it announced
            raise ConnectionError(f"the reply ended {response.length} bytes short of its Content-Length")
        return b"".join(chunks).decode("utf-8", "replace")

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
                raise self.failure or DvmapError(f"endpoint {self.shown}: stopped before this request")
            wait = delay
            try:
                status, text, headers = self._post(body)
                if status == 200:
                    return completion_of(text)
                last = f"HTTP {status}: {text[:200]}"
                if 300 <= status < 400:
                    last += f" (a redirect to {redact_url(headers.get('Location', '?'))}: use that URL as --api-base)"
                if status not in (408, 409, 429) and status < 500:
                    break  # a client error will not go away by asking again
                asked = _retry_after(headers)
                if asked > MAX_RETRY_AFTER:
                    _log.warning(
                        "endpoint %s asks to wait %g s (Retry-After); waiting %g s, the longest the kit waits",
                        self.shown, asked, MAX_RETRY_AFTER,
                    )  # fmt: skip
                wait = max(delay, min(asked, MAX_RETRY_AFTER))
            except _Refused as exc:  # a reply that no retry will mend
                last = str(exc)
                break
            except Exception as exc:  # connection refused, timeouts, bad JSON
                last = f"{type(exc).__name__}: {exc}"
                if _no_server(exc):
                    break  # nothing listens there: asking again only waits
            if attempt < gen.max_retries and self.stop.wait(wait):  # no wait after the last attempt
                break
            delay = min(delay * 2, 30.0)
        failure = DvmapError(
            redact(f"endpoint {self.shown} failed ({last}); after {attempt + 1} attempt(s)", self.secrets)
        )
        self.failure = self.failure or failure
        self.stop.set()
        raise failure

    def stream(self, rows: list[dict]):
        """A window of `--concurrency` requests over all `rows`: each finished request starts the next row at
        once; (position, completion) as they finish. A request that fails for good stops the others (they
        give up at their next attempt, the rows not started are dropped) and raises its error here."""
        self.stop.clear()
        self.failure = None
        with ThreadPoolExecutor(self.generation.concurrency) as pool:
            position = {
                pool.submit(self._one, row["prompt"], row_seed(self.generation.seed, row["id"])): at
                for at, row in enumerate(rows)
            }
            try:
                for future in as_completed(position):
                    yield position[future], future.result()
            finally:
                self.stop.set()  # a failure, or a consumer that stopped early: nothing more is asked
                pool.shutdown(cancel_futures=True)
                self._close_all()

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        return [completion for _, completion in sorted(self.stream(rows))]


class _Refused(Exception):
    """A reply that is not a completion: final, not retried."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A POST redirected would arrive as a GET without its body: report the redirect instead."""

    def redirect_request(self, *args, **kwargs):
        return None


def completion_of(text: str) -> str:
    """The completion text of a /chat/completions reply, or `_Refused` saying what the reply is instead."""
    try:
        reply = json.loads(text)
    except ValueError:
        raise _Refused(f"the reply is not JSON: {text[:80]!r}") from None
    if not isinstance(reply, dict):
        raise _Refused(f"the reply is a JSON {type(reply).__name__}, not an object")
    choices = reply.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _Refused("the reply has no choices")
    content = (choices[0].get("message") or {}).get("content")
    if content is None:
        raise _Refused("the reply's message has no content (null)")
    if not isinstance(content, str):
        raise _Refused(f"the reply's content is a {type(content).__name__} ({str(content)[:40]}), not text")
    return content


def _endpoint(base: str) -> str:
    """The /chat/completions URL under `base`, before any query it carries (`...?key=K`)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/chat/completions"))


def _retry_after(headers: dict) -> float:
    """Seconds a 429 or 503 asks to wait (`Retry-After` in seconds; a date or nothing: 0)."""
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0


def _request_target(url: str) -> str:
    """What the request line asks for: the URL's path and query."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _proxied(url: str) -> bool:
    """Whether the environment sends requests for `url` through a proxy (HTTP(S)_PROXY, NO_PROXY)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(parts.hostname or "")


def _credentials(url: str) -> tuple[str, ...]:
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    return tuple(filter(None, (parts.username, parts.password, *(v for _, v in parse_qsl(parts.query)))))


def _no_server(exc: Exception) -> bool:
    """A refused connection or an unknown host: no server, as opposed to a slow or busy one."""
    import socket
    import urllib.error

    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)
