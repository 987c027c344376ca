"""`dvmap import-release` on small files in exactly the release's format, written here."""

import json

import pandas as pd
import pytest
from datasets import Dataset, load_dataset

from dvmap_app.cli import main
from dvmap_hf.data.codebook import ATTRIBUTES, QUESTIONS
from dvmap_hf.data.prompts import RELEASE_SYSTEM_EVAL, RELEASE_SYSTEM_TRAIN
from dvmap_hf.data.schema import CONFIG_SPLITS, FEATURES

PROFILE = {
    "Country": "United States of America",
    "Gender": "Female",
    "Marital Status": "Married",
    "Has Children": "has at least one child",
    "Education Level": "Bachelor or equivalent (ISCED 6)",
    "Occupation": "Full time employee (30 hours a week or more)",
    "Work Nature": "Private business or industry",
    "Religion": "Roman Catholic; Latin Church;",
    "Life Stage": "Young Adulthood",
    "Income Bracket": "Middle income",
    "Common Language": "English",
}


def release_rows(question_ids, country="United States of America", bad=False):
    rows = []
    for i, qid in enumerate(question_ids):
        q = QUESTIONS[qid]
        rows.append(
            {
                "Q_id": qid,
                **PROFILE,
                "Country": country,
                "Gender": ["Female", "Male"][i % 2],
                "Category": q.category,
                "Question": q.text,
                "prompt": f"You are playing the role of ... {q.text}",
                "Options": ", ".join(q.options),
                "answer": q.options[i % len(q.options)],
                "frequency": 0.5,
            }
        )
    if bad:
        rows.append({**rows[0], "answer": "Maybe"})  # answer not among the options
        rows.append({**rows[0], "Options": ""})  # unparseable Options
        rows.append({**rows[0], "Options": "Agree, Agree"})  # duplicate options
    return rows


@pytest.fixture
def release(tmp_path):
    root = tmp_path / "DVMap"
    corpus = root / "Demographic_Value_Alignment" / "DVMap_Corpus"
    corpus.mkdir(parents=True)
    training = ["Q1", "Q2", "Q27", "Q46", "Q49"]
    for name in ("train", "dev", "test"):
        pd.DataFrame(release_rows(training, bad=name == "train")).assign(data_source="wvs").to_parquet(
            corpus / f"{name}.parquet"
        )
    bench = root / "Triple-Generalization_Evaluation_Benchmark"
    for folder, qs, country in [
        ("Cross-Demographic", training, "Canada"),
        ("Cross-Country", training, "Nigeria"),
        ("Cross-Value", ["Q8", "Q61", "Q132"], "Japan"),
    ]:
        Dataset.from_list(release_rows(qs, country)).save_to_disk(str(bench / folder))
    return root


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
    assert (
        main(
            [
                "eval",
                "--model",
                "majority",
                "--dataset",
                str(tmp_path / "imported"),
                "--config",
                "cross_demographic",
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 0
    )


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
