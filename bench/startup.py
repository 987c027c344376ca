"""Start-up cost of the command line, as whole processes (imports included), from one run.

Prints `dvmap --help` (goal < 0.5 s) and a cold `dvmap build` process against a cold process that only
imports pyreadstat and reads the columns a build needs from the same file (goal: <= 2.0x), each the best
of 3 runs taken in turn.

    python bench/startup.py [--respondents 97220] [--keep DIR]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import full_size_wvs  # noqa: E402
from common import best_of_interleaved, line  # noqa: E402

READ_ONLY = """
import sys, pyreadstat
from dvmap_hf.data.codebook import QUESTIONS
from dvmap_hf.data.wvs import _column_names, _needed_columns
columns, _ = _column_names(sys.argv[1], "spss")
wanted, _ = _needed_columns(sys.argv[1], columns, list(QUESTIONS))
pyreadstat.read_sav(sys.argv[1], usecols=list(wanted.values()), user_missing=True)
"""


def _process(*args: str) -> None:
    subprocess.run([*args], check=True, capture_output=True)


def main(argv=None) -> list[dict]:
    work, wvs = full_size_wvs(argv, "dvmap-bench-startup-")
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
