"""`dataset_builder/release.py`: `dvmap import-release` on files in the release's format, written here."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from datasets import Dataset, load_dataset

from dvmap_app.cli import main
from dvmap_hf.data.codebook import ATTRIBUTES
from dvmap_hf.data.prompts import RELEASE_SYSTEM_EVAL, RELEASE_SYSTEM_TRAIN, render_prompt
from dvmap_hf.data.schema import CONFIG_SPLITS, FEATURES
from dvmap_hf.evaluation import robustness
from tests.support import SAMPLES, release_rows


def test_import_the_whole_release(release, tmp_path, capsys):
    out = tmp_path / "imported"
    assert main(["import-release", str(release), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 row(s) left out (1 answer not in options, 2 unparseable Options, 0 with empty fields)" in printed
    for config, splits in CONFIG_SPLITS.items():
        ds = load_dataset(str(out), config)
        assert tuple(ds) == splits
        for split in splits:
            assert ds[split].features == FEATURES
    train = load_dataset(str(out), "corpus")["train"].to_pandas()
    assert len(train) == 5 and set(train.question_id) == {"Q1", "Q2", "Q27", "Q46", "Q49"}
    row = train.iloc[2]
    assert row.options[row.answer_index] == row.answer and row.num_options == len(row.options)
    system, user = row.prompt  # the authors' training system message first (the corpus), as verl sent it
    assert system["role"] == "system" and system["content"] == RELEASE_SYSTEM_TRAIN
    assert user["role"] == "user" and user["content"].startswith("You are playing the role of")
    assert row.support == -1 and row.income_bracket == "Middle income"
    assert train.id.is_unique and train.profile_id.str.len().eq(16).all()
    card = (out / "README.md").read_text()
    manifest = json.loads((out / "dvmap_manifest.json").read_text())
    assert "imported from the authors' released DVMap files".lower() in card.lower()
    assert manifest["sources"]["corpus/train"]["sha256"] in card
    train_problems = next(p for p in manifest["problems"] if p["source"].endswith("train.parquet"))
    assert [e["why"] for e in train_problems["examples"]] == [
        "answer not among the options",
        "unparseable Options",
        "unparseable Options",
    ]
    cross_value = load_dataset(str(out), "cross_value")["test"].to_pandas()
    assert set(cross_value.question_id) == {"Q8", "Q61", "Q132"} and set(cross_value.country) == {"Japan"}
    assert cross_value.prompt[0][0]["content"] == RELEASE_SYSTEM_EVAL  # their evaluation script's message
    assert manifest["system_prompt"] == "release" and "System prompt `release`" in card


def test_import_without_the_system_prompt(release, tmp_path):
    out = tmp_path / "user-only"
    assert main(["import-release", str(release), "--out", str(out), "--system-prompt", "none"]) == 0
    prompts = load_dataset(str(out), "cross_country")["test"]["prompt"]
    assert all(len(p) == 1 and p[0]["role"] == "user" for p in prompts)
    assert main(["import-release", str(release), "--out", str(tmp_path / "x"), "--system-prompt", "yes"]) == 2
    assert not (tmp_path / "x").exists()


def test_a_subset_and_a_single_file(release, tmp_path):
    bench = release / "Triple-Generalization_Evaluation_Benchmark" / "Cross-Value"
    assert main(["import-release", str(bench), "--out", str(tmp_path / "cv")]) == 0
    assert list(load_dataset(str(tmp_path / "cv"), "cross_value")) == ["test"]
    dev = release / "Demographic_Value_Alignment" / "DVMap_Corpus" / "dev.parquet"
    assert main(["import-release", str(dev), "--out", str(tmp_path / "dev")]) == 0
    assert list(load_dataset(str(tmp_path / "dev"), "corpus")) == ["validation"]


def test_eval_runs_unchanged_on_an_import(release, tmp_path):
    main(["import-release", str(release), "--out", str(tmp_path / "imported")])
    evaluate = "eval --model majority --config cross_demographic --dataset".split()
    assert main([*evaluate, str(tmp_path / "imported"), "--out", str(tmp_path / "run")]) == 0


def test_profile_ids_match_a_build(built, tmp_path):
    """The same 11 attribute strings give the same profile_id in a build and in an import."""
    frame = load_dataset(str(built[0]), "cross_value")["test"].to_pandas().head(3)
    names = {a.name: a.release_name for a in ATTRIBUTES}
    rows = frame.rename(columns=names).assign(
        Q_id=frame.question_id,
        Category=frame.category,
        Question=frame.question,
        prompt="p",
        Options=frame.options.str.join(", "),
        frequency=frame.frequency,
    )
    release = tmp_path / "Cross-Value"
    Dataset.from_pandas(
        rows[["Q_id", *names.values(), "Category", "Question", "prompt", "Options", "answer", "frequency"]],
        preserve_index=False,
    ).save_to_disk(str(release))
    main(["import-release", str(release), "--out", str(tmp_path / "imp")])
    imported = load_dataset(str(tmp_path / "imp"), "cross_value")["test"].to_pandas()
    assert list(imported.profile_id) == list(frame.profile_id)


def test_compare_release(built, release, tmp_path, capsys):
    assert main(["compare-release", "--build", str(built[0]), "--release", str(release)]) == 0
    report = capsys.readouterr().out
    assert "| corpus | train |" in report and "## Attribute values" in report and "TV distance" in report


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.mkdir(), "no release files found"),
        (
            lambda p: (p.mkdir(), pd.DataFrame({"Q_id": ["Q1"]}).to_parquet(p / "train.parquet")),
            "missing release column",
        ),
    ],
)
def test_bad_release_input(tmp_path, capsys, make, message):
    make(tmp_path / "rel")
    assert main(["import-release", str(tmp_path / "rel"), "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_imported_release_rows_round_trip_through_the_release_style(tmp_path):
    corpus = tmp_path / "DVMap" / "DVMap_Corpus"
    corpus.mkdir(parents=True)
    pd.DataFrame(SAMPLES).to_parquet(corpus / "dev.parquet")
    from dataset_builder.release import import_release

    import_release(tmp_path / "DVMap", tmp_path / "imported")
    rows = load_dataset(str(tmp_path / "imported"), "corpus")["validation"].to_list()
    assert len(rows) == len(SAMPLES)
    for row in rows:
        again = render_prompt(row, row["question"], row["options"], "release", RELEASE_SYSTEM_TRAIN)
        assert row["prompt"] == again  # the kit's release style is the authors' template
        assert robustness.flipped_prompt(row, "gender", "Other")[-1]["content"].count("'") >= 2


def test_import_release_reports_rows_with_empty_fields(tmp_path):
    import pandas as pd

    corpus = tmp_path / "DVMap" / "DVMap_Corpus"
    corpus.mkdir(parents=True)
    rows = release_rows(["Q1", "Q2", "Q27"])
    rows[1]["Country"] = None
    pd.DataFrame(rows).to_parquet(corpus / "test.parquet")
    from dataset_builder.release import import_release

    report = import_release(tmp_path / "DVMap", tmp_path / "out")
    (problem,) = report["problems"]
    assert problem["empty_fields"] == 1 and problem["examples"][0]["why"] == "empty Country"
    assert report["sizes"]["corpus/test"] == 2
