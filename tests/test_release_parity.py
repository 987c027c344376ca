"""Parity with the authors' released code and data: prompt text, system prompts, rewards, lenient scoring.

Each released rule is re-stated here on its own, in the shape of the authors' code (the `Options` value
their reward receives is the released comma-joined string), and the kit's implementation must agree with
it on every generated completion.
"""

import json
import math
import random
import re
from pathlib import Path

import pandas as pd
import pytest
from datasets import load_dataset

from dataset_builder import build_folder
from dataset_builder.release import RELEASE_COLUMNS
from dvmap_hf.evaluation import robustness, runner
from dvmap_hf.training import rewards
from dvmap_hf.data.codebook import AGREE_4, ATTRIBUTE_NAMES, LEVELS, QUESTIONS
from dvmap_hf.data.prompts import RELEASE_SYSTEM_EVAL, RELEASE_SYSTEM_TRAIN, render_prompt, target_completion
from dvmap_hf.evaluation.backends import TransformersBackend
from dvmap_hf.evaluation.config import EvalConfig, InferenceConfig
from dvmap_hf.evaluation.parsing import parse_answer
from dvmap_hf.evaluation.runner import run_eval
from tests.conftest import small_config

SAMPLES = [json.loads(line) for line in (Path(__file__).parent / "data" / "release_samples.jsonl").open()]
TAGS = ("<reasoning>", "</reasoning>", "<answer>", "</answer>")


def _profile(row: dict) -> dict:
    return {RELEASE_COLUMNS[k]: v for k, v in row.items() if k in RELEASE_COLUMNS}


# ---- prompt text and system prompts --------------------------------------------------------------------


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


def test_the_cold_start_target_follows_the_system_prompt():
    with_system = [{"role": "system", "content": RELEASE_SYSTEM_TRAIN}, {"role": "user", "content": "q"}]
    target = target_completion(with_system, "Agree")
    assert target == "<reasoning>\n</reasoning>\n<answer>\nAgree\n</answer>"
    assert rewards.release_reward([target], options=[AGREE_4], answer_index=[1]) == [pytest.approx(2.8)]
    assert rewards.accuracy_reward([target], options=[AGREE_4], answer_index=[1]) == [1.0]
    assert target_completion([{"role": "user", "content": "q"}], "Agree") == "<answer>Agree</answer>"


# ---- the released rewards --------------------------------------------------------------------------------


def authors_score(solution, gold, options_text, variant="wvs", frequency=0.0):
    """verl reward_score/WVS*.py `compute_score`, re-stated; `options_text` is the released string."""
    clipped = solution[-300:] if len(solution) > 300 else solution
    found = re.findall(r"<answer>(.*?)</answer>", clipped, flags=re.DOTALL)
    answer = found[-1].strip() if found else None
    if answer in ("", "..."):
        answer = None
    bonus = 0.0
    for tag in TAGS:
        if tag in solution:
            bonus += 0.2
    if answer is None:
        return bonus
    others = [o for o in options_text if o != gold]
    lenient = gold in answer and all(o not in answer for o in others)
    p = 1 - frequency
    if variant == "wvs":
        return 2.0 + bonus if answer == gold else (1.0 + bonus if lenient else bonus)
    if answer in options_text:
        if answer == gold:
            return {"d": 2.0 + bonus, "p": 2.0 * p + bonus, "g": 2.0 + bonus + 1}[variant]
        i, j, n = options_text.index(answer), options_text.index(gold), len(options_text)
        if variant == "g":
            return math.exp(-(((i - j) / (n - 1)) ** 2) / (2 * 0.25**2)) + bonus
        dr = 1 - abs(i - j) / n
        return dr + bonus if variant == "d" else dr * p + bonus
    if lenient:
        return 1.0 + bonus if variant != "p" else 1.0 * p + bonus
    matches = [o for o in others if o in answer]
    if variant == "g" or len(matches) != 1:
        return bonus
    dr = 1 - abs(options_text.index(matches[0]) - options_text.index(gold)) / len(options_text)
    return 0.5 * dr + bonus if variant == "d" else 0.5 * dr * p + bonus


