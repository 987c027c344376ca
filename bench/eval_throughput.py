"""Evaluation throughput, side by side in one run (not for CI): every ratio of the README's table.

1. api: a local OpenAI-compatible stand-in whose latency is heavy-tailed (lognormal, median 0.2 s, sigma
   0.8, keyed on the prompt, so every client meets the same latencies). `dvmap eval --backend openai`
   (a window of --concurrency requests over the whole run) against the authors' `eval_api_parallel.py`
   (batches of 64, 64 workers; `--authors-script`, needs `pip install openai`) and against the ideal
   window (the latencies list-scheduled on the workers, computed).
2. loglik: SmolLM2-135M-Instruct (bench/real_model.py), option log-likelihoods of consecutive rows of the
   corpus test split (profile after profile): rows packed 8 at a time as one prefix tree after what the
   previous batch left in the cache (what they share computed once) against one row at a time with nothing
   carried (each row's options still share its prompt: what rows cost without sharing); the largest
   log-probability difference and the agreement of the argmax.
3. generate: greedy generation of 24 new tokens on the same rows, batches of 8: the prompts read once as a
   prefix tree after the previous batch's cache, each row's keys and values laid side by side, against the
   left-padded batch; the completions that are identical.
4. harness: the same scoring against lm-evaluation-harness's HFLM (`dvmap_corpus_mc`, the first rows,
   plain-text prompts on both sides, batch 16), whole commands' worth of work.

    python bench/eval_throughput.py [--release ../shared/release] [--authors-script PATH] \
        [--api-rows 1024] [--loglik-rows 320] [--generate-rows 160] [--harness-rows 64] [--cache DIR] \
        [--previous CHECKOUT]   # e.g. git worktree add /tmp/previous 312e7dc: the scorer before shared prefixes

Without --release the rows come from a build of the synthetic default in the same order (the release's
terms: never commit its files or anything built from them; the work folder is a temporary one).
"""

from __future__ import annotations

import heapq
import json
import math
import random
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_parser, line  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MEDIAN_S, SIGMA, WORKERS = 0.2, 0.8, 64


def latency(text: str) -> float:
    return MEDIAN_S * math.exp(SIGMA * random.Random(zlib.crc32(text.encode())).gauss(0.0, 1.0))


