"""The latency distribution of each mode, one panel per table size, as a PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # the backend is chosen before pyplot loads

COLOURS = {
    "uncached": "#d62728",
    "seed-cache": "#ff7f0e",
    "tatourney": "#1f77b4",
    "raw memcached get": "#7f7f7f",
}


def plot_latencies(latencies: dict[str, dict[str, list[float]]], path: Path, title: str) -> None:
    """An empirical CDF per series (log time axis), panels side by side."""
    sizes = list(latencies)
    figure, axes = plt.subplots(
        1, len(sizes), figsize=(5.2 * len(sizes), 4.4), sharey=True, squeeze=False
    )
    for axis, players in zip(axes[0], sizes, strict=True):
        for name, values in latencies[players].items():
            ordered = sorted(values)
            shares = [(i + 1) / len(ordered) for i in range(len(ordered))]
            axis.step(
                ordered,
                shares,
                where="post",
                label=f"{name} (n={len(ordered)})",
                color=COLOURS.get(name),
                linestyle="--" if name == "raw memcached get" else "-",
            )
        axis.set_xscale("log")
        axis.set_title(f"{int(players):,} players")
        axis.set_xlabel("latency per GET /stats (ms, log scale)")
        axis.grid(visible=True, which="both", alpha=0.3)
        axis.legend(loc="lower right", fontsize="small")
    axes[0][0].set_ylabel("share of requests at or below")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
