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
}
RAW_COLOUR = "#7f7f7f"


def plot_latencies(latencies: dict[str, dict[str, list[float]]], path: Path, title: str) -> None:
    """An empirical CDF per series (log time axis), panels side by side, one legend below."""
    sizes = list(latencies)
    figure, axes = plt.subplots(
        1, len(sizes), figsize=(5.2 * len(sizes), 4.8), sharey=True, squeeze=False
    )
    for axis, players in zip(axes[0], sizes, strict=True):
        for name, values in latencies[players].items():
            ordered = sorted(values)
            shares = [(i + 1) / len(ordered) for i in range(len(ordered))]
            axis.step(
                ordered,
                shares,
                where="post",
                label=name,
                color=COLOURS.get(name, RAW_COLOUR),
                linestyle="--" if name.startswith("raw") else "-",
            )
        counts = " / ".join(str(len(values)) for values in latencies[players].values())
        axis.set_title(f"{int(players):,} players\n(requests: {counts})", fontsize="medium")
        axis.set_xscale("log")
        axis.set_xlabel("latency of one GET /stats (ms, log scale)")
        axis.grid(visible=True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("share of requests at or below")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    figure.suptitle(title)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
