"""Loss functions: the exam's three datasets (Q1, Q2) and MSE vs MAE under an outlier (Q18)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from matplotlib.figure import Figure

from examdeck.figures.style import Canvas

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


def loss_datasets(*, slope: float, intercept: float) -> dict[str, Any]:
    """Figure 1 of the exam: datasets A, B, C and the same linear model."""
    # Residuals are integers and slope/intercept multiples of 1/2, so every y is exact in
    # binary floating point and the losses are exact fractions.
    datasets = {
        key: {
            "x": [float(x) for x in X_VALUES],
            "y": [slope * x + intercept + r for x, r in zip(X_VALUES, residuals)],
        }
        for key, residuals in RESIDUALS.items()
    }
    return {"model": {"slope": slope, "intercept": intercept}, "datasets": datasets}


def plot_loss_datasets(data: dict[str, Any], canvas: Canvas) -> Figure:
    """Three panels side by side (stacked on a phone), the model dashed."""
    c = canvas.colors
    slope, intercept = data["model"]["slope"], data["model"]["intercept"]
    fig = canvas.figure(desktop_height=3.1, phone_height=5.6)
    axes = fig.subplots(3, 1, sharex=True, sharey=True) if canvas.phone else fig.subplots(1, 3, sharex=True, sharey=True)
    line_x = [0.0, 9.0]
    for ax, (key, points) in zip(axes, data["datasets"].items()):
        xs, ys = points["x"], points["y"]
        ax.vlines(xs, [slope * x + intercept for x in xs], ys, color=c.grey, linewidth=1.4)
        ax.plot(line_x, [slope * x + intercept for x in line_x], "--", color=c.ink, linewidth=2.2)
        ax.plot(xs, ys, "o", color=c.blue, markersize=9 if canvas.phone else 10, markeredgecolor=c.background)
        ax.set_xlim(0, 9)
        if canvas.phone:
            ax.set_ylim(0, 7.5)
            ax.set_xticks(range(0, 10, 2))
            ax.set_yticks(range(0, 8, 2))
        else:
            ax.set_ylim(0, 9)
            ax.set_xticks(range(10))
            ax.set_yticks(range(10))
        if canvas.phone:
            ax.text(0.03, 0.95, key, transform=ax.transAxes, fontsize=18, fontweight="bold", va="top")
            ax.set_ylabel("y")
        else:
            ax.set_title(key, fontsize=18, fontweight="bold")
            ax.set_xlabel("x")
            ax.set_aspect("equal")
    if canvas.phone:
        axes[-1].set_xlabel("x")
    else:
        axes[0].set_ylabel("y")
    return fig


def _least_squares(x: list[Fraction], y: list[Fraction]) -> tuple[float, float]:
    """The MSE line, exactly (normal equations in fractions), then correctly rounded."""
    n = len(x)
    mean_x, mean_y = sum(x) / n, sum(y) / n
    slope = sum((a - mean_x) * (b - mean_y) for a, b in zip(x, y)) / sum((a - mean_x) ** 2 for a in x)
    return float(slope), float(mean_y - slope * mean_x)


def _least_absolute(x: list[Fraction], y: list[Fraction]) -> tuple[float, float]:
    """An MAE line, exactly: an L1 line fit is a linear program, and one optimum passes through
    two data points, so trying every such line (in fractions) finds it; the first best pair wins."""
    best: tuple[Fraction, Fraction, Fraction] | None = None
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            if x[i] == x[j]:
                continue
            slope = (y[j] - y[i]) / (x[j] - x[i])
            intercept = y[i] - slope * x[i]
            loss = sum(abs(b - slope * a - intercept) for a, b in zip(x, y))
            if best is None or loss < best[0]:
                best = (loss, slope, intercept)
    assert best is not None
    return float(best[1]), float(best[2])


# Twelve points near y = 1 + x/2 (drawn once from N(0, 0.3^2) noise and rounded to hundredths:
# designed data, written out so that no random stream or library version can change them), and
# one outlier far above the line.
MSE_MAE_X = list(range(12))
MSE_MAE_Y = ["1.61", "0.73", "2.13", "2.33", "2.86", "3.44", "3.39", "4.43", "4.74", "17", "6.07", "6.39"]
OUTLIER = 9


def mse_mae_outlier() -> dict[str, Any]:
    """Line fits by MSE and by MAE on data with one outlier: the MAE fit barely moves."""
    x = [Fraction(v) for v in MSE_MAE_X]
    y = [Fraction(v) for v in MSE_MAE_Y]
    clean = [i for i in range(len(x)) if i != OUTLIER]
    fits = {
        "mse": _least_squares(x, y),
        "mae": _least_absolute(x, y),
        "mse_without_outlier": _least_squares([x[i] for i in clean], [y[i] for i in clean]),
        "mae_without_outlier": _least_absolute([x[i] for i in clean], [y[i] for i in clean]),
    }
    return {
        "x": [float(v) for v in x],
        "y": [float(v) for v in y],
        "outlier_index": OUTLIER,
        "fits": {key: {"slope": slope, "intercept": intercept} for key, (slope, intercept) in fits.items()},
    }


def plot_mse_mae_outlier(data: dict[str, Any], canvas: Canvas) -> Figure:
    c = canvas.colors
    x, y, outlier = data["x"], data["y"], data["outlier_index"]
    clean = [i for i in range(len(x)) if i != outlier]
    fig = canvas.figure(desktop_height=4.2, phone_height=5.4)
    ax = fig.subplots()
    line_x = [-0.5, 11.5]

    def line(key: str, *args: Any, **kwargs: Any) -> None:
        fit = data["fits"][key]
        ax.plot(line_x, [fit["slope"] * v + fit["intercept"] for v in line_x], *args, **kwargs)

    line("mse_without_outlier", ":", color=c.grey, linewidth=3, label="either fit,\nno outlier" if canvas.phone
         else "either fit without the outlier")
    line("mse", color=c.vermilion, label="MSE fit")
    line("mae", color=c.green, label="MAE fit")
    ax.plot([x[i] for i in clean], [y[i] for i in clean], "o", color=c.blue, markersize=8, label="data")
    ax.plot(x[outlier], y[outlier], "X", color=c.vermilion, markersize=14, markeredgecolor=c.ink, label="outlier")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if canvas.phone:
        ax.set_title("An outlier pulls MSE;\nMAE barely moves")
        fig.legend(loc="outside lower center", ncol=2, handlelength=1.6, columnspacing=0.8)
    else:
        ax.set_title("One outlier pulls the MSE fit;\nthe MAE fit barely moves")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig
