"""Forward diffusion of a bimodal data distribution towards N(0, 1) (Q39).

The exam's chain x_{t+1} = alpha x_t + sqrt(1 - alpha^2) eps is run step by step; in closed
form x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps with abar_t = alpha^(2t) -> 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from examdeck.figures.style import Canvas

# Data: 30% near -2.5, 70% near +2 (bimodal, and off-centre so the mean visibly shrinks).
MODES = [(0.3, -2.5, 0.4), (0.7, 2.0, 0.5)]  # (weight, mean, sd)
BIN_WIDTH = 0.2
EDGES = [round(-5.0 + BIN_WIDTH * i, 10) for i in range(51)]


def _tex_number(value: float) -> str:
    if value == 0 or value >= 1e-3:
        return f"{value:.3g}"
    exponent = math.floor(math.log10(value))
    return rf"{value / 10**exponent:.1f} \times 10^{{{exponent}}}"


def diffusion_forward(
    *, seed: int, alpha: float, samples: int, steps: list[int]
) -> dict[str, Any]:
    """Histograms of x_t at several t, approaching the standard normal density."""
    rng = np.random.default_rng(seed)
    component = rng.random(samples) < MODES[0][0]
    x = np.where(
        component,
        rng.normal(MODES[0][1], MODES[0][2], samples),
        rng.normal(MODES[1][1], MODES[1][2], samples),
    )
    snapshots: list[dict[str, Any]] = []
    noise_scale = math.sqrt(1.0 - alpha**2)
    for t in range(max(steps) + 1):
        if t in steps:
            counts, _ = np.histogram(x, bins=EDGES)
            snapshots.append({
                "t": t,
                "alpha_bar": alpha ** (2 * t),
                "counts": counts.tolist(),
                "below": int((x < EDGES[0]).sum()),
                "above": int((x > EDGES[-1]).sum()),
                # math.fsum: correctly rounded sums, the same on every machine and numpy.
                "mean": (mean := math.fsum(x.tolist()) / samples),
                "var": math.fsum(((x - mean) ** 2).tolist()) / samples,
            })
        x = alpha * x + noise_scale * rng.standard_normal(samples)

    return {
        "alpha": alpha,
        "samples": samples,
        "edges": EDGES,
        "data_modes": [{"weight": w, "mean": m, "sd": s} for w, m, s in MODES],
        "snapshots": snapshots,
    }


def plot_diffusion_forward(data: dict[str, Any], canvas: Canvas) -> Figure:
    """Histograms at each recorded t over the N(0, 1) density: 2 x 2, or stacked on a phone."""
    c = canvas.colors
    edges, samples, alpha = data["edges"], data["samples"], data["alpha"]
    snapshots = data["snapshots"]
    fig = canvas.figure(desktop_height=5.6, phone_height=8.0)
    axes = fig.subplots(len(snapshots), 1, sharex=True, sharey=True) if canvas.phone else (
        fig.subplots(2, 2, sharex=True, sharey=True).flat)
    axes = list(axes)
    grid = np.linspace(edges[0], edges[-1], 401)
    normal = np.exp(-0.5 * grid**2) / math.sqrt(2 * math.pi)
    for ax, snapshot in zip(axes, snapshots):
        density = np.array(snapshot["counts"]) / (samples * BIN_WIDTH)
        ax.stairs(density, edges, fill=True, color=c.sky, alpha=0.85, label="$x_t$ (histogram)")
        ax.plot(grid, normal, "--", color=c.ink, linewidth=2.2, label="N(0, 1)")
        abar = _tex_number(snapshot["alpha_bar"])
        ax.set_title(rf"$t = {snapshot['t']}$:  $\bar\alpha_t = {abar}$")
        if canvas.phone:
            ax.tick_params(labelleft=False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, handlelength=1.5, columnspacing=1.0)
    if canvas.phone:
        axes[-1].set_xlabel("x")
        fig.supylabel("density")
        fig.suptitle(r"$x_{t+1} = \alpha x_t + \sqrt{1-\alpha^2}\,\varepsilon$" "\n"
                     rf"$\alpha = {alpha}$,  $\bar\alpha_t = \alpha^{{2t}}$")
    else:
        for ax in axes[2:]:
            ax.set_xlabel("x")
        for ax in axes[0::2]:
            ax.set_ylabel("density")
        fig.suptitle(r"$x_{t+1} = \alpha x_t + \sqrt{1-\alpha^2}\,\varepsilon$,"
                     rf"  $\alpha = {alpha}$,  $\bar\alpha_t = \alpha^{{2t}}$:  $x_t \to N(0, 1)$")
    return fig
