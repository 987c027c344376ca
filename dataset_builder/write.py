"""`dvmap build`: read, assemble, write the folder, report counts beside the paper's."""

from __future__ import annotations

from pathlib import Path

from dvmap_hf.data.digest import file_sha256_beside
from dvmap_hf.data.folder import DATASET_FOLDER
from dvmap_hf.io import check_output_dir
from dvmap_hf.paper import SIZES, paper

from .build import SPLITS, BuildConfig, assemble, read_source
from .card import card_body, card_metadata
from .folder import write_dataset_folder


def build_folder(config: BuildConfig, out: str | Path, force: bool = False) -> dict:
    """Build every config from `config.wvs` into the dataset folder `out`; return the build report."""
    # before the read: a bad --out costs nothing
    check_output_dir(out, force, inputs=(config.wvs,), kind=DATASET_FOLDER)
    with file_sha256_beside(config.wvs) as sha256:  # on the other core, while the file is read
        data = read_source(config)
        built = assemble(data, config)
        digest = sha256()
    sizes = built.sizes
    source = {
        "file": data.path.name,
        "sha256": digest,
        "synthetic": data.synthetic,
        "religion_column": data.religion_source,
    }
    report = {
        "source": source,
        "parameters": config.parameters(),
        "stats": built.stats,
        "shortfalls": built.shortfalls,
        "kind": "build",
    }
    write_dataset_folder(
        out,
        built.tables,
        card_body(source, config.parameters(), sizes, built.stats, built.shortfalls),
        card_metadata(data.synthetic),
        report,
        force=force,
        inputs=(config.wvs,),
    )
    return {**report, "sizes": {f"{c}/{s}": n for (c, s), n in sizes.items()}, "out": str(out)}


def format_report(report: dict) -> str:
    """Counts beside the paper's, and the two consensus figures, as printed by `dvmap build`."""
    stats = report["stats"]
    lines = [f"{'config/split':<26}{'rows':>9}{'paper':>9}"]
    for config, split in SPLITS:
        lines.append(f"{config + '/' + split:<26}{report['sizes'][f'{config}/{split}']:>9,}{SIZES[config, split]:>9,}")
    lines += [
        f"respondents in scope {stats['respondents']:,}, profiles {stats['profiles']:,}",
        f"respondents sharing their profile: {stats['share_respondents_with_shared_profile']:.1%} "
        f"(paper {paper('shared_profiles')})",
        f"divergent pairs (H > 0; the strict filter drops them): {stats['share_pairs_divergent']:.1%} of pairs, "
        f"{stats['share_answers_in_divergent_pairs']:.1%} of answers (paper {paper('divergent_dropped')})",
        f"pairs kept: {stats['pairs_kept']:,} ({stats['share_kept_divergent']:.1%} with H > 0)",
    ]
    lines += [f"shortfall: {line}" for line in report["shortfalls"][:10]]
    if len(report["shortfalls"]) > 10:
        lines.append(f"... and {len(report['shortfalls']) - 10} more shortfalls (see the dataset card)")
    if report["source"]["synthetic"]:
        lines.append("note: the source is a SYNTHETIC WVS-format sample")
    lines.append(f"wrote {report['out']}")
    return "\n".join(lines)
