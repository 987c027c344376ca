"""Helpers shared by the benchmarks: timing and a results line per figure (ratio, goal, verdict)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Least wall time of `repeat` calls: the least noisy estimate on a shared machine."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def best_of_interleaved(fns: dict[str, Callable[[], object]], repeat: int = 5) -> dict[str, float]:
    """`best_of` for several calls taken in turn (a, b, a, b, ...): a slow spell of the machine then
    hits all of them, so their ratio is steadier than that of two separate series."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def line(name: str, value: float, unit: str, goal: str, ok: bool) -> dict:
    row = {"name": name, "value": value, "unit": unit, "goal": goal, "ok": ok}
    print(f"{name:<44}{value:>12.3f} {unit:<10} goal {goal:<12} {'ok' if ok else 'MISSED'}", flush=True)
    return row


def bench_parser(doc: str, *, release: bool = False) -> argparse.ArgumentParser:
    """The parser of a bench whose docstring is its manual (`--help` prints it as written). `release`: the
    bench reads the authors' released splits or else a synthetic build, and can run an earlier checkout's
    code on the same rows beside this one's."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if release:
        parser.add_argument("--release", type=Path, help="the authors' dev/test parquet, else synthetic")
        parser.add_argument("--previous", type=Path, help="a checkout of an earlier commit: its code on the same rows")
    return parser
