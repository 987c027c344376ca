"""`dataset_builder/build.py`: profiles, consensus, sampling and rows of a build."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dataset_builder import build_folder
from dvmap_hf.data.codebook import ATTRIBUTE_NAMES, CROSS_COUNTRIES, QUESTIONS, TRAINING_COUNTRIES, country_name
from dvmap_hf.data.consensus import answer_matrix
from dvmap_hf.data.profiles import profile_frame, profile_id
from dvmap_hf.data.prompts import RELEASE_SYSTEM_EVAL, RELEASE_SYSTEM_TRAIN, render_prompt, system_message
from dvmap_hf.data.schema import CONFIG_SPLITS, FEATURES
from dvmap_hf.data.wvs import read_wvs
from dvmap_hf.errors import DvmapError
from tests.support import SMALL_PROFILES, _load, small_config


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


def test_majority_mode_and_min_support(tmp_path, wvs_sav):
    majority = build_folder(small_config(wvs_sav, consensus="majority"), tmp_path / "m")
    frame = _load(tmp_path / "m", "corpus")["train"].to_pandas()
    assert (frame.entropy > 0).any() and majority["stats"]["pairs_kept"] == majority["stats"]["pairs"]
    card = (tmp_path / "m" / "README.md").read_text()
    assert "most frequent answer" in card and "kept only where every respondent" not in card
    build_folder(small_config(wvs_sav, min_support=2), tmp_path / "s")
    supported = _load(tmp_path / "s", "corpus")["train"].to_pandas()
    assert (supported.support >= 2).all() and (supported.entropy == 0).all()


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


def test_attribute_columns_hold_release_strings(built):
    frame = _frames(built[0])["corpus", "train"]
    assert set(frame.income_bracket) <= {"Low income", "Middle income", "High income"}
    assert "Not Answered" not in set(frame.life_stage)
    assert set(frame.has_children) <= {"has at least one child", "has no children", "Not Answered"}
    assert all(frame[name].notna().all() for name in ATTRIBUTE_NAMES)


def test_silent_data_defects_are_named_with_the_files_own_rows(tmp_path):
    from dataset_builder import BuildConfig, build_folder
    from dvmap_hf.data.synth import SynthConfig, synthesize

    frame = synthesize(SynthConfig(respondents=3000, seed=5))
    last = frame["B_COUNTRY_ALPHA"].iloc[-1]  # a country whose rows come after those the build leaves out
    late = int(np.flatnonzero((frame["B_COUNTRY_ALPHA"] == last).to_numpy())[5])
    bad = frame.copy()
    bad.loc[late, "Q288"] = 11
    bad.to_csv(tmp_path / "bad.csv", index=False)
    others = tuple(c for c in ("NGA", "USA") if c != last)[:1]
    config = BuildConfig(wvs=tmp_path / "bad.csv", training_countries=(last,), cross_countries=others)
    with pytest.raises(DvmapError, match=rf"column Q288, data row {late + 1}: code 11"):
        build_folder(config, tmp_path / "o1")
    twice = pd.concat([frame, frame.iloc[[7]]], ignore_index=True)
    twice.to_csv(tmp_path / "twice.csv", index=False)
    rid = frame["D_INTERVIEW"].iloc[7]
    with pytest.raises(DvmapError, match=rf"respondent id {rid} appears 2 times \(data rows 8, {len(frame) + 1}\)"):
        build_folder(BuildConfig(wvs=tmp_path / "twice.csv"), tmp_path / "o2")
    blank = frame.copy()
    blank["Q46"] = np.nan
    blank.to_csv(tmp_path / "blank.csv", index=False)
    with pytest.raises(DvmapError, match="column Q46 \\(value question\\) has no answer"):
        build_folder(BuildConfig(wvs=tmp_path / "blank.csv"), tmp_path / "o3")
    assert not any((tmp_path / name).exists() for name in ("o1", "o2", "o3"))


def test_a_distributional_build_keeps_every_pair_with_its_answer_counts(wvs_sav, tmp_path):
    """`--consensus distribution`: every pair the majority mode keeps, with its counts in scale order summing
    to its support and peaking at its `answer` (ties to the earlier option); the strict build keeps its
    schema (no counts column) and its rows."""
    import numpy as np

    build_folder(small_config(wvs_sav, consensus="distribution"), tmp_path / "dist")
    build_folder(small_config(wvs_sav, consensus="majority"), tmp_path / "majority")
    build_folder(small_config(wvs_sav), tmp_path / "strict")
    dist, majority = _load(tmp_path / "dist", "corpus")["train"], _load(tmp_path / "majority", "corpus")["train"]
    assert dist["id"] == majority["id"] and dist["answer"] == majority["answer"]
    rows = zip(dist["answer_counts"], dist["support"], dist["num_options"], dist["answer_index"], dist["entropy"])
    for counts, support, k, answer, entropy in rows:
        assert len(counts) == k and sum(counts) == support and int(np.argmax(counts)) == answer
        assert (entropy > 0) == (np.count_nonzero(counts) > 1)
    assert any(e > 0 for e in dist["entropy"])  # the synthetic sample has profiles that disagree
    strict = _load(tmp_path / "strict", "cross_value")["test"]
    assert "answer_counts" not in strict.column_names
    card = (tmp_path / "dist" / "README.md").read_text()
    assert "`answer_counts`" in card and "with H > 0" in card
