"""What the SFT cold start's loss costs on the tiny CPU recipe (tiny-cpu-sft.yaml, the quickstart's).

The same batches, forward + backward, three ways taken in turn (a slow spell of the machine hits all
three): TRL's loss with its token metrics (`token_metrics: true`), the model's own loss over full-vocabulary
logits at every position (the kit's `token_metrics: false` before 2026-12-02), and the kit's loss from
the logits of the completion positions alone (`token_metrics: false` now). The losses must agree.

    python bench/sft_step.py
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import dataset_folder, tiny_model, workspace  # noqa: E402
from common import line  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BATCHES, ROUNDS = 20, 3


def _trainer():
    from dvmap_hf.training.arguments import parse_sft
    from dvmap_hf.training.sft import sft_trainer

    flags = ["--config", str(ROOT / "training/recipes/tiny-cpu-sft.yaml"), "--model_name_or_path", str(tiny_model())]
    flags += ["--dataset_name", str(dataset_folder(quickstart=True)), "--output_dir", str(workspace() / "sft-step")]
    return sft_trainer(*parse_sft(flags + ["--disable_tqdm", "true", "--report_to", "none"]))


def main(argv=None) -> list[dict]:
    from transformers import Trainer
    from trl import SFTTrainer

    os.environ.setdefault("TQDM_DISABLE", "1")
    trainer = _trainer()
    model = trainer.model.train()
    batches = list(itertools.islice(trainer.get_train_dataloader(), BATCHES))
    losses = {
        "trl_token_metrics": lambda batch, n: SFTTrainer.compute_loss(trainer, model, dict(batch), False, n),
        "full_logits": lambda batch, n: Trainer.compute_loss(trainer, model, dict(batch), False, n),
        "completion_logits": lambda batch, n: trainer.compute_loss(model, dict(batch), False, n),
    }
    trainer.token_metrics = False
    seconds = {name: float("inf") for name in losses}
    values = {name: [] for name in losses}
    for _ in range(ROUNDS):
        for name, loss_of in losses.items():
            start = time.perf_counter()
            for batch in batches:
                model.zero_grad()
                loss = loss_of(batch, (batch["labels"][:, 1:] != -100).sum())
                loss.backward()
                values[name].append(loss.item())
            seconds[name] = min(seconds[name], time.perf_counter() - start)
    gap = max(abs(a - b) for name in losses for a, b in zip(values[name], values["full_logits"], strict=True))
    per_step = {name: 1000 * s / BATCHES for name, s in seconds.items()}
    print(
        ", ".join(f"{name} {ms:.1f} ms" for name, ms in per_step.items()),
        f"(forward + backward, batch of 32); largest loss difference {gap:.1e}",
    )
    full, trl = (per_step[name] / per_step["completion_logits"] for name in ("full_logits", "trl_token_metrics"))
    return [
        line("sft loss: full logits / completion logits", full, "x", ">= 1.5", full >= 1.5),
        line("sft loss: TRL token metrics / completion logits", trl, "x", ">= 2", trl >= 2),
        line("sft loss: largest difference of the three", gap, "", "<= 1e-4", gap <= 1e-4),
    ]


if __name__ == "__main__":
    main()
