"""`dvmap_hf/evaluation/backends/`: the transformers and openai backends, and the HTTP layer under openai."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from datasets import load_dataset

from dvmap_app.cli import main
from dvmap_hf.errors import DvmapError
from dvmap_hf.evaluation.backends import OpenAIBackend, TransformersBackend
from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig
from dvmap_hf.evaluation.predictors import make_predictor
from dvmap_hf.evaluation.runner import run_eval
from tests.support import openai_spec


def test_transformers_backend_generates_with_the_chat_template(built, tiny_model):
    predictor = make_predictor(
        EvalConfig(str(tiny_model), str(built[0]), generation=InferenceConfig(max_new_tokens=5, greedy=True))
    )
    assert predictor.tokenizer.padding_side == "left"
    from datasets import load_dataset

    rows = load_dataset(str(built[0]), "cross_value")["test"].select(range(4)).to_list()
    rendered = predictor.render([r["prompt"] for r in rows])
    assert rendered[0].startswith("<|im_start|>system\n\nRespond in the following format:")
    assert "<|im_start|>user\n" in rendered[0] and rendered[0].endswith("<|im_start|>assistant\n")
    batched = predictor(rows)
    one_by_one = [predictor([row])[0] for row in rows]
    assert batched == one_by_one  # left padding: batching does not change greedy outputs


def test_batches_read_their_shared_prompt_text_once_and_generate_as_without(built, tiny_model, monkeypatch):
    """Two batches of rows in profile order: the prompts are read once as a prefix tree (the second batch
    after what the first left in the cache), generation starts from each row's last prompt token, and the
    greedy completions are those of plain left-padded batches."""
    predictor = make_predictor(
        EvalConfig(str(tiny_model), str(built[0]), generation=InferenceConfig(max_new_tokens=6, greedy=True))
    )
    rows = load_dataset(str(built[0]), "cross_value")["test"].select(range(8)).to_list()
    ids = [
        predictor.tokenizer(text, add_special_tokens=False)["input_ids"]
        for text in predictor.render([r["prompt"] for r in rows])
    ]
    seen, forward = [], predictor.model.forward
    monkeypatch.setattr(
        predictor.model, "forward", lambda *a, **k: seen.append(tuple(k["input_ids"].shape)) or forward(*a, **k)
    )
    with_sharing = predictor(rows[:4]) + predictor(rows[4:])
    first_read, first_step = seen[0], seen[1]
    assert first_read[0] == 1 and first_read[1] < sum(len(x) - 1 for x in ids[:4]) / 2  # shared text once
    assert first_step == (4, 1)  # each row's last prompt token: the rest is in the cache
    second_read = seen[seen.index(first_step, 2) - 1]
    assert second_read[1] < sum(len(x) - 1 for x in ids[4:]) / 2
    monkeypatch.setattr(predictor, "min_shared_prefix", 10**9)  # off: the left-padded batch
    assert with_sharing == predictor(rows[:4]) + predictor(rows[4:])


class FakeEndpoint(BaseHTTPRequestHandler):
    """An OpenAI-compatible /chat/completions on 127.0.0.1 that fails the first call with a 503."""

    calls = 0
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802
        with self.lock:  # the server answers on several threads at once
            type(self).calls += 1
            first = type(self).calls == 1
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).last_body = body
        if first:
            self.send_response(503)
            self.end_headers()
            return
        option = body["messages"][-1]["content"].split('"Options": [')[1].split(",")[0].rstrip("]")
        payload = json.dumps({"choices": [{"message": {"content": f"<answer>{option}</answer>"}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def test_openai_backend_with_retries_against_a_local_endpoint(built, tmp_path, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api_base = f"http://127.0.0.1:{server.server_port}/v1"
        spec = openai_spec(built, monkeypatch, api_base, limit=12, concurrency=4, batch_size=6)
        metrics = run_eval(spec, tmp_path / "api")
    finally:
        server.shutdown()
    assert metrics["overall"]["rows"] == 12 and metrics["overall"]["invalid_rate"] == 0
    assert FakeEndpoint.calls == 13  # one 503, retried
    body = FakeEndpoint.last_body  # explicit sampling settings; top_k (not an OpenAI field) only when set
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.7, 1.0, 1024) and "top_k" not in body
    assert body["messages"][0]["role"] == "system"


class Waits:
    """Stands in for the backend's stop event: records each backoff wait instead of sleeping."""

    def __init__(self):
        self.delays, self.flag = [], False

    def wait(self, delay):
        self.delays.append(delay)
        return self.flag

    def is_set(self):
        return self.flag

    def set(self):
        self.flag = True

    def clear(self):
        self.flag = False


