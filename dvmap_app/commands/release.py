"""Commands that meet the authors' release: `import-release` and `compare-release`."""

from __future__ import annotations

import argparse
from pathlib import Path

from dvmap_hf.options import add_options

from . import command, out_options


@command("import-release", "import the authors' released DVMap files into a dataset folder of the kit")
def _import_release(p: argparse.ArgumentParser) -> None:
    from dataset_builder.config import BuildConfig

    p.add_argument("path", help="the release repository root, or any of its parquet files / benchmark folders")
    out_options(p, "dataset folder to write")
    add_options(p, BuildConfig, only=("system_prompt",))

    def run(args: argparse.Namespace) -> None:
        from dataset_builder.release import import_release

        report = import_release(args.path, args.out, force=args.force, system_prompt=args.system_prompt)
        for key, n in report["sizes"].items():
            print(f"{key:<26}{n:>9,} rows")
        for problem in report["problems"]:
            rejected = problem["unparseable_options"] + problem["answer_not_in_options"] + problem["empty_fields"]
            if rejected:
                print(
                    f"{problem['source']}: {rejected} row(s) left out "
                    f"({problem['answer_not_in_options']} answer not in options, "
                    f"{problem['unparseable_options']} unparseable Options, "
                    f"{problem['empty_fields']} with empty fields); first: {problem['examples'][:3]}"
                )
        print(f"wrote {report['out']}")

    p.set_defaults(handler=run)


@command("compare-release", "how a build differs from the release (sizes, countries, questions, values, answers)")
def _compare_release(p: argparse.ArgumentParser) -> None:
    p.add_argument("--build", required=True, help="dataset folder written by `dvmap build`")
    p.add_argument("--release", required=True, help="folder written by `dvmap import-release`, or the raw release")

    def run(args: argparse.Namespace) -> None:
        import tempfile

        from dataset_builder.release import compare_folders, import_release

        release = Path(args.release)
        with tempfile.TemporaryDirectory() as tmp:
            if not (release / "dvmap_manifest.json").is_file():
                import_release(release, Path(tmp) / "release")
                release = Path(tmp) / "release"
            print(compare_folders(args.build, release))

    p.set_defaults(handler=run)
