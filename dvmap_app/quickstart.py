"""`dvmap quickstart`: the whole kit on the embedded synthetic default, on a CPU, in minutes.

synthetic WVS file -> all four configs -> reference predictors -> tiny Qwen3 (SFT cold start, then GRPO)
-> evaluation on cross_demographic -> the paper-style table. Everything lands in one folder; an error or
Ctrl-C removes the folder this run created, so nothing half-written is left behind.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from dvmap_hf.evaluation.config import TABLE_REFERENCES
from dvmap_hf.io import check_output_dir
from dvmap_hf.options import at_least, option
from dvmap_hf.resources import resource_folder


@dataclass
class QuickstartConfig:
    out: Path = option(Path("quickstart"), "folder for everything", parse=Path)
    force: bool = option(False, "replace a non-empty --out folder")
    respondents: int = option(20_000, "respondents in the synthetic WVS-format file")
    sft_steps: int = option(1800, "SFT cold-start steps (recipe tiny-cpu-sft.yaml)")
    grpo_steps: int = option(300, "GRPO steps (recipe tiny-cpu.yaml)")
    eval_rows: int = option(600, "the seeded sample of cross_demographic every row of the table is scored on")
    curve_rows: int = option(96, "held-out corpus validation rows behind the learning curve")
    seed: int = option(0, "seed of the data, the model and the sample")

    def __post_init__(self) -> None:
        for name in ("respondents", "sft_steps", "grpo_steps", "eval_rows", "curve_rows"):
            at_least(name, getattr(self, name))


def _step(number: int, text: str) -> None:
    print(f"\n[{number}/7] {text}", flush=True)


def train_tiny(out: Path, spec: QuickstartConfig, dataset: Path | None = None) -> Path:
    """SFT cold start, then GRPO, each with the held-out accuracy logged along the way; the curve is drawn."""
    from dvmap_hf.data.folder import load_split
    from dvmap_hf.data.sampling import sample_rows
    from dvmap_hf.training.arguments import parse_grpo, parse_sft
    from dvmap_hf.training.callbacks import HeldOutAccuracy
    from dvmap_hf.training.grpo import grpo_trainer
    from dvmap_hf.training.sft import sft_trainer
    from dvmap_hf.training.stages import train_and_publish
    from dvmap_hf.training.tiny import TinyModelConfig, build_tiny_model

    recipes = resource_folder("recipes")
    runs, dataset = out / "runs", str(dataset or out / "dvmap")
    build_tiny_model(runs / "tiny-qwen3", TinyModelConfig(seed=spec.seed))
    # held-out profiles of the corpus (validation), not the rows of the final table
    heldout = sample_rows(load_split(dataset, "corpus", "validation"), spec.curve_rows, spec.seed).to_list()
    common = ["--dataset_name", dataset, "--disable_tqdm", "false", "--seed", str(spec.seed)]

    def watched(trainer, steps: int, points: int):
        trainer.add_callback(HeldOutAccuracy(trainer, heldout, every=max(1, steps // points)))
        return train_and_publish(trainer, "dvmap quickstart")

    _step(5, f"SFT cold start, {spec.sft_steps} steps (dvmap train sft, recipe tiny-cpu-sft.yaml)")
    sft_args = parse_sft(
        ["--config", str(recipes / "tiny-cpu-sft.yaml"), "--model_name_or_path", str(runs / "tiny-qwen3")]
        + ["--output_dir", str(runs / "tiny-sft"), "--max_steps", str(spec.sft_steps), *common]
        + ["--logging_steps", str(max(1, spec.sft_steps // 10))]
    )
    sft = watched(sft_trainer(*sft_args, argv=["dvmap quickstart"]), spec.sft_steps, 8)
    _step(6, f"GRPO, {spec.grpo_steps} steps: accuracy + 0.1 x format reward (dvmap train grpo, tiny-cpu.yaml)")
    grpo_args = parse_grpo(
        ["--config", str(recipes / "tiny-cpu.yaml"), "--model_name_or_path", str(runs / "tiny-sft")]
        + ["--output_dir", str(runs / "tiny-grpo"), "--max_steps", str(spec.grpo_steps), *common]
        + ["--save_strategy", "no", "--logging_steps", str(max(1, spec.grpo_steps // 10))]
    )
    grpo = watched(grpo_trainer(*grpo_args, argv=["dvmap quickstart"]), spec.grpo_steps, 6)
    plot_learning_curve(sft.state.log_history, grpo.state.log_history, out / "learning_curve.png")
    return runs / "tiny-grpo"


def plot_learning_curve(sft_log: list[dict], grpo_log: list[dict], path: Path) -> None:
    """Held-out accuracy over both phases (top), and what each phase optimises (bottom): the SFT loss,
    then GRPO's mean accuracy reward."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dvmap_hf.io import atomic_file

    offset = max((e["step"] for e in sft_log if "heldout_accuracy" in e), default=0)
    curve = [(e["step"], e["heldout_accuracy"]) for e in sft_log if "heldout_accuracy" in e]
    curve += [(offset + e["step"], e["heldout_accuracy"]) for e in grpo_log if "heldout_accuracy" in e]
    loss = [(e["step"], e["loss"]) for e in sft_log if "loss" in e and "step" in e]
    reward = [
        (offset + e["step"], e["rewards/accuracy_reward/mean"])
        for e in grpo_log
        if "rewards/accuracy_reward/mean" in e
    ]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
    top.plot(*zip(*curve), marker="o", color="#4C72B0", label="held-out accuracy (greedy, corpus validation)")
    top.set_ylabel("accuracy")
    top.set_ylim(0, 1)
    if loss:
        bottom.plot(*zip(*loss), color="#DD8452", label="SFT loss (per token)")
    if reward:
        bottom.plot(*zip(*reward), color="#55A868", label="GRPO accuracy reward (mean)")
    for axis in (top, bottom):
        axis.axvline(offset, color="grey", linestyle=":", linewidth=1)
        axis.legend(loc="best", fontsize=8)
    bottom.set_xlabel("training step (SFT, then GRPO)")
    top.set_title("Tiny Qwen3 on the synthetic default: learning curve")
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def evaluate_on_sample(
    model: str, name: str, out: Path, spec: QuickstartConfig, dataset: Path | None = None, greedy: bool = True
) -> Path:
    """Evaluate on the seeded cross_demographic sample every quickstart row of the table uses: greedily
    for a deterministic table (runs/eval-NAME), or sampled at the paper's temperature 0.7, `dvmap eval`'s
    default (runs/eval-NAME-t0.7)."""
    from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig
    from dvmap_hf.evaluation.runner import run_eval

    run = out / "runs" / f"eval-{name}{'' if greedy else '-t0.7'}"
    generation = InferenceConfig(max_new_tokens=12, batch_size=32, seed=spec.seed, greedy=greedy)
    run_eval(
        EvalConfig(
            model, str(dataset or out / "dvmap"), "cross_demographic", limit=spec.eval_rows, generation=generation
        ),
        run,
    )
    return run


