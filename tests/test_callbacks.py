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