def test_openai_retries_are_bounded_and_do_not_wait_after_the_last(monkeypatch):
    from dvmap_hf.evaluation.backends import OpenAIBackend

    backend = OpenAIBackend("m", InferenceConfig(api_base="http://127.0.0.1:9/v1", max_retries=2, timeout=5))
    posts = []
    monkeypatch.setattr(backend, "_post", lambda body: posts.append(body) or (503, "busy", {}))
    backend.stop = Waits()
    with pytest.raises(DvmapError, match="HTTP 503: busy.*after 3 attempt"):
        backend._one([{"role": "user", "content": "q"}], seed=0)
    assert len(posts) == 3 and backend.stop.delays == [1.0, 2.0]  # two backoffs between three attempts
    assert backend.stop.is_set()  # the rest of the batch gives up at once


def test_a_dead_endpoint_stops_the_whole_batch_at_the_first_refusal(monkeypatch):
    from dvmap_hf.evaluation.backends import OpenAIBackend

    backend = OpenAIBackend("m", InferenceConfig(api_base="http://127.0.0.1:9/v1", concurrency=4))
    posts = []
    real_post = backend._post
    monkeypatch.setattr(backend, "_post", lambda body: posts.append(1) or real_post(body))
    rows = [{"id": str(i), "prompt": [{"role": "user", "content": "q"}]} for i in range(16)]
    with pytest.raises(DvmapError, match="Connection refused|stopped"):
        backend(rows)
    assert len(posts) <= 4  # at most the requests already in flight; the 12 queued never start


def test_sampling_settings_reach_generate_unchanged(built, tiny_model, tmp_path):
    """A model that ships Qwen3's sampling defaults (top_k 20, top_p 0.95) must not impose them."""
    import shutil

    from transformers import GenerationConfig as HFGenerationConfig

    model_dir = tmp_path / "qwen-like"
    shutil.copytree(tiny_model, model_dir)
    HFGenerationConfig(do_sample=True, temperature=0.6, top_k=20, top_p=0.95).save_pretrained(model_dir)
    backend = TransformersBackend.from_pretrained(str(model_dir), InferenceConfig(max_new_tokens=3, temperature=0.7))
    seen = {}
    original = backend.model.generate

    def recording(**kwargs):
        seen.update(kwargs)
        return original(**kwargs)

    backend.model.generate = recording
    rows = load_dataset(str(built[0]), "cross_value")["test"].select(range(2)).to_list()
    backend(rows)
    assert (seen["do_sample"], seen["temperature"], seen["top_p"], seen["top_k"]) == (True, 0.7, 1.0, 0)
    assert seen["max_new_tokens"] == 3
    settings = InferenceConfig(top_p=0.9, top_k=5).identity()
    assert settings["top_p"] == 0.9 and settings["top_k"] == 5  # recorded in run.json and metrics.json


