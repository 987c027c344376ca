import json
import shutil
import sys

import numpy as np
import pandas as pd
import pytest
from datasets import load_dataset

from dataset_builder import build_folder
from dataset_builder.build import DEFAULT_PROFILES_PER_COUNTRY
from dvmap_app.cli import main
from dvmap_hf.data.codebook import ATTRIBUTE_NAMES, CROSS_COUNTRIES, QUESTIONS, TRAINING_COUNTRIES, country_name
from dvmap_hf.data.consensus import answer_matrix
from dvmap_hf.data.profiles import profile_frame, profile_id
from dvmap_hf.data.prompts import RELEASE_SYSTEM_EVAL, RELEASE_SYSTEM_TRAIN, render_prompt, system_message
from dvmap_hf.data.schema import CONFIG_SPLITS, FEATURES
from dvmap_hf.data.wvs import read_wvs
from dvmap_hf.errors import DvmapError

from .conftest import SMALL_PROFILES, small_config


def _load(folder, config):
    return load_dataset(str(folder), config)


def _frames(folder):
    return {(c, s): _load(folder, c)[s].to_pandas() for c, splits in CONFIG_SPLITS.items() for s in splits}


def test_every_config_loads_offline_with_the_schema(built):
    folder, report = built
    for config, splits in CONFIG_SPLITS.items():
        ds = _load(folder, config)
        assert tuple(ds) == splits
        for split in splits:
            assert ds[split].features == FEATURES
            assert len(ds[split]) == report["sizes"][f"{config}/{split}"] > 0
    row = _load(folder, "corpus")["train"][0]
    assert row["options"][row["answer_index"]] == row["answer"] and row["num_options"] == len(row["options"])
    system, user = row["prompt"]  # the authors' system message comes first by default
    assert system == {"role": "system", "content": RELEASE_SYSTEM_TRAIN}
    assert user["role"] == "user" and row["question"] in user["content"]
    assert f'"Options": [{", ".join(row["options"])}]' in user["content"]
    bench = _load(folder, "cross_value")["test"][0]["prompt"][0]
    assert bench == {"role": "system", "content": RELEASE_SYSTEM_EVAL}  # their evaluation string


def test_configs_are_disjoint_as_specified(built):
    frames = _frames(built[0])
    corpus = {s: set(frames["corpus", s].profile_id) for s in ("train", "validation", "test")}
    assert not corpus["train"] & corpus["validation"] and not corpus["train"] & corpus["test"]
    assert not corpus["validation"] & corpus["test"]
    assert not set(frames["cross_demographic", "test"].profile_id) & set().union(*corpus.values())
    training_names = {country_name(c) for c in TRAINING_COUNTRIES}
    assert set(frames["cross_country", "test"].country) == {country_name(c) for c in CROSS_COUNTRIES}
    for key in [("corpus", "train"), ("cross_demographic", "test"), ("cross_value", "test")]:
        assert set(frames[key].country) == training_names
    cross_q = set(frames["cross_value", "test"].question_id)
    assert cross_q == {"Q8", "Q9", "Q37", "Q61", "Q70", "Q113", "Q132"}
    assert not cross_q & set(frames["corpus", "train"].question_id)
    ids = pd.concat([f.id for f in frames.values()])
    assert ids.is_unique


def test_profiles_per_country_follow_the_plan(built):
    frames = _frames(built[0])
    per_country = frames["corpus", "validation"].groupby("country").profile_id.nunique()
    assert (per_country == SMALL_PROFILES["corpus", "validation"]).all()
    assert (
        frames["cross_country", "test"].groupby("country").profile_id.nunique()
        == SMALL_PROFILES["cross_country", "test"]
    ).all()


def test_strict_rows_are_unanimous_in_the_raw_file(built, wvs_sav):
    """Every kept (profile, question) group has a single answer among the respondents in the raw data."""
    data = read_wvs(wvs_sav)
    profiles = profile_frame(data)
    questions = list(QUESTIONS.values())
    answers = answer_matrix(data, questions)
    raw = pd.DataFrame(answers, columns=[q.id for q in questions])
    raw["profile_id"] = profile_id(profiles["profile_key"])
    long = raw.melt(id_vars="profile_id", var_name="question_id", value_name="answer_index")
    long = long[long.answer_index >= 0]
    groups = long.groupby(["profile_id", "question_id"]).answer_index.agg(["nunique", "first", "size"])
    for frame in _frames(built[0]).values():
        got = groups.loc[list(zip(frame.profile_id, frame.question_id))]
        assert (got["nunique"] == 1).all()
        assert (got["first"].to_numpy() == frame.answer_index.to_numpy()).all()
        assert (got["size"].to_numpy() == frame.support.to_numpy()).all()
        assert (frame.entropy == 0).all()