def scores(run: Path) -> tuple[float, float]:
    """Accuracy and Likert consistency of a run folder, in %."""
    from dvmap_hf.evaluation.report import read_metrics

    overall = read_metrics(run)["overall"]
    return 100 * overall["accuracy"], 100 * overall["likert_consistency"]


def _run(spec: QuickstartConfig) -> str:
    from dataset_builder import BuildConfig, build_folder, format_report
    from dvmap_hf.data.synth import SynthConfig, write_synthetic_wvs
    from dvmap_hf.evaluation.report import paper_table, read_metrics

    out, started = spec.out, time.perf_counter()
    _step(1, f"synthetic WVS-format file, {spec.respondents:,} respondents (SYNTHETIC, not survey data)")
    wvs = write_synthetic_wvs(out / "synthetic_wvs.sav", SynthConfig(respondents=spec.respondents, seed=spec.seed))
    _step(2, "build corpus, cross_demographic, cross_country and cross_value (dvmap build, compact prompts)")
    # For a 2-layer model trained in minutes: the compact prompt style (the 11 attributes as labelled
    # lines) and no system message (it asks for a reasoning block; the model answers in 12 tokens).
    config = BuildConfig(wvs=wvs, prompt_style="compact", system_prompt="none")
    print(format_report(build_folder(config, out / "dvmap")))
    _step(3, f"reference predictors on {spec.eval_rows} rows of cross_demographic: {', '.join(TABLE_REFERENCES)}")
    runs = [evaluate_on_sample(name, name, out, spec) for name in TABLE_REFERENCES]
    _step(4, "tiny random Qwen3 (2 layers) with a tokenizer trained here")
    model = train_tiny(out, spec)
    _step(7, "evaluate the cold start (tiny-sft) and the trained model (tiny-grpo) on the same rows")
    trained = ("tiny-sft", "tiny-grpo")
    runs += [evaluate_on_sample(str(model.parent / name), name, out, spec) for name in trained]
    # GRPO sharpens the policy: what it adds shows when answers are sampled, as the paper evaluates
    sampled = [evaluate_on_sample(str(model.parent / name), name, out, spec, greedy=False) for name in trained]
    table = paper_table([read_metrics(run) for run in runs])
    minutes = (time.perf_counter() - started) / 60
    at_07 = ", ".join(f"{name} Acc {scores(run)[0]:.1f}" for name, run in zip(trained, sampled, strict=True))
    return (
        f"\n{table}\n\nAcc / LC in %, WD normalised by K - 1; {spec.eval_rows} rows of cross_demographic "
        f"(SYNTHETIC data), decoded greedily.\nThe same rows sampled at the paper's T = 0.7: {at_07}.\n"
        f"Reports and plots: {out}/runs/eval-*/report.md; learning curve: "
        f"{out}/learning_curve.png; dataset: {out}/dvmap; model: {model}\nDone in {minutes:.1f} min."
    )


def quickstart(spec: QuickstartConfig) -> str:
    """Run every step into `spec.out`; on failure or Ctrl-C remove what this run created."""
    out = check_output_dir(spec.out, spec.force, kind=("quickstart folder", "synthetic_wvs.sav"))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    try:
        return _run(spec)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
