"""Build speed and memory on a full-size synthetic WVS file (97,220 respondents, 67 country units, ~600 columns).

Prints, from one run: the time pyreadstat needs to read just the needed columns, the time of the whole
build (read + profiles + consensus + sampling + prompts + parquet + card), their ratio (goal <= 1.5) and
the peak RSS of a `dvmap build` process (goal < 2 GB).

    python bench/build.py [--respondents 97220] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_of_interleaved, line  # noqa: E402

from dataset_builder import BuildConfig, build_folder  # noqa: E402
from dvmap_hf.codebook import COUNTRIES, QUESTIONS  # noqa: E402
from dvmap_hf.synth import SynthSpec, write_synthetic_wvs  # noqa: E402
from dvmap_hf.wvs import _column_names, _needed_columns  # noqa: E402


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--respondents", type=int, default=97_220)
    parser.add_argument("--keep", help="folder to keep the synthetic file and build in")
    args = parser.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="dvmap-bench-build-"))
    work.mkdir(parents=True, exist_ok=True)
    wvs = work / "full_synthetic_wvs.sav"
    if not wvs.exists():
        spec = SynthSpec(respondents=args.respondents, countries=tuple(COUNTRIES), filler_columns=560)
        write_synthetic_wvs(wvs, spec)
    import pyreadstat

    columns, _ = _column_names(wvs, "spss")
    wanted, _ = _needed_columns(wvs, columns, list(QUESTIONS))
    print(f"file: {wvs.name}, {len(columns)} columns, {args.respondents:,} respondents; reading {len(wanted)}")
    config = BuildConfig(wvs=wvs)
    best = best_of_interleaved(
        {
            "read": lambda: pyreadstat.read_sav(str(wvs), usecols=list(wanted.values()), user_missing=True),
            "build": lambda: build_folder(config, work / "dvmap", force=True),
        }
    )
    read, build = best["read"], best["build"]
    rows = [
        line("read needed columns (pyreadstat)", read, "s", "-", True),
        line("whole build", build, "s", "-", True),
        line("build / read", build / read, "x", "<= 1.5", build / read <= 1.5),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
        [sys.executable, "-m", "dvmap_hf.cli", "build", "--wvs", str(wvs), "--out", str(work / "rss"), "--force"],
        check=True,
        capture_output=True,
    )
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    rows.append(line("peak RSS of `dvmap build`", peak_mb, "MB", "< 2048", peak_mb < 2048))
    return rows


if __name__ == "__main__":
    main()
