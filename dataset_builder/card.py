"""The dataset card (README.md body) of a folder built from a WVS file."""

from __future__ import annotations

from dvmap_hf.data.prompts import PROMPT_VERSION, SYSTEM_PROMPT_NOTE
from dvmap_hf.paper import SIZES, paper

from .build import SPLITS

PAPER_CITATION = """@inproceedings{dvmap2026,
  title     = {Fine-Grained Pluralistic Value Alignment via High-Consensus Demographic-Value Mapping},
  booktitle = {Proceedings of the 64th Annual Meeting of the Association for Computational Linguistics (ACL)},
  year      = {2026},
  note      = {arXiv:2605.14420}
}"""
WVS_CITATION = (
    "Haerpfer, C., Inglehart, R., Moreno, A., Welzel, C., Kizilova, K., Diez-Medrano J., M. Lagos, P. Norris, "
    "E. Ponarin & B. Puranen (eds.). 2022. World Values Survey: Round Seven - Country-Pooled Datafile Version 6.0. "
    "Madrid, Spain & Vienna, Austria: JD Systems Institute & WVSA Secretariat. doi:10.14281/18241.24"
)
WVS_TERMS = (
    "The WVS data files are available without restrictions provided that they are used for non-profit purposes, "
    "that publications based on them cite the WVS data and send the citation to the World Values Survey "
    "Association, and that **the data files themselves are not redistributed**. This folder holds derived "
    "profile-level rows, not the respondent-level file; never add the raw WVS file to it or to its Hub repo. "
    "Check the current terms at worldvaluessurvey.org before publishing a build."
)


def size_table(sizes: dict[tuple[str, str], int]) -> str:
    lines = ["| config | split | rows (this build) | rows (paper) |", "|---|---|---:|---:|"]
    for config, split in SPLITS:
        ours = sizes.get((config, split), 0)
        lines.append(f"| {config} | {split} | {ours:,} | {SIZES[config, split]:,} |")
    return "\n".join(lines)


def card_metadata(synthetic: bool) -> dict:
    return {
        "pretty_name": "DVMap (synthetic WVS-format sample)" if synthetic else "DVMap",
        "license": "other",
        "language": ["en"],
        "task_categories": ["text-generation", "question-answering"],
        "tags": ["pluralistic-alignment", "world-values-survey", "grpo", "dvmap"]
        + (["synthetic"] if synthetic else []),
        "size_categories": ["10K<n<100K"],
    }


#: What a build keeps, by `--consensus`.
KEPT = {
    "strict": "kept only where every respondent of the profile gave the same answer (Shannon entropy H = 0), "
    "as in the paper",
    "majority": "each with the most frequent answer of the profile's respondents, whatever their agreement "
    "(`--consensus majority`: `entropy` gives each row's H; the paper keeps H = 0 only)",
    "distribution": "each with the respondents' answer counts in scale order (`answer_counts`, summing to "
    "`support`) and their most frequent answer as `answer` (ties to the earlier option), whatever their "
    "agreement (`--consensus distribution`: `entropy` gives each row's H; the paper keeps H = 0 only, which "
    "`answer_counts` with one non-zero entry are)",
}


