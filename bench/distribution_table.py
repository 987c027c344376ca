"""The first distribution-alignment table: SmolLM2-135M-Instruct's answer distributions against the survey's, with
the references, the conditioning control and the human-noise floor (not for CI).

    pip install -e ".[gguf,surveys]"
    python bench/distribution_table.py [--rows 600] [--cache ~/.cache/dvmap-bench]

Two distributional builds, both without a system message: the synthetic default (`dvmap synth-wvs`, 20,000
respondents, seed 0, `--consensus distribution`; a seeded sample of `--rows` rows of cross_demographic) and GSS
2018 spending (`--survey gss_spending --consensus distribution --min-support 5`; every row of
cross_demographic, its held-out profiles). On each: the references (uniform, the item's marginal, the group's
marginal, the multinomial `tabular`, the nearest profiles), SmolLM2 by option probabilities (`--scoring
loglik`), the same with shuffled profiles (`--profiles shuffled`), and SmolLM2 stating a distribution
(`--scoring stated`; a seeded sample of `--stated-rows` synthetic rows), each with its profile-bootstrap
intervals (1,000 resamples), and the human floor. Runs are kept in the cache (a finished one is read again, an
interrupted one resumed); about an hour on 2 cores the first time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_model import prepare_model  # noqa: E402

from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig  # noqa: E402
from dvmap_hf.evaluation.report import alignment_table  # noqa: E402
from dvmap_hf.evaluation.runner import run_eval  # noqa: E402

REFERENCES = {"random": "uniform", "marginal": "item marginal", "majority": "group marginal", "tabular": "tabular",
              "nearest": "nearest profiles"}  # fmt: skip
MODEL_ROUTES = {
    "SmolLM2 loglik": {"scoring": "loglik"},
    "SmolLM2 loglik, shuffled profiles": {"scoring": "loglik", "profiles": "shuffled"},
    "SmolLM2 stated": {"scoring": "stated"},
}


def datasets(cache: Path) -> dict[str, tuple[Path, int | None]]:
    """The two distributional builds (made once) and how many rows of each to evaluate (None: all)."""
    from dataset_builder import BuildConfig, build_folder
    from dvmap_hf.data.synth import SynthConfig, write_synthetic_wvs

    wvs = cache / "synthetic_wvs.sav"
    if not wvs.is_file():
        write_synthetic_wvs(wvs, SynthConfig(respondents=20_000, seed=0))
    folders = {"synthetic": cache / "dvmap-distribution", "GSS 2018": cache / "gss-spending-distribution"}
    configs = {
        "synthetic": BuildConfig(wvs=wvs, consensus="distribution", system_prompt="none"),
        "GSS 2018": BuildConfig(survey="gss_spending", consensus="distribution", min_support=5, system_prompt="none"),
    }
    for name, folder in folders.items():
        if not (folder / "README.md").is_file():
            build_folder(configs[name], folder, force=True)
    return folders


def run(model: str, dataset: Path, rows: int | None, out: Path, **kwargs) -> dict:
    generation = InferenceConfig(max_new_tokens=64, batch_size=16, seed=0)
    spec = EvalConfig(model, str(dataset), "cross_demographic", limit=rows, generation=generation, **kwargs)
    metrics = run_eval(spec, out)
    metrics["run"]["model"] = out.name  # the table's row label
    return metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=600, help="seeded sample of the synthetic build (default 600)")
    parser.add_argument(
        "--stated-rows", type=int, default=200, help="a seeded sample of the synthetic build for the stated route (64 "
        "new tokens a row: the slow one; default 200)"
    )  # fmt: skip
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "dvmap-bench")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    model = str(prepare_model(args.cache))
    tables = []
    for name, folder in datasets(args.cache).items():
        rows = args.rows if name == "synthetic" else None
        runs = args.cache / "distribution-runs" / f"{name.replace(' ', '-')}-{rows or 'all'}"
        metrics = [run(ref, folder, rows, runs / label) for ref, label in REFERENCES.items()]
        for label, kw in MODEL_ROUTES.items():
            limit = min(rows, args.stated_rows) if kw["scoring"] == "stated" and rows else rows
            metrics.append(run(model, folder, limit, runs / label, **kw))
        tables.append(f"### {name}, cross_demographic\n\n{alignment_table(metrics)}")
        stated = metrics[-1]["distribution"]
        tables[-1] += (
            f"\n\nSmolLM2 stated a parsable distribution for {stated['rows']:,} of "
            f"{stated['rows'] + stated['rows_without_distribution']:,} rows."
        )
        print(tables[-1], flush=True)
    (args.cache / "distribution-runs" / "table.md").write_text("\n\n".join(tables) + "\n")


if __name__ == "__main__":
    main()
