"""`dvmap_hf/data/prompts.py`: the prompt styles, the authors' released text byte for byte, system messages."""

from __future__ import annotations

import pytest
from datasets import load_dataset

from dataset_builder import build_folder
from dataset_builder.release import RELEASE_COLUMNS
from dvmap_hf.data.codebook import (
    AGREE_4,
    ATTRIBUTE_NAMES,
)
from dvmap_hf.data.prompts import (
    RELEASE_SYSTEM_EVAL,
    RELEASE_SYSTEM_TRAIN,
    render_prompt,
    target_completion,
)
from dvmap_hf.training import rewards
from tests.support import SAMPLES, _load, small_config


def test_prompt_styles(tmp_path, wvs_sav):
    build_folder(small_config(wvs_sav, prompt_style="direct", system_prompt="none"), tmp_path / "d")
    (message,) = _load(tmp_path / "d", "cross_value")["test"][0]["prompt"]
    text = message["content"]
    assert "Structured CoT" not in text and "<answer></answer>" in text and "You are playing the role of" in text
    assert "system prompt `none`" in (tmp_path / "d" / "README.md").read_text()


def test_compact_style_puts_the_question_first(tmp_path, wvs_sav):
    build_folder(small_config(wvs_sav, prompt_style="compact", system_prompt="none"), tmp_path / "c")
    frame = _load(tmp_path / "c", "cross_country")["test"].to_pandas()
    for row in frame.head(30).itertuples():
        profile = {name: getattr(row, name) for name in ATTRIBUTE_NAMES}
        assert row.prompt.tolist() == render_prompt(profile, row.question, row.options, "compact")
        text = row.prompt[0]["content"]
        assert text.startswith(f"Question: {row.question}\nOptions: {', '.join(row.options)}\nCountry: ")
        assert text.endswith("Answer as this person, inside <answer></answer>.")


def _profile(row: dict) -> dict:
    return {RELEASE_COLUMNS[k]: v for k, v in row.items() if k in RELEASE_COLUMNS}


@pytest.mark.parametrize("row", SAMPLES, ids=lambda r: r["Q_id"])
def test_release_style_reproduces_the_released_prompt_byte_for_byte(row):
    messages = render_prompt(_profile(row), row["Question"], row["Options"].split(", "), style="release")
    assert messages == [{"role": "user", "content": row["prompt"]}]


def test_the_authors_system_prompts_verbatim():
    # the literals of verl rl_dataset.py `_build_messages` and eval_api_parallel.py `SYSTEM_PROMPT`
    train = (
        "\n                        Respond in the following format:\n                        <reasoning>\n"
        "                        ...\n                        </reasoning>\n                        <answer>\n"
        "                        ...\n                        </answer>\n                        "
    )
    assert RELEASE_SYSTEM_TRAIN == train
    assert (
        RELEASE_SYSTEM_EVAL
        == "\nRespond in the following format:\n<reasoning>\n ...\n</reasoning>\n<answer>\n  ...\n</answer>\n"
    )


def test_a_release_style_build_renders_every_row_like_the_one_row_renderer(tmp_path, wvs_sav):
    build_folder(small_config(wvs_sav, prompt_style="release"), tmp_path / "r")
    for config in ("corpus", "cross_value"):
        frame = load_dataset(str(tmp_path / "r"), config)["test"].to_pandas()
        system = RELEASE_SYSTEM_TRAIN if config == "corpus" else RELEASE_SYSTEM_EVAL
        for row in frame.head(50).itertuples():
            profile = {name: getattr(row, name) for name in ATTRIBUTE_NAMES}
            expected = render_prompt(profile, row.question, list(row.options), "release", system)
            assert row.prompt.tolist() == expected
            assert f"**Options**: {', '.join(row.options)}\n" in row.prompt[-1]["content"]
            assert f"at the level of '{row.education_level}'" in row.prompt[-1]["content"]
    assert "prompt style\n`release`" in (tmp_path / "r" / "README.md").read_text()


def test_the_cold_start_target_follows_the_system_prompt():
    with_system = [{"role": "system", "content": RELEASE_SYSTEM_TRAIN}, {"role": "user", "content": "q"}]
    target = target_completion(with_system, "Agree")
    assert target == "<reasoning>\n</reasoning>\n<answer>\nAgree\n</answer>"
    assert rewards.release_reward([target], options=[AGREE_4], answer_index=[1]) == [pytest.approx(2.8)]
    assert rewards.accuracy_reward([target], options=[AGREE_4], answer_index=[1]) == [1.0]
    assert target_completion([{"role": "user", "content": "q"}], "Agree") == "<answer>Agree</answer>"
