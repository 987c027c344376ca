"""The `openai` backend: any OpenAI-compatible `/chat/completions` endpoint (what the authors' own
evaluation used), a window of concurrent requests over the whole run, retries with backoff; the HTTP layer
is `http_client.py`."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor, as_completed

from ...data.sampling import row_seed
from ...errors import DvmapError
from ...redact import redact, redact_url
from ..config import InferenceConfig
from .http_client import KeptAliveClient, Refused, credentials, no_server

_log = logging.getLogger("dvmap.evaluation")
#: The longest a 429 / 503's Retry-After is honoured, in seconds: past it the kit waits this long and says so.
MAX_RETRY_AFTER = 60.0


class OpenAIBackend:
    """Any OpenAI-compatible /chat/completions endpoint, with bounded concurrency and retries. Each worker
    keeps its connection alive between requests (HTTP/1.1; through a proxy the environment names, urllib
    opens one per request). `--timeout` bounds each whole request (connecting, waiting and reading), replies
    are checked before they are kept, redirects are not followed, and no credential of the URL or the key
    reaches a message."""

    name = "openai"
    prompt_format = "chat messages (the endpoint applies its chat template)"
    rows_per_call = 0  # streams its rows: a window of --concurrency requests
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
        self.secrets = (key, *credentials(self.url))
        self.headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
        self.client = KeptAliveClient(self.url, self.headers, generation.timeout, self.max_reply)

    def _post(self, body: dict) -> tuple[int, str, dict]:
        return self.client.post(json.dumps(body).encode())

    @property
    def open(self) -> set:
        """The kept-alive connections not yet closed."""
        return self.client.open

    @property
    def proxied(self) -> bool:
        return self.client.proxied

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
            except Refused as exc:  # a reply that no retry will mend
                last = str(exc)
                break
            except Exception as exc:  # connection refused, timeouts, bad JSON
                last = f"{type(exc).__name__}: {exc}"
                if no_server(exc):
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
                self.client.close_all()

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        return [completion for _, completion in sorted(self.stream(rows))]


def completion_of(text: str) -> str:
    """The completion text of a /chat/completions reply, or `Refused` saying what the reply is instead."""
    try:
        reply = json.loads(text)
    except ValueError:
        raise Refused(f"the reply is not JSON: {text[:80]!r}") from None
    if not isinstance(reply, dict):
        raise Refused(f"the reply is a JSON {type(reply).__name__}, not an object")
    choices = reply.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise Refused("the reply has no choices")
    content = (choices[0].get("message") or {}).get("content")
    if content is None:
        raise Refused("the reply's message has no content (null)")
    if not isinstance(content, str):
        raise Refused(f"the reply's content is a {type(content).__name__} ({str(content)[:40]}), not text")
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
