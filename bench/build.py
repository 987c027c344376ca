"""Build speed and memory on a full-size synthetic WVS file (97,220 respondents, 67 country units, ~600 columns).

Prints, from one run: the time pyreadstat needs to read just the needed columns, the time of the whole
build (read + profiles + consensus + sampling + prompts + parquet + card), their ratio (goal <= 1.5) and
the peak RSS of a `dvmap build` process (goal < 2 GB).

    python bench/build.py [--respondents 97220] [--keep DIR]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import full_size_wvs  # noqa: E402
from common import best_of_interleaved, line  # noqa: E402

from dataset_builder import BuildConfig, build_folder  # noqa: E402
from dvmap_hf.data.codebook import QUESTIONS  # noqa: E402
from dvmap_hf.data.wvs import _column_names, _needed_columns  # noqa: E402

#: Runs `dvmap ARGS` and prints its own peak RSS in kB. Read from /proc/self/status (VmHWM) where there
#: is one: getrusage's maxrss of a child started from this (large) process starts at this process's
#: peak, because Linux keeps the pre-exec high-water mark.
PEAK_RSS = """
import re, resource, sys
from dvmap_app.cli import main
code = main(sys.argv[1:])
try:
    peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak)
sys.exit(code)
"""


def _peak_rss_mb(args: list[str]) -> float:
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, *args], check=True, capture_output=True, text=True)
    return int(done.stdout.split()[-1]) / 1024


def main(argv=None) -> list[dict]:
    work, wvs = full_size_wvs(argv, "dvmap-bench-build-")
    import pyreadstat

    columns, _ = _column_names(wvs, "spss")
    wanted, _ = _needed_columns(wvs, columns, list(QUESTIONS))
    print(f"file: {wvs.name}, {len(columns)} columns; reading {len(wanted)}")
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
    peak_mb = _peak_rss_mb(["build", "--wvs", str(wvs), "--out", str(work / "rss"), "--force"])
    rows.append(line("peak RSS of `dvmap build`", peak_mb, "MB", "< 2048", peak_mb < 2048))
    return rows


if __name__ == "__main__":
    main()