def test_frequency_is_the_share_of_the_answer_per_country_and_question(built):
    frame = _frames(built[0])["corpus", "train"]
    expected = frame.groupby(["country", "question_id"]).answer.transform(
        lambda a: a.map(a.value_counts(normalize=True))
    )
    np.testing.assert_allclose(frame.frequency, expected)


def test_same_input_and_seed_give_byte_identical_files(tmp_path, wvs_sav, built):
    again = tmp_path / "again"
    build_folder(small_config(wvs_sav), again)
    first = sorted(p.relative_to(built[0]) for p in built[0].rglob("*.parquet"))
    second = sorted(p.relative_to(again) for p in again.rglob("*.parquet"))
    assert first == second  # names carry content hashes
    for rel in first:
        assert (built[0] / rel).read_bytes() == (again / rel).read_bytes()


def test_rebuilding_in_place_never_serves_stale_rows(tmp_path, wvs_sav):
    out = tmp_path / "dvmap"
    build_folder(small_config(wvs_sav, seed=1), out)
    old = _load(out, "cross_value")["test"]["id"]
    with pytest.raises(Exception, match="not empty"):
        build_folder(small_config(wvs_sav, seed=2), out)
    build_folder(small_config(wvs_sav, seed=2), out, force=True)
    new = _load(out, "cross_value")["test"]["id"]
    assert old != new
    manifest = json.loads((out / "dvmap_manifest.json").read_text())
    expected = pd.read_parquet(out / manifest["files"]["cross_value/test"]).id.tolist()
    assert new == expected
    assert [p.name for p in tmp_path.iterdir()] == ["dvmap"]  # no temporary folders left behind


def test_majority_mode_and_min_support(tmp_path, wvs_sav):
    majority = build_folder(small_config(wvs_sav, consensus="majority"), tmp_path / "m")
    frame = _load(tmp_path / "m", "corpus")["train"].to_pandas()
    assert (frame.entropy > 0).any() and majority["stats"]["pairs_kept"] == majority["stats"]["pairs"]
    card = (tmp_path / "m" / "README.md").read_text()
    assert "most frequent answer" in card and "kept only where every respondent" not in card
    build_folder(small_config(wvs_sav, min_support=2), tmp_path / "s")
    supported = _load(tmp_path / "s", "corpus")["train"].to_pandas()
    assert (supported.support >= 2).all() and (supported.entropy == 0).all()


def test_prompt_styles(tmp_path, wvs_sav):
    build_folder(small_config(wvs_sav, prompt_style="direct", system_prompt="none"), tmp_path / "d")
    (message,) = _load(tmp_path / "d", "cross_value")["test"][0]["prompt"]
    text = message["content"]
    assert "Structured CoT" not in text and "<answer></answer>" in text and "You are playing the role of" in text
    assert "system prompt `none`" in (tmp_path / "d" / "README.md").read_text()


def test_every_row_is_consistent_with_its_own_fields(built):
    """The columnar assembly (takes by profile and question) against the one-row renderer and codebook."""
    for (config, _split), frame in _frames(built[0]).items():
        for row in frame.itertuples():
            profile = {name: getattr(row, name) for name in ATTRIBUTE_NAMES}
            system = system_message("release", config)
            assert row.prompt.tolist() == render_prompt(profile, row.question, row.options, system=system), config
            question = QUESTIONS[row.question_id]
            assert (row.question, row.category) == (question.text, question.category)
            assert row.options.tolist() == list(question.options) and row.num_options == len(question.options)
            assert row.answer == row.options[row.answer_index] and row.id == f"{row.profile_id}-{row.question_id}"


