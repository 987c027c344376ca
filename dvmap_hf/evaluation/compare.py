"""`dvmap compare`: the paper-style table of several runs, and each run against a baseline with paired,
profile-clustered bootstrap intervals and p-values, Holm-adjusted within their family: the table's figures
(Acc, LC, WD of every run) are one family, the distribution-alignment figures (runs that scored each row's
distribution against its answer counts) a second with its own table, the figures shown only in the JSON a
third. A difference the
data cannot support (too few profiles, small groups, a distance's bias) is flagged and not tested. Runs are
compared only over the same rows of the same data, or, when asked, over the rows they have in common (the
output says so)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DvmapError
from .report import model_name, paper_table, read_metrics
from .statistics import ALIGNMENT_PREFIX, DISTANCE_NOTE, LEVEL, METHOD, RunRows, compare, holm

#: what the paired table shows: figure, label, scale, digits
SHOWN = (("accuracy", "Acc", 100, 1), ("likert_consistency", "LC", 100, 1), ("wasserstein_distance", "WD", 1, 4))
SHOWN_NAMES = {name for name, *_ in SHOWN}
#: the distribution-alignment figures the second paired table shows
SHOWN_ALIGNMENT = tuple(
    (ALIGNMENT_PREFIX + name, label, 1, digits)
    for name, label, digits in (
        ("total_variation", "TV", 3),
        ("jensen_shannon", "JS", 3),
        ("wasserstein", "WD/(K-1)", 3),
        ("simbench_score", "SimBench", 1),
        ("ece_mode", "ECE", 3),
    )
)
FAMILIES = ("table", "alignment", "json")


def family_of(name: str) -> str:
    """The Holm family of a figure: the paper table's, the alignment figures', or the JSON's."""
    return "table" if name in SHOWN_NAMES else "alignment" if name.startswith(ALIGNMENT_PREFIX) else "json"


SIGNIFICANCE = 0.05


def _rows(run: str | Path) -> RunRows:
    from .runner import evaluated_frame

    return RunRows.from_frame(evaluated_frame(run))


def _distinct(runs: list[str | Path]) -> None:
    """One run folder named twice would be compared with itself: a table of zero differences, p = 1."""
    seen: dict[Path, str | Path] = {}
    for run in runs:
        folder = Path(run).expanduser().resolve()
        if folder in seen:
            raise DvmapError(f"{run} and {seen[folder]} are the same run folder: compare different runs")
        seen[folder] = run


def _same_data(runs: list[str | Path], metrics: list[dict]) -> None:
    """Runs of different data (another build, config or split) cannot be paired, whatever their ids."""
    keys = ("dataset", "config", "split", "data")
    first = {k: metrics[0]["run"].get(k) for k in keys}
    for run, m in zip(runs[1:], metrics[1:], strict=True):
        other = {k: m["run"].get(k) for k in keys}
        if other != first:
            changed = ", ".join(k for k in keys if other[k] != first[k])
            raise DvmapError(f"{run} and {runs[0]} are runs of different data ({changed}); compare runs of one split")


def _aligned(base: RunRows, other: RunRows, names: tuple[str, str], common_rows: bool) -> tuple[RunRows, RunRows]:
    """Both runs over the same rows in the same order: all of them, or (`common_rows`) those both hold."""
    if set(base.ids) != set(other.ids) and not common_rows:
        only_base, only_other = len(set(base.ids) - set(other.ids)), len(set(other.ids) - set(base.ids))
        raise DvmapError(
            f"{names[1]} and {names[0]} hold different rows ({only_other} only in the first, {only_base} only in "
            "the second; a --limit sample or an unfinished run?); use --common-rows to compare the rows both hold"
        )
    common = np.intersect1d(base.ids, other.ids)
    if not len(common):
        raise DvmapError(f"{names[1]} and {names[0]} have no row in common")
    position = {rid: i for i, rid in enumerate(base.ids)}
    order_base = np.array([position[rid] for rid in common])
    position = {rid: i for i, rid in enumerate(other.ids)}
    order_other = np.array([position[rid] for rid in common])
    return base.subset(order_base), other.subset(order_other)


def compare_runs(
    runs: list[str | Path],
    baseline: str | Path | None = None,
    resamples: int = 1000,
    seed: int = 0,
    common_rows: bool = False,
) -> tuple[str, dict]:
    """The markdown of `dvmap compare` and its numbers: {run: {figure: {difference, interval, p_value,
    p_holm, significant}}} against the baseline (the first run unless named)."""
    _distinct(runs)
    metrics = [read_metrics(run) for run in runs]
    text = paper_table(metrics)
    if len(runs) < 2:
        return text, {}
    base_run = baseline if baseline is not None else runs[0]
    if str(base_run) not in map(str, runs):
        metrics.append(read_metrics(base_run))
        runs = [*runs, base_run]
    _same_data(runs, metrics)
    base_index = [str(r) for r in runs].index(str(base_run))
    base = _rows(base_run)
    results, notes = {}, []
    for i, run in enumerate(runs):
        if i == base_index:
            continue
        a, b = _aligned(base, _rows(run), (str(base_run), str(run)), common_rows)
        if len(a.ids) != len(base.ids):
            notes.append(f"{run}: compared on the {len(a.ids):,} rows it shares with the baseline")
        key = str(run) if str(run) not in results else f"{run} ({i + 1})"
        results[key] = compare(a, b, resamples, seed)
    notes += _adjust(results, resamples)
    return text + "\n\n" + _paired_table(results, base_run, resamples, notes), results


