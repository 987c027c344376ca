"""What the profile bootstrap costs: a finished run rescored (`dvmap eval` on its folder: no model is asked)
with `--bootstrap 0` and with `--bootstrap B`, this checkout beside another one in the same run.

    python bench/bootstrap.py [--release ../shared/release] [--previous CHECKOUT] [--resamples 10000]

The run is the `random` predictor on the corpus test split: the authors' released test split (7,156 rows,
~460 profiles) imported without a system message when `--release` names it, else the synthetic default
build. `--previous` is a checkout of an earlier commit (e.g. `git worktree add /tmp/previous 6106cab`, the
bootstrap one draw at a time over the rows); its rescoring runs in a subprocess from that folder on a copy
of the same run folder. Each time is the best of `--repeat` rescorings, in process (warm: the bootstrap's
own cost) and as the whole `dvmap eval` command a user waits for. Goals (issue 40): the time B = 10,000
resamples add >= 10x less than in the previous checkout, and less than 0.6x of the whole B = 0 command.

The release's terms (WVS): the work folder is a temporary one outside the checkout; nothing built from the
release is kept.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_parser, line  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

#: the rescoring, run with a checkout as the working folder (its `dvmap_hf` first on sys.path)
RESCORE = """
import json, sys, time
from dvmap_hf.evaluation.config import EvalConfig
from dvmap_hf.evaluation.runner import run_eval
dataset, run, resamples, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
run_eval(EvalConfig("random", dataset, "corpus", "test", bootstrap=0), run)  # warm-up: imports, caches
seconds = {}
for b in (0, resamples):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        metrics = run_eval(EvalConfig("random", dataset, "corpus", "test", bootstrap=b), run)
        times.append(time.perf_counter() - start)
    seconds[b] = min(times)
print(json.dumps({"seconds": seconds, "rows": metrics["run"]["rows"], "intervals": metrics["intervals"]["overall"]}))
"""


def dataset(release: Path | None, work: Path) -> Path:
    """The released test split imported without a system message, or the synthetic default build."""
    if release is None:
        from _data import dataset_folder

        return dataset_folder()
    from real_release import imported

    return imported(release, work)["none"]


#: the whole `dvmap eval` command (a fresh interpreter: imports, reading the split and the predictions)
COMMAND = "import sys; from dvmap_app.cli import main; sys.exit(main(sys.argv[1:]))"


def whole_command(checkout: Path, folder: Path, run: Path, resamples: int, repeat: int) -> float:
    """Best wall time of `dvmap eval` rescoring the run folder, as a user runs it."""
    argv = ["eval", "--model", "random", "--dataset", str(folder), "--config", "corpus", "--split", "test"]
    command = [sys.executable, "-c", COMMAND, *argv, "--bootstrap", str(resamples), "--out", str(run)]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=checkout)
        times.append(time.perf_counter() - start)
    return min(times)


def rescore(checkout: Path, folder: Path, run: Path, resamples: int, repeat: int) -> dict:
    command = [sys.executable, "-c", RESCORE, str(folder), str(run), str(resamples), str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=checkout)
    if done.returncode:
        raise SystemExit(f"rescoring in {checkout} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.splitlines()[-1])
    result["seconds"] = {int(b): s for b, s in result["seconds"].items()}
    return result


def main(argv=None) -> list[dict]:
    parser = bench_parser(__doc__, release=True)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    from dvmap_hf.evaluation.config import EvalConfig
    from dvmap_hf.evaluation.runner import run_eval

    with tempfile.TemporaryDirectory(prefix="dvmap-bootstrap-") as tmp:
        work = Path(tmp)
        folder = dataset(args.release, work)
        run_eval(EvalConfig("random", str(folder), "corpus", "test", bootstrap=0), work / "run")
        checkouts = {"this checkout": ROOT} | ({"previous": args.previous} if args.previous else {})
        results = {}
        for name, checkout in checkouts.items():
            shutil.copytree(work / "run", work / f"run-{len(results)}")
            run = work / f"run-{len(results)}"
            results[name] = rescore(checkout, folder, run, args.resamples, args.repeat)
            results[name]["command"] = {
                b: whole_command(checkout, folder, run, b, args.repeat) for b in (0, args.resamples)
            }
    ours = results["this checkout"]
    added = ours["seconds"][args.resamples] - ours["seconds"][0]
    print(f"# {ours['rows']:,} rows, `random` on the corpus test split; B = {args.resamples:,}, best of {args.repeat}")
    for name, result in results.items():
        zero, full = result["seconds"][0], result["seconds"][args.resamples]
        print(
            f"#   {name}: rescoring in process {zero:.2f} s with B = 0, {full:.2f} s with B = {args.resamples:,}; ",
            end="",
        )
        zero, full = result["command"][0], result["command"][args.resamples]
        print(f"whole `dvmap eval` command {zero:.2f} s / {full:.2f} s")
    print(f"#   this checkout in process: B added / B = 0 rescoring {added / ours['seconds'][0]:.2f}x")
    command_added = ours["command"][args.resamples] - ours["command"][0]
    zero = ours["command"][0]
    rows = [
        line("bootstrap: B added / B = 0 dvmap eval", command_added / zero, "x", "< 0.6", command_added < 0.6 * zero)
    ]
    if "previous" in results:
        theirs = results["previous"]["seconds"]
        before = theirs[args.resamples] - theirs[0]
        rows.append(line("bootstrap: previous / this checkout", before / added, "x", ">= 10", before / added >= 10))
        same = {k: v for k, v in results["previous"]["intervals"].items() if k in ("accuracy", "likert_consistency")}
        print(
            f"#   intervals of the means, previous {same}; this checkout { {k: ours['intervals'][k] for k in same} }"
        )
    return rows


if __name__ == "__main__":
    main()