class BadEndpoint(BaseHTTPRequestHandler):
    """Replies that are not completions, chosen by the URL's first path segment."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        case = self.path.strip("/").split("/")[0].split("?")[0]
        if case == "drip":  # one byte every 0.2 s: each read is quick, the whole reply is not
            self.send_response(200)
            self.send_header("Content-Length", "40")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
            return
        if case == "cut":  # a whole JSON body, but 50 bytes fewer than announced: the connection broke
            body = json.dumps({"choices": [{"message": {"content": "ok"}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 50))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        if case == "moved":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere?key=LOCATIONKEY")
            self.end_headers()
            return
        if case == "echo":  # an error page that repeats the request's headers
            self.send_response(401)
            self.end_headers()
            self.wfile.write(f"bad key; you sent Authorization: {self.headers['Authorization']}".encode())
            return
        replies = {
            "number": {"choices": [{"message": {"content": 42}}]},
            "empty": {"choices": []},
            "array": [1, 2],
            "null": {"choices": [{"message": {"content": None}}]},
            "huge": {"choices": [{"message": {"content": "x" * 4000}}]},
        }
        self.send_response(200)
        self.end_headers()
        self.wfile.write(json.dumps(replies[case]).encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def bad_endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), BadEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _ask(base: str, **generation):
    from dvmap_hf.evaluation.backends import OpenAIBackend

    backend = OpenAIBackend("m", InferenceConfig(api_base=base, max_retries=0, **generation), api_key="sk-SECRET123")
    return backend._one([{"role": "user", "content": "q"}], seed=0)


@pytest.mark.parametrize(
    "case, message",
    [
        ("number", "content is a int \\(42\\), not text"),
        ("empty", "the reply has no choices"),
        ("array", "the reply is a JSON list, not an object"),
        ("null", "has no content \\(null\\)"),
        ("moved", "HTTP 302.*a redirect to"),
        ("cut", "ConnectionError: the reply ended 50 bytes short of its Content-Length"),  # was accepted
    ],
)
def test_replies_that_are_not_completions_get_one_line_naming_the_endpoint(bad_endpoint, case, message):
    with pytest.raises(DvmapError, match=f"endpoint http://127.0.0.1:\\d+/{case}/chat/completions failed.*{message}"):
        _ask(f"{bad_endpoint}/{case}")


def test_the_timeout_bounds_the_whole_request(bad_endpoint):
    started = time.monotonic()
    with pytest.raises(DvmapError, match="longer than --timeout 1 s"):
        _ask(f"{bad_endpoint}/drip", timeout=1)
    assert time.monotonic() - started < 3  # the drip takes 8 s


def test_a_reply_over_the_size_limit_is_refused(bad_endpoint, monkeypatch):
    from dvmap_hf.evaluation.backends import OpenAIBackend

    monkeypatch.setattr(OpenAIBackend, "max_reply", 1 << 10)
    with pytest.raises(DvmapError, match="a reply over"):
        _ask(f"{bad_endpoint}/huge")


def test_credentials_never_reach_a_message_or_a_file(bad_endpoint, built, tmp_path, capsys):
    with pytest.raises(DvmapError) as caught:
        _ask(f"{bad_endpoint}/echo?key=URLKEY123")
    text = str(caught.value)
    assert "HTTP 401" in text and "Bearer ***" in text
    assert not any(secret in text for secret in ("sk-SECRET123", "URLKEY123"))
    with pytest.raises(DvmapError) as caught:
        _ask(f"{bad_endpoint}/moved")
    assert "LOCATIONKEY" not in str(caught.value)
    base = bad_endpoint.replace("http://", "http://me:PASSWORD9@") + "/v1"
    argv = ["eval", "--model", "m", "--backend", "openai", "--api-base", base, "--dataset", str(built[0])]
    assert main([*argv, "--max-retries", "0", "--limit", "2", "--out", str(tmp_path / "r")]) == 2
    assert "PASSWORD9" not in capsys.readouterr().err
    argv = ["eval", "--model", "random", "--api-base", f"{bad_endpoint}/v1?key=URLKEY123", "--dataset", str(built[0])]
    assert main([*argv, "--limit", "2", "--out", str(tmp_path / "ok")]) == 0
    assert "URLKEY123" not in (tmp_path / "ok/metrics.json").read_text()


def test_retry_after_is_honoured(monkeypatch):
    from dvmap_hf.evaluation.backends import OpenAIBackend

    backend = OpenAIBackend("m", InferenceConfig(api_base="http://127.0.0.1:9/v1", max_retries=1))
    replies = iter(
        [(429, "slow down", {"Retry-After": "7"}), (200, '{"choices": [{"message": {"content": "ok"}}]}', {})]
    )
    monkeypatch.setattr(backend, "_post", lambda body: next(replies))
    backend.stop = Waits()
    assert backend._one([{"role": "user", "content": "q"}], seed=0) == "ok"
    assert backend.stop.delays == [7.0]


def test_a_huge_retry_after_is_capped_and_said(monkeypatch, caplog):
    """`Retry-After: 999999` (11 days) waited 60 s without a word (issue 33's probe pass)."""
    from dvmap_hf.evaluation.backends import MAX_RETRY_AFTER, OpenAIBackend

    backend = OpenAIBackend("m", InferenceConfig(api_base="http://127.0.0.1:9/v1", max_retries=1))
    replies = iter([(429, "", {"Retry-After": "999999"}), (200, '{"choices": [{"message": {"content": "ok"}}]}', {})])
    monkeypatch.setattr(backend, "_post", lambda body: next(replies))
    backend.stop = Waits()
    assert backend._one([{"role": "user", "content": "q"}], seed=0) == "ok"
    assert backend.stop.delays == [MAX_RETRY_AFTER]
    assert "asks to wait 999999 s (Retry-After); waiting 60 s, the longest the kit waits" in caplog.text


def test_a_model_folder_without_tokenizer_files_is_refused_before_any_work(built, tiny_model, tmp_path, capsys):
    import shutil

    model = tmp_path / "no-tokenizer"
    model.mkdir()
    for name in ("config.json", "model.safetensors", "generation_config.json"):
        shutil.copy(tiny_model / name, model / name)
    argv = ["eval", "--model", str(model), "--dataset", str(built[0]), "--limit", "2", "--out", str(tmp_path / "r")]
    assert main(argv) == 2
    assert "no tokenizer files" in capsys.readouterr().err and not (tmp_path / "r").exists()


class StandInLLM:
    """Stands in for `vllm.LLM` (no GPU here): records what reaches it; a completion is drawn from the
    row's SamplingParams seed alone, as vLLM's per-request seed makes it."""

    made: list[dict] = []
    calls: list[int] = []

    def __init__(self, **kwargs):
        StandInLLM.made.append(kwargs)

    def chat(self, messages, params, use_tqdm=False, chat_template_kwargs=None):
        import random
        from types import SimpleNamespace

        assert len(params) == len(messages) and not use_tqdm
        StandInLLM.calls.append(len(messages))
        letters = "ABCD"
        return [
            SimpleNamespace(
                outputs=[SimpleNamespace(text=f"<answer>{random.Random(p.seed).choice(letters)}</answer>")]
            )
            for p in params
        ]


@pytest.fixture
def stand_in_vllm(monkeypatch):
    import sys
    from types import ModuleType, SimpleNamespace

    module = ModuleType("vllm")
    module.LLM, module.SamplingParams = StandInLLM, lambda **kwargs: SimpleNamespace(**kwargs)
    monkeypatch.setitem(sys.modules, "vllm", module)
    StandInLLM.made, StandInLLM.calls = [], []
    return StandInLLM


def test_vllm_gets_the_engine_flags_and_a_seed_per_row_so_chunks_and_resume_change_nothing(
    built, tmp_path, stand_in_vllm
):
    from dvmap_hf.data.sampling import row_seed

    flags = ["--tensor-parallel-size", "4", "--gpu-memory-utilization", "0.8", "--max-model-len", "4096"]
    common = ["eval", "--model", "Qwen/Qwen3-8B", "--backend", "vllm", "--dataset", str(built[0]), *flags]
    assert main([*common, "--out", str(tmp_path / "whole")]) == 0
    engine = stand_in_vllm.made[0]
    assert engine["tensor_parallel_size"] == 4 and engine["gpu_memory_utilization"] == 0.8
    assert engine["max_model_len"] == 4096 and engine["enable_prefix_caching"] is True
    rows = [json.loads(line) for line in (tmp_path / "whole/predictions.jsonl").read_text().splitlines()]
    assert len(rows) > 1024 and stand_in_vllm.calls == [1024, len(rows) - 1024]  # large calls, not 8 rows each
    # each row's completion comes from its own seed ...
    expected = [f"<answer>{__import__('random').Random(row_seed(0, r['id'])).choice('ABCD')}</answer>" for r in rows]
    assert [r["completion"] for r in rows] == expected
    # ... so a run stopped after 5 rows and resumed in other chunks gives the same predictions
    lines = (tmp_path / "whole/predictions.jsonl").read_text().splitlines()
    (tmp_path / "resumed").mkdir()
    (tmp_path / "resumed/run.json").write_text((tmp_path / "whole/run.json").read_text())
    (tmp_path / "resumed/predictions.jsonl").write_text("\n".join(lines[:5]) + "\n")
    assert main([*common, "--batch-size", "2000", "--out", str(tmp_path / "resumed")]) == 0
    assert stand_in_vllm.calls[-1] == len(rows)  # one chunk of 2,000 rows, its 5 done ones kept as they were
    assert (tmp_path / "resumed/predictions.jsonl").read_text().splitlines() == lines
    recorded = json.loads((tmp_path / "whole/metrics.json").read_text())["run"]["generation"]
    assert (recorded["tensor_parallel_size"], recorded["max_model_len"]) == (4, 4096)


class HeldEndpoint(BaseHTTPRequestHandler):
    """Answers at once from the request's seed, except one chosen prompt: that request is held until the
    other rows are in `predictions` (at most 20 s), and it records how many were there. `failing` prompts
    get a 400 (not retried)."""

    held: str | None = None
    failing: set = set()
    predictions = None
    expected = 0
    seen_while_held: int | None = None

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        cls = type(self)
        if prompt in cls.failing:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"bad request")
            return
        if prompt == cls.held:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and _lines(cls.predictions) < cls.expected:
                time.sleep(0.05)
            cls.seen_while_held = _lines(cls.predictions)
        content = f"<answer>{'ABCD'[body['seed'] % 4]}</answer>"
        payload = json.dumps({"choices": [{"message": {"content": content}}]}).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def _lines(path) -> int:
    return len(path.read_text().splitlines()) if path is not None and path.is_file() else 0