OPTION_SETS = [AGREE_4, LEVELS, list(QUESTIONS["Q8"].options), ["Yes, definitely", "No", "N"], ["a", "b"]]
PIECES = ["<answer>", "</answer>", "<ANSWER>", "</Answer>", "<reasoning>", "</reasoning>", "...", " ", "\n", "so"]


def generated_completions(n: int, seed: int = 0):
    """Completions built from tags, options, fragments and filler (some past the 300-character window)."""
    rng = random.Random(seed)
    for _ in range(n):
        options = rng.choice(OPTION_SETS)
        words = PIECES + list(options) + [o.lower() for o in options] + [f"I pick {rng.choice(options)}!"]
        parts = [rng.choice(words) for _ in range(rng.randint(0, 8))]
        if rng.random() < 0.5:  # a well-formed answer somewhere
            parts.insert(rng.randint(0, len(parts)), f"<answer>{rng.choice(['', ' ', *options])}</answer>")
        if rng.random() < 0.2:  # push earlier text out of the 300-character window
            parts.insert(rng.randint(0, len(parts)), "x" * rng.choice([100, 290, 301, 600]))
        yield "".join(parts), options, rng.randrange(len(options)), rng.random()


CRAFTED = [
    ("<answer>Agree</answer>", 2.4),  # exact, two tags
    ("<reasoning>r</reasoning>\n<answer>\n Agree \n</answer>", 2.8),
    ("<answer>Agree</answer>" + "x" * 300, 0.4),  # the answer is outside the last 300 characters
    ("<answer>Agree</answer> then <answer>Disagree</answer>", 0.4),  # several blocks: the last counts
    ("<answer>Agree", 0.2),  # unclosed
    ("<ANSWER>Agree</ANSWER>", 0.0),  # upper-case tags count for nothing
    ("<answer>...</answer>", 0.4),  # the placeholder is no answer
    ("<answer></answer>", 0.4),  # empty
    ("<answer>Strongly agree</answer>", 0.4),  # another option that contains the gold one
    ("<answer>I Agree</answer>", 0.4),  # contains the gold option: the lenient 1.0 never fires as released
]


@pytest.mark.parametrize("completion, expected", CRAFTED)
def test_release_reward_on_crafted_cases(completion, expected):
    got = rewards.release_reward([completion], options=[AGREE_4], answer_index=[1])
    assert got == [pytest.approx(expected)]
    assert got == [authors_score(completion, "Agree", ", ".join(AGREE_4))]


def test_release_reward_equals_the_authors_value_on_generated_completions():
    cases = list(generated_completions(3000))
    completions = [c for c, *_ in cases]
    conversational = [[{"role": "assistant", "content": c}] for c in completions]
    options, index = [o for _, o, _, _ in cases], [i for _, _, i, _ in cases]
    expected = [authors_score(c, o[i], ", ".join(o)) for c, o, i, _ in cases]
    assert rewards.release_reward(completions, options=options, answer_index=index) == expected  # exact floats
    assert rewards.release_reward(conversational, options=options, answer_index=index) == expected
    assert len(set(expected)) >= 8  # the cases reach every branch and tag count


@pytest.mark.parametrize(
    "name, variant",
    [("release_distance_reward", "d"), ("release_rarity_reward", "p"), ("release_gaussian_reward", "g")],
)
def test_released_variants_equal_the_authors_value(name, variant):
    cases = list(generated_completions(3000, seed=1))
    reward = rewards.get_reward_funcs([name])[0]
    got = reward(
        [c for c, *_ in cases],
        options=[o for _, o, _, _ in cases],
        answer_index=[i for _, _, i, _ in cases],
        frequency=[f for *_, f in cases],
    )
    assert got == [authors_score(c, o[i], ", ".join(o), variant, f) for c, o, i, f in cases]
    assert reward.__name__ == name


# ---- lenient matching (the authors' evaluation) ------------------------------------------------------------


def authors_correct(text, options, gold):
    """eval_api_parallel.py: split-based extraction, exact or the gold option contained with no other."""
    parts = text.split("<answer>")
    predicted = None
    if len(parts) >= 2 and "</answer>" in parts[-1]:
        predicted = parts[-1].split("</answer>")[0].strip()
    expected = options[gold]
    others = [o.strip() for o in ", ".join(options).strip().split(",") if o.strip() != expected]
    if predicted == expected:
        return True
    return bool(predicted) and expected in predicted and all(o not in predicted for o in others)