def test_card_and_report(built, wvs_sav):
    folder, report = built
    card = (folder / "README.md").read_text()
    from dvmap_hf.data.digest import file_sha256

    assert file_sha256(wvs_sav) in card and "SYNTHETIC" in card and "not redistributed" in card
    assert "arXiv:2605.14420" in card and "doi:10.14281/18241.24" in card
    assert 0.0 < report["stats"]["share_respondents_with_shared_profile"] < 1.0
    assert report["parameters"]["profiles_per_country"]["corpus/train"] == SMALL_PROFILES["corpus", "train"]
    assert set(DEFAULT_PROFILES_PER_COUNTRY) == set(SMALL_PROFILES)


def test_cli_build_prints_counts_beside_the_papers(tmp_path, wvs_csv, capsys):
    sizes = ",".join(f"{c}/{s}={n}" for (c, s), n in SMALL_PROFILES.items())
    code = main(
        [
            "build",
            "--wvs",
            str(wvs_csv),
            "--out",
            str(tmp_path / "o"),
            "--profiles",
            sizes,
            "--countries",
            "USA,CAN,DEU",
            "--cross-countries",
            "NGA",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "41,813" in out and "cross_value/test" in out and "(paper 32.8%)" in out
    frame = _load(tmp_path / "o", "corpus")["train"].to_pandas()
    assert set(frame.country) == {"United States of America", "Canada", "Germany"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--countries", "USA,XYZ"], "--countries names countries absent from"),
        (["--cross-countries", "USA"], "both training and cross-country: USA"),
        (["--consensus", "loose"], "argument --consensus: invalid choice: 'loose'"),
        (["--min-support", "100000"], "no rows left for corpus/train after filtering"),
        (["--profiles", "corpus/train:5"], "expected CONFIG/SPLIT=N"),
        (["--require", "shoe_size"], "unknown attribute 'shoe_size'"),
    ],
)
def test_cli_bad_input_exits_non_zero_and_writes_nothing(tmp_path, wvs_csv, capsys, args, message):
    out = tmp_path / "o"
    code = main(["build", "--wvs", str(wvs_csv), "--out", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_attribute_columns_hold_release_strings(built):
    frame = _frames(built[0])["corpus", "train"]
    assert set(frame.income_bracket) <= {"Low income", "Middle income", "High income"}
    assert "Not Answered" not in set(frame.life_stage)
    assert set(frame.has_children) <= {"has at least one child", "has no children", "Not Answered"}
    assert all(frame[name].notna().all() for name in ATTRIBUTE_NAMES)


def test_a_question_cannot_be_both_training_and_cross_value(wvs_csv):
    with pytest.raises(DvmapError, match="both training and cross-value: Q1"):
        small_config(wvs_csv, cross_value_questions=("Q1", "Q8"))


def test_the_source_hash_computed_in_a_child_process_is_the_files_sha256(wvs_sav):
    import hashlib

    from dvmap_hf.data.digest import file_sha256_beside

    with file_sha256_beside(wvs_sav) as sha256:
        assert sha256() == hashlib.sha256(wvs_sav.read_bytes()).hexdigest()
    with file_sha256_beside(wvs_sav):
        pass  # leaving before asking stops the child cleanly


@pytest.mark.parametrize("python", ["/nonexistent/python", "false"])  # cannot start; starts and fails
def test_the_source_hash_falls_back_to_this_process(wvs_sav, monkeypatch, python):
    import hashlib

    from dvmap_hf.data.digest import file_sha256_beside

    monkeypatch.setattr(sys, "executable", shutil.which(python) or python)
    with file_sha256_beside(wvs_sav) as sha256:
        assert sha256() == hashlib.sha256(wvs_sav.read_bytes()).hexdigest()


def test_compact_style_puts_the_question_first(tmp_path, wvs_sav):
    build_folder(small_config(wvs_sav, prompt_style="compact", system_prompt="none"), tmp_path / "c")
    frame = _load(tmp_path / "c", "cross_country")["test"].to_pandas()
    for row in frame.head(30).itertuples():
        profile = {name: getattr(row, name) for name in ATTRIBUTE_NAMES}
        assert row.prompt.tolist() == render_prompt(profile, row.question, row.options, "compact")
        text = row.prompt[0]["content"]
        assert text.startswith(f"Question: {row.question}\nOptions: {', '.join(row.options)}\nCountry: ")
        assert text.endswith("Answer as this person, inside <answer></answer>.")