def _user_text(messages: list[dict]) -> str:
    content = messages[-1]["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


class StandIn(BaseHTTPRequestHandler):
    """Replies after the prompt's latency; records the first request's arrival and the last reply's end
    (the makespan a client achieves, whatever its own start-up costs)."""

    protocol_version = "HTTP/1.1"  # keep-alive, as a real endpoint
    first: float | None = None
    last: float = 0.0
    clients: set = set()  # the client connections requests came on

    @classmethod
    def makespan(cls) -> tuple[float, int]:
        """(first request to last reply, connections used), and a fresh count for the next client."""
        span, opened = cls.last - cls.first, len(cls.clients)
        cls.first, cls.last, cls.clients = None, 0.0, set()
        return span, opened

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        StandIn.first = StandIn.first or time.perf_counter()
        StandIn.clients.add(self.client_address)
        time.sleep(latency(_user_text(body["messages"])))
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": "<answer>x</answer>"}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload.encode())
        StandIn.last = max(StandIn.last, time.perf_counter())

    def log_message(self, *args):
        pass


def ideal_window(latencies: list[float], workers: int) -> float:
    """Makespan of a window that starts the next row the moment a request finishes."""
    free = [0.0] * workers
    for seconds in latencies:
        heapq.heappush(free, heapq.heappop(free) + seconds)
    return max(free)


def bench_api(folder: Path, config: str, split: str, rows: int, authors: Path | None, work: Path) -> list[dict]:
    from dvmap_hf.data.folder import load_split
    from dvmap_hf.data.sampling import sample_rows
    from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig
    from dvmap_hf.evaluation.runner import run_eval

    sample = sample_rows(load_split(str(folder), config, split), rows, 0).to_list()
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/v1"
    results = []
    try:
        generation = InferenceConfig(api_base=base, concurrency=WORKERS, max_retries=0, batch_size=WORKERS)
        spec = EvalConfig("stand-in", str(folder), config, split, backend="openai", limit=rows, generation=generation)
        start = time.perf_counter()
        run_eval(spec, work / "ours")
        ours_command, (ours, opened) = time.perf_counter() - start, StandIn.makespan()
        ideal = ideal_window([latency(_user_text(r["prompt"])) for r in sample], WORKERS)
        print(
            f"# api: {len(sample)} rows, {WORKERS} in flight; first request to last reply: ideal window "
            f"{ideal:.1f} s, ours {ours:.1f} s on {opened} connections (whole command, with intervals: "
            f"{ours_command:.1f} s)",
            flush=True,
        )
        results.append(line("api: ours / ideal window", ours / ideal, "x", "<= 1.25", ours / ideal <= 1.25))
        if authors is not None:
            theirs_command = _authors(authors, sample, base, work)
            theirs, opened = StandIn.makespan()
            print(
                f"# api: the authors' script {theirs:.1f} s on {opened} connections (whole command "
                f"{theirs_command:.1f} s)",
                flush=True,
            )
            results.append(line("api: authors' script / ours", theirs / ours, "x", ">= 3", theirs / ours >= 3))
            ratio = theirs_command / ours_command
            results.append(line("api: authors' script / ours, whole commands", ratio, "x", ">= 3", ratio >= 3))
    finally:
        server.shutdown()
    return results


def _authors(script: Path, rows: list[dict], base: str, work: Path) -> float:
    """Their script on the same rows, in their dataset format, as a whole command."""
    from datasets import Dataset

    their_rows = [
        {
            "prompt": _user_text(r["prompt"]),
            "answer": r["options"][r["answer_index"]],
            "Options": ", ".join(r["options"]),
            "Q_id": r["question_id"],
        }
        for r in rows
    ]
    Dataset.from_list(their_rows).save_to_disk(str(work / "theirs-data"))
    command = [sys.executable, str(script), "--model_name", "stand-in", "--eval_data_path", str(work / "theirs-data")]
    command += ["--output_csv_path", str(work / "theirs.csv"), "--api_key", "sk-none", "--base_url", base]
    command += ["--batch_size", str(WORKERS), "--max_workers", str(WORKERS)]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def _scorer(model: Path, chat_template: bool):
    from dvmap_hf.evaluation.backends import TransformersBackend
    from dvmap_hf.evaluation.config import InferenceConfig
    from dvmap_hf.evaluation.loglik import LoglikScorer

    generation = InferenceConfig(dtype="float32", device="cpu", chat_template=chat_template)
    return LoglikScorer(TransformersBackend.from_pretrained(str(model), generation))


def _score(scorer, rows: list[dict], batch: int) -> tuple[float, list]:
    start, records = time.perf_counter(), []
    for at in range(0, len(rows), batch):
        records += scorer(rows[at : at + batch])
    return time.perf_counter() - start, records


#: the rows' scoring loop, run in another checkout (`--previous`): its scorer, the same rows, batches of 8
PREVIOUS = """
import json, sys, time
from dvmap_hf.data.folder import load_split
from dvmap_hf.evaluation.backends import TransformersBackend
from dvmap_hf.evaluation.config import InferenceConfig
from dvmap_hf.evaluation.loglik import LoglikScorer
model, folder, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
sample = load_split(folder, "corpus", "test").select(range(rows)).to_list()
scorer = LoglikScorer(TransformersBackend.from_pretrained(model, InferenceConfig(dtype="float32", device="cpu")))
start, records = time.perf_counter(), []
for at in range(0, rows, 8):
    records += scorer(sample[at : at + 8])
print(json.dumps({"seconds": time.perf_counter() - start, "logprobs": [r["option_logprobs"] for r in records]}))
"""


def _previous(checkout: Path, model: Path, folder: Path, rows: int) -> tuple[float, list]:
    command = [sys.executable, "-c", PREVIOUS, str(model), str(folder), str(rows)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=checkout)
    result = json.loads(done.stdout.splitlines()[-1])
    return result["seconds"], result["logprobs"]


def bench_loglik(model: Path, folder: Path, rows: int, previous: Path | None = None) -> list[dict]:
    from dvmap_hf.data.folder import load_split

    sample = load_split(str(folder), "corpus", "test").select(range(rows)).to_list()
    scorer = _scorer(model, chat_template=True)
    shared_s, shared = _score(scorer, sample, 8)
    scorer.backend.prefix.carries = False  # off: no batch reuses what the previous one read
    alone_s, alone = _score(scorer, sample, 1)
    gap = max(abs(a - b) for x, y in zip(shared, alone) for a, b in zip(x["option_logprobs"], y["option_logprobs"]))
    agree = sum(x["completion"] == y["completion"] for x, y in zip(shared, alone))
    print(f"# loglik: {rows} consecutive rows; max |logprob difference| {gap:.2e}; same answer {agree}/{rows}")
    print(f"#   shared {rows / shared_s:.2f} rows/s, one row at a time {rows / alone_s:.2f} rows/s", flush=True)
    lines = [line("loglik: shared / one row at a time", alone_s / shared_s, "x", ">= 4", alone_s / shared_s >= 4)]
    if previous is not None:
        before_s, before = _previous(previous, model, folder, rows)
        gap = max(abs(a - b) for x, y in zip(shared, before) for a, b in zip(x["option_logprobs"], y))
        print(f"#   {previous} (its scorer, batches of 8): {rows / before_s:.2f} rows/s; max |difference| {gap:.2e}")
        lines.append(
            line("loglik: shared / --previous scorer", before_s / shared_s, "x", ">= 4", before_s / shared_s >= 4)
        )
    return lines


def bench_generate(model: Path, folder: Path, rows: int) -> list[dict]:
    from dvmap_hf.data.folder import load_split
    from dvmap_hf.evaluation.backends import TransformersBackend
    from dvmap_hf.evaluation.config import InferenceConfig

    sample = load_split(str(folder), "corpus", "test").select(range(rows)).to_list()
    generation = InferenceConfig(dtype="float32", device="cpu", greedy=True, max_new_tokens=24)
    backend = TransformersBackend.from_pretrained(str(model), generation)
    shared_s, shared = _score(backend, sample, 8)
    backend.min_shared_prefix = 10**9  # off: every batch left-padded whole
    padded_s, padded = _score(backend, sample, 8)
    same = sum(a == b for a, b in zip(shared, padded))
    print(
        f"# generate: {rows} rows, identical greedy completions {same}/{rows}; shared {rows / shared_s:.2f} "
        f"rows/s, left-padded {rows / padded_s:.2f} rows/s",
        flush=True,
    )
    return [line("generate: shared / left-padded", padded_s / shared_s, "x", ">= 2", padded_s / shared_s >= 2)]


def bench_harness(model: Path, folder: Path, rows: int, work: Path) -> list[dict]:
    from dvmap_hf.data.folder import load_split

    sample = load_split(str(folder), "corpus", "test").select(range(rows)).to_list()
    command = [
        sys.executable,
        "-m",
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model},dtype=float32",
        "--device",
        "cpu",
    ]
    command += ["--include_path", str(ROOT / "lm_eval_tasks"), "--tasks", "dvmap_corpus_mc", "--limit", str(rows)]
    command += ["--batch_size", "16", "--metadata", json.dumps({"dataset": str(folder)})]
    command += ["--output_path", str(work / "harness")]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=work)
    harness_s = time.perf_counter() - start
    result = json.loads(next((work / "harness").rglob("results_*.json")).read_text())["results"]["dvmap_corpus_mc"]
    start = time.perf_counter()
    scorer = _scorer(model, chat_template=False)  # the harness concatenates the messages as plain text
    _, records = _score(scorer, sample, 8)
    ours_s = time.perf_counter() - start
    accuracy = (
        sum(
            r["completion"].removeprefix("<answer>").removesuffix("</answer>") == s["options"][s["answer_index"]]
            for r, s in zip(records, sample)
        )
        / rows
    )
    print(f"# harness: {rows} rows, acc harness {result['acc,none']:.4f}, ours {accuracy:.4f}", flush=True)
    return [line("loglik: lm-eval HFLM / ours", harness_s / ours_s, "x", ">= 15", harness_s / ours_s >= 15)]


