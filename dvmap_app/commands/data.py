"""Commands that make data: `build` (the Hub dataset from a WVS file) and `synth-wvs` (a synthetic file)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dvmap_hf.errors import DvmapError
from dvmap_hf.options import add_options, from_args

from . import command, out_options


@command("build", "build the corpus and benchmark configs from a WVS Wave 7 file")
def _build(p: argparse.ArgumentParser) -> None:
    from dataset_builder.config import BuildConfig

    add_options(p, BuildConfig)
    out_options(p, "output dataset folder (default: dvmap)", required=False, default="dvmap")

    def run(args: argparse.Namespace) -> None:
        from dataset_builder import build_folder, format_report

        print(format_report(build_folder(from_args(BuildConfig, args), args.out, force=args.force)))

    p.set_defaults(handler=run)


@command("synth-wvs", "write a SYNTHETIC WVS-format file (.sav with value labels, .dta or .csv)")
def _synth(p: argparse.ArgumentParser) -> None:
    from dvmap_hf.data.synth import SynthConfig

    out_options(p, "file to write: .sav, .dta or .csv")
    add_options(p, SynthConfig)

    def run(args: argparse.Namespace) -> None:
        from dvmap_hf.data.synth import write_synthetic_wvs

        if Path(args.out).exists() and not args.force:
            raise DvmapError(f"{args.out}: exists (use --force to replace it)")
        spec = from_args(SynthConfig, args)
        print(f"wrote {write_synthetic_wvs(args.out, spec)} (SYNTHETIC, {spec.respondents:,} respondents)")

    p.set_defaults(handler=run)