def test_release_matching_credits_exactly_what_the_authors_script_credits():
    checked = 0
    for text, options, _, _ in generated_completions(3000, seed=2):
        parsed = parse_answer(text, options, match="release")
        for gold in range(len(options)):
            assert (parsed == gold) == authors_correct(text, options, gold), (text, options, gold)
            checked += 1
    assert checked > 6000


@pytest.mark.parametrize(
    "text, strict, release",
    [
        ("<answer>I would say Agree.</answer>", -1, 1),  # lenient: the one option it contains
        ("<answer>agree</answer>", 1, -1),  # strict forgives case; the authors' rule does not
        ("<answer>Agree</answer><answer>Disagree", 1, -1),  # an unclosed last tag: nothing, for the authors
        ("<answer>Strongly agree</answer>", 0, 0),  # exact first
        ("<answer>Strongly agree or Agree</answer>", -1, -1),  # two options
        ("<answer>No</answer>", -1, -1),
    ],
)
def test_strict_and_release_rules_side_by_side(text, strict, release):
    assert parse_answer(text, AGREE_4) == strict
    assert parse_answer(text, AGREE_4, match="release") == release


class Lenient:
    """A predictor that answers in a sentence: right under the authors' rule, invalid under ours."""

    name, prompt_format, fallbacks = "lenient", "chat messages", 0

    def __call__(self, rows, batch_seed=0):
        return [f"<answer>I would say {row['options'][row['answer_index']]}!</answer>" for row in rows]


def test_eval_reports_accuracy_under_both_rules(built, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "make_predictor", lambda *a, **k: Lenient())
    spec = EvalConfig("lenient", str(built[0]), "cross_country", limit=40, match="release")
    metrics = run_eval(spec, tmp_path / "run")
    both = metrics["accuracy_by_match"]
    rows = load_dataset(str(built[0]), "cross_country")["test"].to_list()
    expected = sum(authors_correct(Lenient()([r])[0], r["options"], r["answer_index"]) for r in rows) / len(rows)
    assert both["strict"] == 0.0 and both["release"] > 0.8
    assert metrics["overall"]["accuracy"] == both["release"] and metrics["run"]["match"] == "release"
    assert abs(both["release"] - expected) < 0.2  # the sample of 40 against all rows
    report = (tmp_path / "run" / "report.md").read_text()
    assert "strict 0.0%" in report and "`release` rule" in report
    with pytest.raises(Exception, match="holds another run"):
        run_eval(EvalConfig("lenient", str(built[0]), "cross_country", limit=40), tmp_path / "run")


# ---- sampling parity -----------------------------------------------------------------------------------------


def test_sampling_settings_reach_generate_unchanged(built, tiny_model, tmp_path):
    """A model that ships Qwen3's sampling defaults (top_k 20, top_p 0.95) must not impose them."""
    import shutil

    from transformers import GenerationConfig as HFGenerationConfig

    model_dir = tmp_path / "qwen-like"
    shutil.copytree(tiny_model, model_dir)
    HFGenerationConfig(do_sample=True, temperature=0.6, top_k=20, top_p=0.95).save_pretrained(model_dir)
    backend = TransformersBackend.from_pretrained(str(model_dir), InferenceConfig(max_new_tokens=3, temperature=0.7))
    seen = {}
    original = backend.model.generate

    def recording(**kwargs):
        seen.update(kwargs)
        return original(**kwargs)

    backend.model.generate = recording
    rows = load_dataset(str(built[0]), "cross_value")["test"].select(range(2)).to_list()
    backend(rows)
    assert (seen["do_sample"], seen["temperature"], seen["top_p"], seen["top_k"]) == (True, 0.7, 1.0, 0)
    assert seen["max_new_tokens"] == 3
    settings = InferenceConfig(top_p=0.9, top_k=5).identity()
    assert settings["top_p"] == 0.9 and settings["top_k"] == 5  # recorded in run.json and metrics.json
