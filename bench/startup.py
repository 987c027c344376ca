"""Start-up cost of the command line, as whole processes (imports included), from one run.

Prints `dvmap --help` (goal < 0.5 s) and a cold `dvmap build` process against a cold process that only
imports pyreadstat and reads the columns a build needs from the same file (goal: <= 2.0x), each the best
of 3 runs taken in turn.

    python bench/startup.py [--respondents 97220] [--keep DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_of_interleaved, line  # noqa: E402

READ_ONLY = """
import sys, pyreadstat
from dvmap_hf.codebook import QUESTIONS
from dvmap_hf.wvs import _column_names, _needed_columns
columns, _ = _column_names(sys.argv[1], "spss")
wanted, _ = _needed_columns(sys.argv[1], columns, list(QUESTIONS))
pyreadstat.read_sav(sys.argv[1], usecols=list(wanted.values()), user_missing=True)
"""


def _process(*args: str) -> None:
    subprocess.run([*args], check=True, capture_output=True)


def main(argv=None) -> list[dict]:
    from dvmap_hf.codebook import COUNTRIES
    from dvmap_hf.synth import SynthSpec, write_synthetic_wvs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=97_220)
    parser.add_argument("--keep", help="folder to keep the synthetic file and build in")
    args = parser.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="dvmap-bench-startup-"))
    work.mkdir(parents=True, exist_ok=True)
    wvs = work / "full_synthetic_wvs.sav"
    if not wvs.exists():
        write_synthetic_wvs(
            wvs, SynthSpec(respondents=args.respondents, countries=tuple(COUNTRIES), filler_columns=560)
        )
    dvmap = str(Path(sys.executable).parent / "dvmap")
    best = best_of_interleaved(
        {
            "help": lambda: _process(dvmap, "--help"),
            "read": lambda: _process(sys.executable, "-c", READ_ONLY, str(wvs)),
            "build": lambda: _process(dvmap, "build", "--wvs", str(wvs), "--out", str(work / "dvmap"), "--force"),
        },
        repeat=3,
    )
    return [
        line("`dvmap --help` process", best["help"], "s", "< 0.5", best["help"] < 0.5),
        line("cold process: import pyreadstat + read", best["read"], "s", "-", True),
        line("cold `dvmap build` process", best["build"], "s", "-", True),
        line(
            "cold build / cold read", best["build"] / best["read"], "x", "<= 2.0", best["build"] / best["read"] <= 2.0
        ),
    ]


if __name__ == "__main__":
    main()
