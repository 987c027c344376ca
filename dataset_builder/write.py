"""`dvmap build`: read, assemble, write the folder, report counts beside the paper's."""

from __future__ import annotations

from pathlib import Path

from dvmap_hf.data.digest import file_sha256_beside
from dvmap_hf.data.folder import DATASET_FOLDER
from dvmap_hf.io import check_output_dir
from dvmap_hf.paper import SIZES, paper

from .build import BuildConfig, assemble, assemble_survey, read_source
from .card import card_body, card_metadata, survey_card_body, survey_card_metadata, survey_parameters
from .folder import write_dataset_folder


def build_folder(config: BuildConfig, out: str | Path, force: bool = False) -> dict:
    """Build every config from `config.wvs` (or the survey spec `config.survey`) into the dataset folder `out`;
    return the build report."""
    if config.survey is not None:
        return _build_survey_folder(config, out, force)
    # before the read: a bad --out costs nothing
    check_output_dir(out, force, inputs=(config.wvs,), kind=DATASET_FOLDER)
    with file_sha256_beside(config.wvs) as sha256:  # on the other core, while the file is read
        data = read_source(config)
        built = assemble(data, config)
        digest = sha256()
    source = {
        "file": data.path.name,
        "sha256": digest,
        "synthetic": data.synthetic,
        "religion_column": data.religion_source,
    }
    card = card_body(source, config.parameters(), built.sizes, built.stats, built.shortfalls)
    return _write(out, force, (config.wvs,), built, source, config.parameters(), card, card_metadata(data.synthetic))


def _build_survey_folder(config: BuildConfig, out: str | Path, force: bool) -> dict:
    from dvmap_hf.data.survey import frame_file, load_spec, read_survey

    spec = load_spec(config.survey)
    inputs = (spec.path, frame_file(spec, config.frame)[0])  # an --out holding either would be replaced whole
    check_output_dir(out, force, inputs=inputs, kind=DATASET_FOLDER)
    data = read_survey(spec, config.frame)
    built = assemble_survey(data, config)
    source = {"frame": data.frame.source, "sha256": data.frame.sha256, "spec": spec.path.name, "synthetic": False}
    parameters = survey_parameters(config, spec)
    stats = {**built.stats, "respondents_read": data.respondents_read}
    card = survey_card_body(spec, source, parameters, built.sizes, stats, built.shortfalls)
    return _write(out, force, inputs, built, source, parameters, card, survey_card_metadata(spec), stats)


def _write(out, force, inputs, built, source, parameters, card, metadata, stats=None) -> dict:
    report = {
        "source": source,
        "parameters": parameters,
        "stats": stats or built.stats,
        "shortfalls": built.shortfalls,
        "kind": "build",
    }
    write_dataset_folder(out, built.tables, card, metadata, report, force=force, inputs=inputs)
    return {**report, "sizes": {f"{c}/{s}": n for (c, s), n in built.sizes.items()}, "out": str(out)}


def format_report(report: dict) -> str:
    """Counts beside the paper's, and the two consensus figures, as printed by `dvmap build`."""
    stats, survey = report["stats"], "spec" in report["source"]
    lines = [f"{'config/split':<26}{'rows':>9}" + ("" if survey else f"{'paper':>9}")]
    for key, rows in report["sizes"].items():
        paper_rows = "" if survey else f"{SIZES[tuple(key.split('/'))]:>9,}"
        lines.append(f"{key:<26}{rows:>9,}{paper_rows}")
    paper_shared = "" if survey else f" (paper {paper('shared_profiles')})"
    paper_divergent = "" if survey else f" (paper {paper('divergent_dropped')})"
    lines += [
        f"respondents in scope {stats['respondents']:,}, profiles {stats['profiles']:,}",
        f"respondents sharing their profile: {stats['share_respondents_with_shared_profile']:.1%}{paper_shared}",
        f"divergent pairs (H > 0; the strict filter drops them): {stats['share_pairs_divergent']:.1%} of pairs, "
        f"{stats['share_answers_in_divergent_pairs']:.1%} of answers{paper_divergent}",
        f"pairs kept: {stats['pairs_kept']:,} ({stats['share_kept_divergent']:.1%} with H > 0)",
    ]
    lines += [f"shortfall: {line}" for line in report["shortfalls"][:10]]
    if len(report["shortfalls"]) > 10:
        lines.append(f"... and {len(report['shortfalls']) - 10} more shortfalls (see the dataset card)")
    if report["source"]["synthetic"]:
        lines.append("note: the source is a SYNTHETIC WVS-format sample")
    lines.append(f"wrote {report['out']}")
    return "\n".join(lines)
