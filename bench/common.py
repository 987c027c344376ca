"""Helpers shared by the benchmarks: timing and a results line per figure (ratio, goal, verdict)."""

from __future__ import annotations

import time
from collections.abc import Callable


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