@pytest.fixture
def held_endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), HeldEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    HeldEndpoint.held, HeldEndpoint.failing, HeldEndpoint.seen_while_held = None, set(), None
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def _api_spec(built, base, limit=10, **generation):
    generation = {"api_base": base, "max_retries": 0, **generation}
    return EvalConfig(
        "m", str(built[0]), "cross_value", backend="openai", limit=limit, generation=InferenceConfig(**generation)
    )


def _sampled(built, limit=10):
    from dvmap_hf.data.folder import load_split
    from dvmap_hf.data.sampling import sample_rows

    return sample_rows(load_split(str(built[0]), "cross_value", None), limit, 0).to_list()


def test_openai_keeps_a_window_in_flight_and_writes_rows_as_they_finish(built, tmp_path, held_endpoint):
    """The first row's request hangs while the window (2 requests) goes on past it and past the batch of 4
    rows it is in: the other 9 rows are answered and written before it returns."""
    rows = _sampled(built)
    HeldEndpoint.held, HeldEndpoint.predictions = rows[0]["prompt"][-1]["content"], tmp_path / "api/predictions.jsonl"
    HeldEndpoint.expected = len(rows) - 1
    metrics = run_eval(_api_spec(built, held_endpoint, concurrency=2, batch_size=4), tmp_path / "api")
    assert HeldEndpoint.seen_while_held == len(rows) - 1
    assert metrics["overall"]["rows"] == len(rows)
    written = [json.loads(line)["id"] for line in HeldEndpoint.predictions.read_text().splitlines()]
    assert written[-1] == rows[0]["id"] and sorted(written) == sorted(r["id"] for r in rows)


