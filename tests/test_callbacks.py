"""`dvmap_hf/training/callbacks.py`: the held-out accuracy callback."""

from __future__ import annotations


def test_the_held_out_curve_scores_like_eval_and_leaves_training_randomness_alone(cold_started, built_plain):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from dvmap_hf.data.folder import load_split
    from dvmap_hf.evaluation.backends import TransformersBackend
    from dvmap_hf.evaluation.config import InferenceConfig
    from dvmap_hf.evaluation.parsing import parse_answer
    from dvmap_hf.training.callbacks import HeldOutAccuracy

    rows = load_split(built_plain, "corpus", "validation").select(range(40)).to_list()
    model, tokenizer = AutoModelForCausalLM.from_pretrained(cold_started), AutoTokenizer.from_pretrained(cold_started)
    torch.manual_seed(7)
    before = torch.get_rng_state()
    accuracy = HeldOutAccuracy(None, rows, every=1).measure(model, tokenizer)
    assert torch.equal(torch.get_rng_state(), before)
    completions = TransformersBackend.from_pretrained(
        str(cold_started), InferenceConfig(max_new_tokens=12, greedy=True)
    )(rows)
    expected = sum(parse_answer(c, r["options"]) == r["answer_index"] for c, r in zip(completions, rows, strict=True))
    assert accuracy == expected / len(rows) and model.training is False


def test_the_held_out_accuracy_reaches_the_reporters_and_leaves_trls_metrics_whole(workdir, monkeypatch):
    """Logged through Trainer.log (every reporting callback sees it), not TRL's log, which would also flush
    the trainer's running metric averages at the callback's steps."""
    from transformers import TrainerCallback

    from dvmap_hf.data.folder import load_split
    from dvmap_hf.training.arguments import parse_sft
    from dvmap_hf.training.callbacks import HeldOutAccuracy
    from dvmap_hf.training.sft import sft_trainer
    from dvmap_hf.training.stages import train_and_publish
    from tests.support import ROOT

    class Reporter(TrainerCallback):
        seen: list = []

        def on_log(self, args, state, control, logs=None, **kwargs):
            self.seen.append(dict(logs))

    monkeypatch.chdir(workdir)
    args = ["--config", str(ROOT / "training/recipes/tiny-cpu-sft.yaml"), "--max_steps", "4", "--logging_steps", "2"]
    args += ["--max_train_samples", "64", "--token_metrics", "true"]  # TRL's metrics on: they must stay unflushed
    trainer = sft_trainer(*parse_sft([*args, "--output_dir", str(workdir / "runs/watched"), "--report_to", "none"]))
    rows = load_split("dvmap", "corpus", "validation").select(range(8)).to_list()
    trainer.add_callback(Reporter())
    trainer.add_callback(HeldOutAccuracy(trainer, rows, every=3))
    train_and_publish(trainer, "test")
    heldout = [e["step"] for e in trainer.state.log_history if "heldout_accuracy" in e]
    assert heldout == [0, 3, 4]
    assert [e["step"] for e in trainer.state.log_history if "loss" in e] == [2, 4]
    assert all("mean_token_accuracy" in e for e in trainer.state.log_history if "loss" in e)  # TRL's, unflushed
    assert sum("heldout_accuracy" in logs for logs in Reporter.seen) == 3
