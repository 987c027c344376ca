import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dvmap_app.cli import main
from dvmap_hf import hub
from dvmap_hf.evaluation import robustness, runner
from dvmap_hf.errors import DvmapError
from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig
from dvmap_hf.evaluation.predictors import make_predictor
from dvmap_hf.evaluation.reference import MajorityPredictor
from dvmap_hf.evaluation.report import paper_table, read_metrics
from dvmap_hf.evaluation.robustness import run_robustness
from dvmap_hf.evaluation.runner import read_predictions, run_eval

from .test_push_and_synth import RecordingHub


def _spec(built, model="majority", config="cross_demographic", **generation):
    return EvalConfig(model, str(built[0]), config, generation=InferenceConfig(**generation))


def test_reference_predictors_end_to_end(built, tmp_path):
    metrics = {}
    for model in ("random", "majority", "tabular"):
        out = tmp_path / model
        metrics[model] = run_eval(_spec(built, model), out)
        lines = (out / "predictions.jsonl").read_text().splitlines()
        assert len(lines) == metrics[model]["overall"]["rows"] > 0
        record = json.loads(lines[0])
        assert set(record) == {"id", "completion", "parsed", "correct"}
        for name in ("report.md", "metrics.json", "per_country_accuracy.png", "per_category_accuracy.png"):
            assert (out / name).stat().st_size > 0
        assert (out / "per_country_accuracy.png").read_bytes()[:4] == b"\x89PNG"
        overall = metrics[model]["overall"]
        assert overall["invalid_rate"] == 0 and 0 <= overall["wasserstein_distance"] <= 1
        report = (out / "report.md").read_text()
        assert "## Per country" in report and "## Per category" in report and "Pearson r" in report
    # the synthetic answers depend on the attributes: a classifier on them beats chance
    assert metrics["tabular"]["overall"]["accuracy"] > metrics["random"]["overall"]["accuracy"]
    table = paper_table([read_metrics(tmp_path / m) for m in metrics])
    assert table.count("\n") == 4 and "| tabular | cross_demographic |" in table


def test_majority_is_the_mode_of_the_corpus_train_split(built):
    from datasets import load_dataset

    train = load_dataset(str(built[0]), "corpus")["train"].to_pandas()
    predictor = MajorityPredictor(train)
    usa_q1 = train[(train.country == "United States of America") & (train.question_id == "Q1")]
    expected = usa_q1.answer_index.value_counts().sort_index().idxmax()
    row = usa_q1.iloc[0].to_dict()
    assert predictor([row]) == [f"<answer>{row['options'][expected]}</answer>"]
    unseen = {**row, "question_id": "Q999", "id": "x"}
    predictor([unseen])
    assert predictor.fallbacks == 1


class Interrupting:
    """Wraps a predictor and raises after `after` batches, like a Ctrl-C mid-run."""

    def __init__(self, inner, after):
        self.inner, self.after, self.calls = inner, after, 0

    def __call__(self, rows, batch_seed=0):
        if self.calls == self.after:
            raise KeyboardInterrupt
        self.calls += 1
        return self.inner(rows, batch_seed)


def test_resume_after_interruption_gives_the_same_metrics(built, tmp_path, tiny_model, monkeypatch):
    spec = EvalConfig(
        str(tiny_model),
        str(built[0]),
        "cross_demographic",
        limit=10,
        generation=InferenceConfig(max_new_tokens=6, batch_size=3, seed=1),
    )
    whole = run_eval(spec, tmp_path / "whole")
    real = runner.make_predictor
    monkeypatch.setattr(runner, "make_predictor", lambda *a, **k: Interrupting(real(*a, **k), after=2))
    with pytest.raises(KeyboardInterrupt):
        run_eval(spec, tmp_path / "resumed")
    assert len(read_predictions(tmp_path / "resumed" / "predictions.jsonl")) == 6
    with open(tmp_path / "resumed" / "predictions.jsonl", "a") as handle:
        handle.write('{"id": "torn')  # killed in the middle of a write
    monkeypatch.setattr(runner, "make_predictor", real)
    resumed = run_eval(spec, tmp_path / "resumed")
    assert resumed["overall"] == whole["overall"]
    a = (tmp_path / "whole" / "predictions.jsonl").read_text().splitlines()
    b = (tmp_path / "resumed" / "predictions.jsonl").read_text().splitlines()
    assert sorted(a) == sorted(b) and len(b) == 10
    other = EvalConfig("majority", str(built[0]), "cross_demographic")
    with pytest.raises(DvmapError, match="holds another run"):
        run_eval(other, tmp_path / "resumed")


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
    monkeypatch.setattr("time.sleep", lambda s: None)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        spec = EvalConfig(
            "fake-model",
            str(built[0]),
            "cross_value",
            backend="openai",
            limit=12,
            generation=InferenceConfig(
                api_base=f"http://127.0.0.1:{server.server_port}/v1", concurrency=4, batch_size=6
            ),
        )
        metrics = run_eval(spec, tmp_path / "api")
    finally:
        server.shutdown()
    assert metrics["overall"]["rows"] == 12 and metrics["overall"]["invalid_rate"] == 0
    assert FakeEndpoint.calls == 13  # one 503, retried
    body = FakeEndpoint.last_body  # explicit sampling settings; top_k (not an OpenAI field) only when set
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.7, 1.0, 1024) and "top_k" not in body
    assert body["messages"][0]["role"] == "system"


