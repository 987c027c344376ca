"""Does training toward distributions work? The tiny model trained on hard labels, on soft targets and with
GRPO's distribution reward, beside the references and the human floor, on held-out profiles (not for CI).

    python bench/distribution_training.py [--sft-steps 1800 --soft-steps 300 --grpo-steps 100 --rows 600]
    python bench/distribution_training.py --data gss_spending --rows 0 ...      # GSS 2018 (the surveys extra)

The synthetic default (20,000 respondents, seed 0) or a shipped survey spec, built with `--consensus
distribution`, compact prompts and no system message; the tiny Qwen3. Models, each from the previous where an
arrow says so:
  hard-label SFT    the cold start (`tiny-cpu-sft`, --sft-steps) on each pair's mode
  hard-label SFT+   the same recipe for --sft-steps + --soft-steps steps (the soft run's compute, hard labels)
  soft-target SFT   hard-label SFT -> `tiny-cpu-sft-distribution` for --soft-steps steps
  soft + GRPO       soft-target SFT -> `tiny-cpu-distribution` (distribution_reward) for --grpo-steps steps
Each is scored by its option probabilities (`dvmap eval --scoring loglik`) on a seeded sample of --rows rows of
cross_demographic (profiles no training row has), beside the references (uniform, item marginal, group marginal,
tabular, nearest profiles). Prints the alignment table with the human floor, and `dvmap compare` against
soft-target SFT (the other models, tabular and nearest profiles): paired profile-bootstrap
differences, Holm-adjusted. Finished models and runs are kept in the cache and read again; a training run cut
short resumes from its last checkpoint (every 50 steps), an evaluation from its last written row.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig  # noqa: E402
from dvmap_hf.evaluation.report import alignment_table  # noqa: E402
from dvmap_hf.evaluation.runner import run_eval  # noqa: E402

REFERENCES = ("random", "marginal", "majority", "tabular", "nearest")


def dataset(cache: Path, data: str) -> Path:
    """The synthetic default, or a shipped survey spec's build (`--min-support 5`), with counts (made once)."""
    from dataset_builder import BuildConfig, build_folder
    from dvmap_hf.data.synth import SynthConfig, write_synthetic_wvs

    common = {"consensus": "distribution", "prompt_style": "compact", "system_prompt": "none"}
    if data == "synthetic":
        wvs = cache / "synthetic_wvs.sav"
        if not wvs.is_file():
            write_synthetic_wvs(wvs, SynthConfig(respondents=20_000, seed=0))
        config, folder = BuildConfig(wvs=wvs, **common), cache / "dvmap-distribution-compact"
    else:
        config, folder = BuildConfig(survey=data, min_support=5, **common), cache / f"{data}-distribution-compact"
    if not (folder / "README.md").is_file():
        build_folder(config, folder, force=True)
    return folder


def train(kind: str, recipe: str, model: Path, out: Path, steps: int, data: Path) -> Path:
    """One training run, `kind` sft or grpo: kept when finished, resumed from its last checkpoint (every 50
    steps) when cut short."""
    from dvmap_hf.training.arguments import parse_grpo, parse_sft
    from dvmap_hf.training.grpo import grpo_main
    from dvmap_hf.training.sft import sft_main

    if (out / "model.safetensors").is_file():
        return out
    parse, main = (parse_sft, sft_main) if kind == "sft" else (parse_grpo, grpo_main)
    args = ["--config", recipe, "--model_name_or_path", str(model), "--dataset_name", str(data)]
    args += ["--max_steps", str(steps), "--output_dir", str(out), "--logging_steps", str(max(1, steps // 10))]
    args += ["--save_strategy", "steps", "--save_steps", "50", "--save_total_limit", "1"]
    if list(out.glob("checkpoint-*")):
        args += ["--resume_from_checkpoint", "true"]
    else:
        args += ["--replace_output_dir", "true"]
    main(*parse(args), argv=[f"bench/distribution_training.py {kind}"])
    return out


def evaluate(model: str, data: Path, rows: int | None, out: Path) -> dict:
    generation = InferenceConfig(max_new_tokens=12, batch_size=32, seed=0)
    scoring = "generate" if model in REFERENCES else "loglik"
    metrics = run_eval(EvalConfig(model, str(data), "cross_demographic", limit=rows, scoring=scoring,
                                  generation=generation), out)  # fmt: skip
    metrics["run"]["model"] = out.name
    return metrics


def main(argv: list[str] | None = None) -> None:
    from dvmap_hf.evaluation.compare import compare_runs
    from dvmap_hf.training.tiny import TinyModelConfig, build_tiny_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sft-steps", type=int, default=1800)
    parser.add_argument("--soft-steps", type=int, default=300)
    parser.add_argument("--grpo-steps", type=int, default=100)
    parser.add_argument("--rows", type=int, default=600, help="a seeded sample of cross_demographic (0: every row)")
    parser.add_argument("--data", default="synthetic", help="synthetic, or a shipped survey spec (gss_spending)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "dvmap-bench")
    args = parser.parse_args(argv)
    data, rows = dataset(args.cache, args.data), args.rows or None
    root = args.cache / f"distribution-training-{args.data}-{args.sft_steps}-{args.soft_steps}-{args.grpo_steps}"
    tiny = root / "tiny-qwen3"
    if not (tiny / "config.json").is_file():
        build_tiny_model(tiny, TinyModelConfig(seed=0))
    hard = train("sft", "tiny-cpu-sft", tiny, root / "hard-label-sft", args.sft_steps, data)
    longer = train("sft", "tiny-cpu-sft", tiny, root / "hard-label-sft-longer", args.sft_steps + args.soft_steps, data)
    soft = train("sft", "tiny-cpu-sft-distribution", hard, root / "soft-target-sft", args.soft_steps, data)
    grpo = train("grpo", "tiny-cpu-distribution", soft, root / "soft-then-grpo", args.grpo_steps, data)
    evals = root / f"eval-{rows or 'all'}"
    runs = [evals / name for name in ("soft-target-sft", "hard-label-sft", "hard-label-sft-longer", "soft-then-grpo")]
    metrics = [evaluate(str(model), data, rows, run) for model, run in zip((soft, hard, longer, grpo), runs)]
    runs += [evals / name for name in REFERENCES]
    metrics += [evaluate(name, data, rows, evals / name) for name in REFERENCES]
    text = f"### {args.data}, cross_demographic (held-out profiles)\n\n{alignment_table(metrics)}"
    # against soft-target SFT: the other trained models and the two strongest references (40 alignment tests:
    # B = 2,000 lets a Holm-adjusted bootstrap p reach 0.04)
    paired, _ = compare_runs([*runs[:4], evals / "tabular", evals / "nearest"], resamples=2000)
    text += f"\n\n{paired}"
    (root / "table.md").write_text(text + "\n")
    print(text, flush=True)


if __name__ == "__main__":
    main()