def _adjust(results: dict, resamples: int) -> list[str]:
    """Holm within each family of tests (`FAMILIES`: the paper table's figures, the alignment figures, the
    others), every run's together; each entry gets its family, the family's size, its adjusted p and
    `significant` (None where flagged). Returns a note for each family too large for B: its smallest adjusted
    p, F x 2 / (B + 1), is then no longer below the level, and its "n.s." says nothing about the runs."""
    notes = []
    for family in FAMILIES:
        slots = [
            (run, name)
            for run, figures in results.items()
            for name, entry in figures.items()
            if family_of(name) == family and entry.get("p_value") is not None
        ]
        adjusted = holm([results[run][name]["p_value"] for run, name in slots]) if slots else []
        for (run, name), p in zip(slots, adjusted, strict=True):
            results[run][name] |= {"family": family, "family_size": len(slots), "p_value_holm": p}
        if len(slots) * 2 / (resamples + 1) >= SIGNIFICANCE:
            notes.append(
                f"the {family} family holds {len(slots)} tests: with B = {resamples:,} its smallest Holm-adjusted "
                f"bootstrap p is {len(slots)} x 2 / (B + 1) = {len(slots) * 2 / (resamples + 1):.3g}, so no "
                f"bootstrap test of it can be significant at {SIGNIFICANCE}; rerun with --bootstrap "
                f"{minimum_resamples(len(slots)):,} or more"
            )
    for figures in results.values():
        for entry in figures.values():
            p = entry.get("p_value_holm")
            entry["significant"] = None if p is None else p < SIGNIFICANCE
    return notes


def minimum_resamples(tests: int) -> int:
    """The least B at which Holm over `tests` bootstrap p-values (each at least 2 / (B + 1)) can reject:
    tests x 2 / (B + 1) < SIGNIFICANCE."""
    return int(2 * tests / SIGNIFICANCE + 1e-9)


def _rows_of(results: dict, shown: tuple) -> tuple[list[str], list[tuple[str, str, str]]]:
    """A paired table's lines (header and one row a run) and its flagged cells (run, label, why)."""
    lines = ["| model | " + " | ".join(f"Δ{label}" for _, label, _, _ in shown) + " |", "|---|" + "---:|" * len(shown)]
    flagged = []
    for run, figures in results.items():
        cells = [_difference(figures[name], scale, digits) for name, _, scale, digits in shown if name in figures]
        flagged += [
            (run, label, figures[name]["flag"]) for name, label, *_ in shown if figures.get(name, {}).get("flag")
        ]
        lines.append(f"| {model_name(run)} | " + " | ".join(cells) + " |")
    return lines, flagged


def _paired_table(results: dict, base_run, resamples: int, notes: list[str]) -> str:
    lines = [
        f"Paired differences against {model_name(str(base_run))} (run minus baseline): "
        f"{LEVEL:.0%} interval and p-value from a paired {METHOD} (B = {resamples:,}, the same profiles drawn "
        f"for both runs; the smallest p it can give is 2 / (B + 1)), Holm-adjusted across the table's tests; a "
        f"distance's difference is {DISTANCE_NOTE}. "
        f"n.s.: not significant at {SIGNIFICANCE} after adjustment; †: not supported by the data (no interval or "
        "test; why below).",
        "",
    ]
    table, flagged = _rows_of(results, SHOWN)
    lines += table
    if all(SHOWN_ALIGNMENT[0][0] in figures for figures in results.values()):
        table, more = _rows_of(results, SHOWN_ALIGNMENT)
        lines += [
            "",
            "Distribution alignment (each row's distribution against its answer counts), its own Holm family:",
        ]
        lines += ["", *table]
        flagged += more
    others = [name for name in next(iter(results.values())) if family_of(name) == "json"]
    if others:
        lines += [
            "",
            "The other figures' differences are in the JSON (`--json FILE`), Holm-adjusted as their own "
            "family: " + ", ".join(others) + "; accuracy also the cluster-adjusted McNemar p (a check, "
            "outside both families).",
        ]
    notes = [f"† Δ{label} of {model_name(run)}: {flag}" for run, label, flag in flagged] + notes
    return "\n".join(lines + [""] + [f"- {note}" for note in notes]).rstrip()


def _difference(entry: dict, scale: float, digits: int) -> str:
    text = f"{entry['difference'] * scale:+.{digits}f}"
    if entry["flag"]:
        return text + "†"
    if entry["interval"] is not None:
        lo, hi = (x * scale for x in entry["interval"])
        text += f" [{lo:+.{digits}f}, {hi:+.{digits}f}] p={entry['p_value_holm']:.3g}"
    return text + (" n.s." if entry["significant"] is False else "")