def test_unreachable_endpoint_fails_cleanly_keeping_earlier_predictions(built, tmp_path, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    spec = EvalConfig(
        "m",
        str(built[0]),
        "cross_value",
        backend="openai",
        limit=4,
        generation=InferenceConfig(api_base="http://127.0.0.1:9/v1", max_retries=1, batch_size=2),
    )
    with pytest.raises(DvmapError, match="Connection refused.*after 1 attempt"):  # nothing listens: no retries
        run_eval(spec, tmp_path / "down")
    assert not (tmp_path / "down").exists()  # nothing written: the corrected rerun may use the same folder


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
    monkeypatch.setattr(backend, "_post", lambda body: posts.append(body) or (503, "busy"))
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


def test_robustness_reports_flip_rates_per_category(built, tmp_path):
    result = run_robustness(
        _spec(built, "tabular"),
        "income_bracket",
        {"Low income": "High income", "High income": "Low income"},
        tmp_path / "flip",
    )
    assert result["overall"]["pairs"] > 0 and 0 <= result["overall"]["flip_rate"] <= 1
    assert set(result["per_category"]) <= {
        "SOCIAL VALUES, ATTITUDES & STEREOTYPES",
        "HAPPINESS AND WELL-BEING",
        "SOCIAL CAPITAL, TRUST & ORGANIZATIONAL MEMBERSHIP",
        "CORRUPTION",
        "SECURITY",
    }
    assert "flip rate" in (tmp_path / "flip" / "robustness.md").read_text()
    majority = run_robustness(
        _spec(built, "majority"),
        "income_bracket",
        {"Low income": "High income", "High income": "Low income"},
        tmp_path / "flip2",
    )
    assert majority["overall"]["flip_rate"] == 0  # the majority predictor ignores income


def test_flipped_prompt_changes_only_the_attribute(built):
    from datasets import load_dataset

    row = next(
        r for r in load_dataset(str(built[0]), "cross_demographic")["test"] if r["income_bracket"] == "Low income"
    )
    flipped_prompt = robustness.flipped_prompt(row, "income_bracket", "High income")
    assert flipped_prompt[0] == row["prompt"][0]  # the system message is kept
    flipped, original = flipped_prompt[-1]["content"], row["prompt"][-1]["content"]
    assert flipped == original.replace("Your income level is Low income", "Your income level is High income")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config", "nope"], "no config 'nope'"),
        (["--split", "train"], "has no split 'train'"),
        (["--model", "runs/does-not-exist/ckpt"], "does not exist"),
        (["--backend", "telepathy", "--model", "x/y"], "argument --backend: invalid choice"),
        (["--backend", "vllm", "--model", "x/y"], "pip install -e '.[gpu]'"),
    ],
)
def test_eval_bad_input(built, tmp_path, capsys, args, message):
    base = ["eval", "--model", "majority", "--dataset", str(built[0]), "--out", str(tmp_path / "run")]
    assert main(base + args) == 2
    assert message in capsys.readouterr().err


def test_compare_and_push_metrics_cli(built, tmp_path, capsys, monkeypatch):
    assert (
        main(
            [
                "eval",
                "--model",
                "majority",
                "--dataset",
                str(built[0]),
                "--config",
                "cross_country",
                "--out",
                str(tmp_path / "m"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "m")]) == 0
    assert "| majority | cross_country |" in capsys.readouterr().out
    assert main(["compare", str(tmp_path)]) == 2
    fake = RecordingHub()
    fake.upload_file = lambda **kw: fake.calls.append(("upload_file", kw["repo_id"], kw))
    monkeypatch.setattr(hub, "hub_api", lambda: fake)
    assert main(["push-metrics", "--namespace", "my-org"]) == 0
    spaces = [(c[0], c[1]) for c in fake.calls]
    assert ("create_repo", "my-org/likert_consistency") in spaces and (
        "upload_file",
        "my-org/wasserstein_distance",
    ) in spaces
    assert ("create_repo", "my-org/distribution_distance") in spaces
    assert all(c[2].get("repo_type") == "space" for c in fake.calls)
