"""matplotlib without a display, imported only when an analysis draws."""

from __future__ import annotations


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def close(figure) -> None:
    pyplot().close(figure)