def test_an_openai_run_that_fails_keeps_what_finished_and_resumes_to_the_same_predictions(
    built, tmp_path, held_endpoint
):
    rows = _sampled(built)
    clean = run_eval(_api_spec(built, held_endpoint, concurrency=1), tmp_path / "clean")
    HeldEndpoint.failing = {rows[6]["prompt"][-1]["content"]}
    with pytest.raises(DvmapError, match="HTTP 400"):
        run_eval(_api_spec(built, held_endpoint, concurrency=1), tmp_path / "broken")
    assert _lines(tmp_path / "broken/predictions.jsonl") == 6  # the rows before the failing one, on disk
    HeldEndpoint.failing = set()
    resumed = run_eval(_api_spec(built, held_endpoint, concurrency=3), tmp_path / "broken")
    by_id = lambda run: sorted((tmp_path / run / "predictions.jsonl").read_text().splitlines())  # noqa: E731
    assert by_id("broken") == by_id("clean")
    assert resumed["overall"] == clean["overall"]


class KeptAlive(BaseHTTPRequestHandler):
    """An HTTP/1.1 endpoint that records the client connection of every request, and (when `drop_every` is
    set) closes a connection after that many replies without saying so, as a server closing idle ones does."""

    protocol_version = "HTTP/1.1"
    connections: list = []
    drop_every = 0

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.connections.append(self.client_address)
        payload = json.dumps({"choices": [{"message": {"content": "<answer>x</answer>"}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.served = getattr(self, "served", 0) + 1
        if self.drop_every and self.served % self.drop_every == 0:
            self.close_connection = True  # no "Connection: close": the client learns it on its next request

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("drop_every", [0, 2])
def test_each_worker_keeps_its_connection_and_reopens_one_the_server_closed(monkeypatch, drop_every):
    monkeypatch.setattr(KeptAlive, "connections", [])
    monkeypatch.setattr(KeptAlive, "drop_every", drop_every)
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeptAlive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        generation = InferenceConfig(api_base=f"http://127.0.0.1:{server.server_port}/v1", concurrency=3)
        backend = OpenAIBackend("m", generation)
        backend.stop = Waits()  # a retry would show as a wait
        rows = [{"id": str(i), "prompt": [{"role": "user", "content": f"q{i}"}]} for i in range(24)]
        assert backend(rows) == ["<answer>x</answer>"] * 24
    finally:
        server.shutdown()
    assert len(KeptAlive.connections) == 24 and backend.stop.delays == []  # no attempt failed
    opened = len(set(KeptAlive.connections))
    assert opened <= 3 if not drop_every else 3 < opened <= 3 + 24 // drop_every
    assert backend.open == set()  # every connection closed when the stream ended


def test_a_proxy_the_environment_names_is_used(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    backend = OpenAIBackend("m", InferenceConfig(api_base="http://10.255.255.1:8000/v1", max_retries=0))
    assert backend.proxied
    with pytest.raises(DvmapError, match="Connection refused"):  # refused by the proxy, not a 10.x timeout
        backend._one([{"role": "user", "content": "q"}], seed=0)
    monkeypatch.setenv("NO_PROXY", "10.255.255.1")
    assert not OpenAIBackend("m", InferenceConfig(api_base="http://10.255.255.1:8000/v1")).proxied
