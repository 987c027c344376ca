"""`dvmap_hf/training/card.py`: the model card, on the Hub's own ModelCardData."""

from __future__ import annotations

from huggingface_hub import EvalResult, ModelCard

from dvmap_hf.training.card import RunInfo, final_metrics, model_card


def test_the_card_metadata_is_the_hubs_own(tmp_path):
    info = RunInfo(
        "Qwen/Qwen3-8B", "my-org/dvmap", "corpus", "training/recipes/qwen3-8b.yaml", ["accuracy_reward"], [1.0]
    )
    result = EvalResult(
        task_type="text-generation",
        dataset_type="my-org/dvmap",
        dataset_name="DVMap cross_demographic",
        dataset_config="cross_demographic",
        metric_type="accuracy",
        metric_value=0.486,
    )
    model_card(info, final_metrics([{"loss": 2.0}, {"loss": 1.5, "reward": 0.4}]), [result]).save(
        tmp_path / "README.md"
    )
    card = ModelCard.load(tmp_path / "README.md")
    assert card.data.base_model == "Qwen/Qwen3-8B" and card.data.datasets == ["my-org/dvmap"]
    assert {"dvmap", "trl", "grpo"} <= set(card.data.tags) and card.data.library_name == "transformers"
    assert card.data.eval_results[0].metric_value == 0.486
    assert "Reward: 1 * accuracy_reward" in card.text and "| loss | 1.5 |" in card.text
    assert "https://github.com/)" not in card.content  # no placeholder link


def test_local_paths_are_not_hub_metadata(tmp_path):
    local = tmp_path / "tiny"
    local.mkdir()
    card = model_card(RunInfo(str(local), str(tmp_path), "corpus", method="SFT"), {})
    assert card.data.base_model is None and card.data.datasets is None
    assert "Method: SFT (TRL)" in card.text and "(none: SFT)" in card.text


def test_eval_runs_go_into_the_card_as_the_hubs_model_index(built, tiny_model, tmp_path, recording_hub, capsys):
    import shutil

    from dvmap_app.cli import main

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    argv = ["eval", "--model", str(model), "--dataset", str(built[0]), "--limit", "8", "--max-new-tokens", "4"]
    for config in ("cross_demographic", "cross_value"):
        assert main([*argv, "--config", config, "--bootstrap", "40", "--out", str(tmp_path / config)]) == 0
    assert main(["model-card", str(model), str(tmp_path / "cross_demographic")]) == 0
    assert main(["push-model", str(model), "--repo-id", "my-org/tiny", "--runs", str(tmp_path / "cross_value")]) == 0
    card = ModelCard.load(model / "README.md")
    configs = {(r.dataset_config, r.metric_type) for r in card.data.eval_results}
    assert ("cross_demographic", "accuracy") in configs and ("cross_value", "wasserstein_distance") in configs
    assert len(card.data.eval_results) == 10  # five figures x two configs; rerunning replaces, not repeats
    assert main(["model-card", str(model), str(tmp_path / "cross_value")]) == 0
    assert len(ModelCard.load(model / "README.md").data.eval_results) == 10
    (_, repo, create), (_, _, upload) = recording_hub.calls
    assert repo == "my-org/tiny" and create["repo_type"] == "model" and upload["folder_path"] == str(model)
    capsys.readouterr()
    assert main(["model-card", str(tiny_model), str(tmp_path / "cross_value")]) == 2
    assert "cannot go into the card" in capsys.readouterr().err


def test_a_card_is_written_only_into_a_model_folder_and_only_from_the_models_runs(built, tiny_model, tmp_path, capsys):
    """`dvmap model-card` created a missing folder or filled an empty one with a card, and wrote a majority
    run's figures into a model's card as the model's (issue 33's probe pass): now each is refused, nothing
    written."""
    import shutil

    from dvmap_app.cli import main

    run = tmp_path / "majority"
    assert main(["eval", "--model", "majority", "--dataset", str(built[0]), "--limit", "20", "--out", str(run)]) == 0
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    capsys.readouterr()
    for folder, said in ((tmp_path / "nowhere", "no config.json"), (tmp_path / "empty", "no config.json")):
        (tmp_path / "empty").mkdir(exist_ok=True)
        assert main(["model-card", str(folder), str(run)]) == 2
        assert f"{folder}: not a model folder ({said})" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists() and not any((tmp_path / "empty").iterdir())
    assert main(["model-card", str(model), str(run)]) == 2
    assert "majority is a reference predictor, not this model" in capsys.readouterr().err
    assert not (model / "README.md").exists()


def test_a_card_whose_yaml_header_is_broken_is_named_and_kept(tiny_model, tmp_path, capsys, built):
    """A README.md with a broken YAML header raised yaml's ParserError traceback (issue 33's probe pass)."""
    import shutil

    from dvmap_app.cli import main

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    broken = "---\nlicense: [unclosed\n---\n# my notes\n"
    (model / "README.md").write_text(broken)
    argv = ["eval", "--model", str(model), "--dataset", str(built[0]), "--limit", "4", "--max-new-tokens", "2"]
    assert main([*argv, "--bootstrap", "0", "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    assert main(["model-card", str(model), str(tmp_path / "run")]) == 2
    assert "README.md: its YAML header cannot be read (while parsing a flow sequence" in capsys.readouterr().err
    assert (model / "README.md").read_text() == broken
