"""A table on real survey answers: the authors' released corpus splits (real WVS-derived rows), not synthetic.

    python bench/real_release.py ../shared/release [--smollm-rows N] [--work DIR]

PATH holds the release's `dev.parquet` and `test.parquet` (or its `DVMap_Corpus/` folder). They are imported
twice (`dvmap import-release`: with the authors' system message and without), then evaluated on the
corpus **test** split (the release's test.parquet; not the benchmark configs, whose files are not in
the release copy): random, majority and tabular fitted on the released **validation** split
(`--reference-split validation`, the release copy has no train split), and SmolLM2-135M-Instruct (from the
package registry, `bench/real_model.py`) by log-likelihood with its chat template, on the whole split or a
seeded sample (`--smollm-rows`). Every figure with its 95% profile-bootstrap interval; each run's time.

The release's terms (WVS): never commit these files or anything built from them; the work folder defaults
to a temporary one outside the checkout.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_model import prepare_model, table_row  # noqa: E402

from dataset_builder.release import import_release  # noqa: E402
from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig  # noqa: E402
from dvmap_hf.evaluation.report import figure_cell, interval_note  # noqa: E402
from dvmap_hf.evaluation.runner import run_eval  # noqa: E402

REFERENCE = ("random", "majority", "tabular")


def imported(release: Path, work: Path) -> dict[str, Path]:
    """The release's splits imported with and without the authors' system message (once)."""
    corpus = work / "release" / "DVMap_Corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name in ("dev", "test"):
        places = (release / f"{name}.parquet", release / "DVMap_Corpus" / f"{name}.parquet")
        source = next(p for p in places if p.is_file())
        if not (corpus / source.name).exists():
            (corpus / source.name).symlink_to(source.resolve())
    folders = {}
    for system in ("release", "none"):
        folders[system] = work / f"imported-{system}"
        if not (folders[system] / "README.md").is_file():
            import_release(work / "release", folders[system], force=True, system_prompt=system)
    return folders


def evaluate(model: str, dataset: Path, out: Path, limit: int | None, **kwargs) -> tuple[dict, float]:
    started = time.perf_counter()
    generation = InferenceConfig(batch_size=16, seed=0, dtype="float32")
    spec = EvalConfig(model, str(dataset), "corpus", "test", limit=limit, generation=generation, **kwargs)
    return run_eval(spec, out), time.perf_counter() - started


#: After the two accuracies: (figure, scale, digits) of each column.
RELEASE_FIGURES = (("likert_consistency", 100, 1), ("wasserstein_distance", 1, 4), ("total_variation", 1, 4))


def row(name: str, system: str, metrics: dict, seconds: float) -> str:
    s, by_match = metrics["overall"], metrics["intervals"]["overall"]
    release = by_match.get("accuracy_release")
    release_text = f"{100 * metrics['accuracy_by_match']['release']:.1f}"
    if release:
        release_text += f" [{100 * release[0]:.1f}, {100 * release[1]:.1f}]"
    figures = [figure_cell(metrics, "accuracy", 100, 1), release_text]
    figures += [figure_cell(metrics, figure, scale, digits) for figure, scale, digits in RELEASE_FIGURES]
    return table_row(name, system, f"{s['rows']:,}", *figures, f"{seconds:,.0f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path, help="folder with the release's dev.parquet and test.parquet")
    parser.add_argument("--smollm-rows", type=int, help="seeded sample of the test split for SmolLM2 (default: all)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "dvmap-real-release")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "dvmap-bench")
    args = parser.parse_args(argv)
    folders = imported(args.release, args.work)
    lines = [
        "| model | system message | rows | Acc | Acc (authors' rule) | LC | WD | TV | time |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    runs = []
    for name in REFERENCE:
        metrics, took = evaluate(name, folders["none"], args.work / f"runs/{name}", None, reference_split="validation")
        lines.append(row(name, "-", metrics, took))
        runs.append(metrics)
        print(lines[-1], flush=True)
    model = str(prepare_model(args.cache))
    for system, folder in folders.items():
        out = args.work / f"runs/smollm2-{system}-{args.smollm_rows or 'all'}"
        metrics, took = evaluate(model, folder, out, args.smollm_rows, scoring="loglik")
        lines.append(row("SmolLM2-135M-Instruct (loglik)", system, metrics, took))
        runs.append(metrics)
        print(lines[-1], flush=True)
    table = "\n".join(lines) + f"\n\n{interval_note(runs)}.\n"
    (args.work / "table.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
