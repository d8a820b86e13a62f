"""Loss functions: the exam's three datasets (Q1, Q2) and MSE vs MAE under an outlier (Q18)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from examdeck.figures import style

X_VALUES = [1, 2, 3, 4, 5, 6, 7, 8]

# Integer residuals against the model, chosen so that with 8 points
#   A: one residual of 3        -> MSE 9/8, MAE 3/8
#   B: two residuals of 2       -> MSE 8/8, MAE 4/8
#   C: five residuals of 1      -> MSE 5/8, MAE 5/8
# which are the exam's solutions for Questions 1 and 2.
RESIDUALS = {
    "A": [0, 0, 0, 0, 3, 0, 0, 0],
    "B": [0, 2, 0, 0, 0, 0, -2, 0],
    "C": [1, 0, -1, 1, 0, -1, 0, 1],
}


def loss_datasets(*, slope: float, intercept: float) -> tuple[Figure, dict[str, Any]]:
    """Figure 1 of the exam: datasets A, B, C and the same dashed linear model."""
    # Residuals are integers and slope/intercept multiples of 1/2, so every y is exact in
    # binary floating point and the losses are exact fractions.
    datasets = {
        key: {
            "x": [float(x) for x in X_VALUES],
            "y": [slope * x + intercept + r for x, r in zip(X_VALUES, residuals)],
        }
        for key, residuals in RESIDUALS.items()
    }
    fig = style.new_figure(11.0, 4.2)
    axes = fig.subplots(1, 3, sharex=True, sharey=True)
    line_x = np.array([0.0, 9.0])
    for ax, (key, points) in zip(axes, datasets.items()):
        xs, ys = points["x"], points["y"]
        ax.vlines(xs, [slope * x + intercept for x in xs], ys, color=style.GREY, linewidth=1.2)
        ax.plot(line_x, slope * line_x + intercept, "--", color=style.INK, linewidth=2.2)
        ax.plot(xs, ys, "o", color=style.BLUE, markersize=10, markeredgecolor="white")
        ax.set_title(key, fontsize=20, fontweight="bold")
        ax.set_xlim(0, 9)
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.set_xlabel("x")
        ax.set_aspect("equal")
    axes[0].set_ylabel("y")
    data = {
        "model": {"slope": slope, "intercept": intercept},
        "datasets": datasets,
    }
    return fig, data


def _least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    design = np.column_stack([x, np.ones_like(x)])
    (slope, intercept), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(slope), float(intercept)


def _least_absolute(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    # An L1 line fit is a linear program; one optimum passes through two data points,
    # so trying every such line is exact (and cheap for a dozen points).
    best: tuple[float, float, float] | None = None
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            if x[i] == x[j]:
                continue
            slope = (y[j] - y[i]) / (x[j] - x[i])
            intercept = y[i] - slope * x[i]
            loss = float(np.abs(y - slope * x - intercept).sum())
            if best is None or loss < best[0]:
                best = (loss, float(slope), float(intercept))
    assert best is not None
    return best[1], best[2]


def mse_mae_outlier(*, seed: int) -> tuple[Figure, dict[str, Any]]:
    """Line fits by MSE and by MAE on data with one outlier: the MAE fit barely moves."""
    rng = np.random.default_rng(seed)
    x = np.arange(12, dtype=float)
    y = np.round(1.0 + 0.5 * x + rng.normal(0.0, 0.3, size=x.size), 2)
    outlier = 9
    y[outlier] = 17.0
    clean = np.arange(x.size) != outlier
    fits = {
        "mse": _least_squares(x, y),
        "mae": _least_absolute(x, y),
        "mse_without_outlier": _least_squares(x[clean], y[clean]),
        "mae_without_outlier": _least_absolute(x[clean], y[clean]),
    }

    fig = style.new_figure(7.5, 5.6)
    ax = fig.subplots()
    line_x = np.array([-0.5, 11.5])
    slope, intercept = fits["mse_without_outlier"]
    ax.plot(line_x, slope * line_x + intercept, ":", color=style.GREY, linewidth=3,
            label="either fit without the outlier")
    slope, intercept = fits["mse"]
    ax.plot(line_x, slope * line_x + intercept, color=style.VERMILION, label="MSE fit")
    slope, intercept = fits["mae"]
    ax.plot(line_x, slope * line_x + intercept, color=style.GREEN, label="MAE fit")
    ax.plot(x[clean], y[clean], "o", color=style.BLUE, markersize=9, label="data")
    ax.plot(x[outlier], y[outlier], "X", color=style.VERMILION, markersize=14,
            markeredgecolor=style.INK, label="outlier")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("One outlier pulls the MSE fit;\nthe MAE fit barely moves")
    ax.legend(loc="upper left")
    data = {
        "x": x.tolist(),
        "y": y.tolist(),
        "outlier_index": outlier,
        "fits": {
            key: {"slope": slope, "intercept": intercept}
            for key, (slope, intercept) in fits.items()
        },
    }
    return fig, data