def _folder(release: Path | None, work: Path) -> tuple[Path, str]:
    """(dataset folder, split of the api rows): the release imported with the authors' system message, or
    the synthetic default built with the release's prompt style."""
    if release is not None:
        from real_release import imported

        return imported(release, work)["release"], "validation"
    from dataset_builder import BuildConfig, build_folder
    from dvmap_hf.data.synth import SynthConfig, write_synthetic_wvs

    sample = write_synthetic_wvs(work / "sample.sav", SynthConfig())
    build_folder(BuildConfig(wvs=sample, prompt_style="release"), work / "dvmap")
    return work / "dvmap", "validation"


def main(argv=None) -> list[dict]:
    parser = bench_parser(__doc__, release=True)
    parser.add_argument("--authors-script", type=Path, help="their eval_api_parallel.py (needs `openai`)")
    parser.add_argument("--api-rows", type=int, default=1024)
    parser.add_argument("--loglik-rows", type=int, default=320)
    parser.add_argument("--generate-rows", type=int, default=160)
    parser.add_argument("--harness-rows", type=int, default=64)
    parser.add_argument("--skip", nargs="*", default=[], choices=("api", "loglik", "generate", "harness"))
    parser.add_argument("--cache", default=str(Path.home() / ".cache/dvmap-bench"))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dvmap-throughput-"))
    folder, api_split = _folder(args.release, work)
    results = []
    if "api" not in args.skip:
        results += bench_api(folder, "corpus", api_split, args.api_rows, args.authors_script, work)
    if {"loglik", "generate", "harness"} - set(args.skip):
        from real_model import prepare_model

        model = prepare_model(Path(args.cache))
        if "loglik" not in args.skip:
            results += bench_loglik(model, folder, args.loglik_rows, args.previous)
        if "generate" not in args.skip:
            results += bench_generate(model, folder, args.generate_rows)
        if "harness" not in args.skip:
            results += bench_harness(model, folder, args.harness_rows, work)
    return results


if __name__ == "__main__":
    main()
