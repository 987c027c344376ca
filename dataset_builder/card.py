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


def survey_parameters(config, spec) -> dict:
    """A survey build's parameters as plain data: the build options and what the spec decided."""
    return {
        "consensus": config.consensus,
        "min_support": config.min_support,
        "seed": config.seed,
        "prompt_style": config.prompt_style,
        "system_prompt": config.system_prompt,
        "group": spec.group_name if spec.group_column else None,
        "held_out_groups": list(spec.held_out_groups),
        "training_questions": [q.id for q in spec.questions[: len(spec.questions) - spec.held_out_questions]],
        "cross_value_questions": [q.id for q in spec.questions[len(spec.questions) - spec.held_out_questions :]],
        "attributes": spec.attribute_names,
        "required_attributes": list(spec.required),
        "splits": dict(spec.shares),
    }


def survey_card_metadata(spec) -> dict:
    return {
        "pretty_name": f"DVMap-format {spec.title}",
        "license": "other",
        "language": ["en"],
        "task_categories": ["text-generation", "question-answering"],
        "tags": ["pluralistic-alignment", "survey", "dvmap", spec.name],
    }


def _attribute_lines(spec) -> str:
    lines = [
        f"- `{spec.group_name}`: column `{spec.group_column}` (the group)"
        if spec.group_column
        else f"- `{spec.group_name}`: `{spec.name}` in every row (the spec has no group column)"
    ]
    for a in spec.attributes:
        if a.bins is not None:
            edges = ", ".join(f"{label} from {edge:g}" for label, edge in a.bins)
            made = f"binned: {edges}" + (f", up to {a.max:g}" if a.max is not None else "")
        else:
            made = "labelled: " + ", ".join(f"{code} {label}" for code, label in a.labels.items())
        lines.append(f"- `{a.name}`: column `{a.column}`, {made}")
    return "\n".join(lines)


def survey_card_body(
    spec, source: dict, parameters: dict, sizes: dict[tuple[str, str], int], stats: dict, shortfalls: list[str]
) -> str:
    rows = "\n".join(f"| {c} | {s} | {n:,} |" for (c, s), n in sizes.items())
    held_out = (
        f"- `{spec.held_out_config}`: the held-out {spec.group_name} values {', '.join(spec.held_out_groups)}, "
        "training questions.\n"
        if spec.held_out_groups
        else ""
    )
    cross_value = (
        f"- `cross_value`: the held-out questions {', '.join(parameters['cross_value_questions'])}.\n"
        if parameters["cross_value_questions"]
        else ""
    )
    short = "\n".join(f"- {line}" for line in shortfalls) or "- none"
    return f"""# {spec.title}, in DVMap's format

Demographic profiles built from the attributes of a respondent-level survey, paired with its questions,
{KEPT[parameters["consensus"]]}. Built with dvmap-hf's `dvmap build --survey {source["spec"]}`, the layout of
*Fine-Grained Pluralistic Value Alignment via High-Consensus Demographic-Value Mapping* (ACL 2026).

## Usage

```python
from datasets import load_dataset
corpus = load_dataset("path/to/this/folder", "corpus")          # train / validation / test
```

## Dataset Structure

| config | split | rows |
|---|---|---:|
{rows}

- `corpus`: the training {spec.group_name if spec.group_column else "respondents"}'s profiles x the training
  questions; train/validation/test hold disjoint profiles.
- `cross_demographic`: profiles disjoint from every corpus profile.
{held_out}{cross_value}
Columns as in every DVMap folder (`id`, `profile_id`, the attributes, `question_id`, `question`, `category`,
`options`, `answer`, `answer_index`, `num_options`, `support`, `entropy`, `frequency`, `prompt`), with the
profile attributes of this survey: {", ".join(f"`{name}`" for name in spec.attribute_names)}.

## Construction

- Frame: `{source["frame"]}` (sha256 `{source["sha256"]}`); spec `{source["spec"]}`.
- Respondents read {stats["respondents_read"]:,}; in scope {stats["respondents"]:,} (every required attribute,
  {", ".join(spec.required) or "none"}, answered); distinct profiles {stats["profiles"]:,}; share of respondents
  whose profile is shared: {stats["share_respondents_with_shared_profile"]:.1%}.
- Divergent (profile, question) pairs (H > 0): {stats["share_pairs_divergent"]:.1%} of pairs,
  {stats["share_answers_in_divergent_pairs"]:.1%} of answers; pairs kept {stats["pairs_kept"]:,}, of which
  {stats["share_kept_divergent"]:.1%} with H > 0.
- Consensus `{parameters["consensus"]}`, min support {parameters["min_support"]}, seed {parameters["seed"]};
  prompt style `{parameters["prompt_style"]}` with this survey's profile text, system prompt
  `{parameters["system_prompt"]}`.
- Profiles are drawn per {spec.group_name if spec.group_column else "build"}: validation
  {spec.shares["validation"]:.0%}, test {spec.shares["test"]:.0%}, cross_demographic
  {spec.shares["cross_demographic"]:.0%} of each group's profiles, the corpus's train the rest.
- Attributes ("Not Answered" where the cell is blank or a missing code):
{_attribute_lines(spec)}
- Shortfalls:
{short}

## Limitations

Profiles with few respondents reach H = 0 easily (a single respondent always does): `support` tells how
many answers back each row.

## Source, licence and terms

{spec.licence}

{spec.citation}
{f"{chr(10)}{spec.url}" if spec.url else ""}
"""