def card_body(
    source: dict, parameters: dict, sizes: dict[tuple[str, str], int], stats: dict, shortfalls: list[str]
) -> str:
    synthetic = source["synthetic"]
    warning = (
        "> **SYNTHETIC DATA.** Built from a synthetic WVS-format sample made by `dvmap synth-wvs`: the rows show "
        "the format and the pipeline, not anyone's values. Build from the real WVS Wave 7 file for research.\n\n"
        if synthetic
        else ""
    )
    short = "\n".join(f"- {line}" for line in shortfalls) or "- none"
    return f"""# DVMap: high-consensus demographic-value mapping{" (SYNTHETIC)" if synthetic else ""}

{warning}Demographic profiles (the paper's "archetypes", 11 attributes) paired with World Values Survey Wave 7
value questions, {KEPT[parameters["consensus"]]}, after *Fine-Grained Pluralistic Value Alignment via High-Consensus
Demographic-Value Mapping* (ACL 2026). Built with dvmap-hf's `dvmap build`.

## Usage

```python
from datasets import load_dataset
corpus = load_dataset("path/to/this/folder", "corpus")          # train / validation / test
bench = load_dataset("path/to/this/folder", "cross_value")      # or cross_demographic, cross_country
```
On the Hub, use the repo id (`<org>/dvmap`) in place of the folder.

## Dataset Structure

{size_table(sizes)}

- `corpus`: training countries x training questions; train/validation/test hold disjoint profiles.
- `cross_demographic`: training countries, profiles disjoint from every corpus profile.
- `cross_country`: {", ".join(parameters["cross_countries"])} (unseen countries), training questions.
- `cross_value`: training countries, the unseen questions {", ".join(parameters["cross_value_questions"])}.

One row = one profile x question: `id`, `profile_id` (stable hash of the 11 attributes), the attributes
(`country`, `gender`, `life_stage`, `marital_status`, `has_children`, `income_bracket`, `occupation`,
`work_nature`, `education_level`, `religion`, `common_language`), `question_id`, `question`, `category`
(WVS section), `options` (scale order), `answer`, `answer_index` (0-based), `num_options`, `support`
(respondents of the profile who answered), `entropy` (natural log), `frequency` (share of this answer
among rows of the same split, country and question) and `prompt` (chat messages, prompt style
`{parameters["prompt_style"]}`, prompt version {PROMPT_VERSION}; system prompt `{parameters["system_prompt"]}`:
{SYSTEM_PROMPT_NOTE[parameters["system_prompt"]]}).

## Construction

- Source file: `{source["file"]}` (sha256 `{source["sha256"]}`){"; SYNTHETIC" if synthetic else ""}.
- Consensus: `{parameters["consensus"]}`, min support {parameters["min_support"]}, seed {parameters["seed"]}.
- Respondents in scope: {stats["respondents"]:,}; distinct profiles {stats["profiles"]:,};
  share of respondents whose profile is shared: {stats["share_respondents_with_shared_profile"]:.1%}
  (paper: {paper("shared_profiles")});
  divergent (profile, question) pairs: {stats["share_pairs_divergent"]:.1%} of pairs,
  {stats["share_answers_in_divergent_pairs"]:.1%} of answers (paper: {paper("divergent_dropped")} of samples dropped);
  pairs kept {stats["pairs_kept"]:,}, of which {stats["share_kept_divergent"]:.1%} with H > 0.
- Training countries: {", ".join(parameters["training_countries"])}; UK unit: `{parameters["uk"]}`
  (`merge`: Great Britain 826/GBR and Northern Ireland 909/NIR form "United Kingdom of Great Britain and
  Northern Ireland").
- Respondents without {", ".join(parameters["required_attributes"]) or "(none)"} are left out, as in the
  authors' release; other missing attributes read "Not Answered".
- Life stage from Q262: <18 Adolescence, 18-34 Young Adulthood, 35-50 Middle, 51-64 Late, >=65 Older
  Adulthood. Income bracket from Q288: 1-3 Low, 4-7 Middle, 8-10 High. Parenthood from Q274 (0 vs >= 1).
  1-10 value scales (Q49, Q50, Q112): 1-3 Low, 4-7 Medium, 8-10 High.
- Profiles per country and split: {", ".join(f"{k} {v}" for k, v in parameters["profiles_per_country"].items())}.
- Shortfalls (fewer profiles than asked):
{short}

## Limitations

Profiles with few respondents reach H = 0 easily (a single respondent always does): `support` tells how
many answers back each row. The benchmark measures agreement with survey answers, not moral truth.

## Citation

```bibtex
{PAPER_CITATION}
```

WVS: {WVS_CITATION}

## Terms

{WVS_TERMS}
"""
