"""Logistic regression weights diverge on separable data under gradient descent (Q5), labels in {0, 1}."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from examdeck.figures.style import Canvas

# Labels are y in {0, 1}, as in the cards. Each intruder is the exact midpoint of two points of
# the other class. No linear classifier can put a midpoint on the other side from both ends, so
# the data with intruders is provably not linearly separable.
INTRUDERS = [(0, (0, 1)), (1, (20, 21))]  # (label, (indices of the two other-class points))


def _gradient_descent(
    features: np.ndarray, labels: np.ndarray, iterations: int, learning_rate: float, record: list[int],
) -> tuple[np.ndarray, list[float]]:
    """Full-batch GD on the mean logistic loss from 0; the norm of theta at the iterations `record`.

    The gradient of the mean loss -[y log s(z) + (1 - y) log(1 - s(z))], z = x.theta, is
    (s(z) - y) x averaged; with the sign t = 2y - 1 that is -s(-t z) t x, and s(-m) is written with
    tanh so large margins neither overflow nor lose precision.
    """
    signs = 2.0 * labels - 1.0
    theta = np.zeros(features.shape[1])
    norms = []
    wanted = set(record)
    for t in range(iterations + 1):
        if t in wanted:
            norms.append(math.hypot(*theta.tolist()))  # correctly rounded, unlike np.linalg.norm
        margins = signs * (features @ theta)
        weights = 0.5 * (1.0 - np.tanh(0.5 * margins))
        gradient = -(weights * signs) @ features / len(labels)
        theta = theta - learning_rate * gradient
    return theta, norms


def logreg_weight_norm(*, seed: int, iterations: int, learning_rate: float) -> dict[str, Any]:
    """||theta|| under gradient descent: unbounded on separable data, bounded otherwise."""
    rng = np.random.default_rng(seed)
    positive = rng.normal((1.2, 1.0), 0.55, size=(20, 2))
    negative = rng.normal((-1.0, -1.0), 0.55, size=(20, 2))
    separable = np.round(np.concatenate([positive, negative]), 3)
    labels = np.concatenate([np.ones(20), np.zeros(20)])
    # Midpoints of numbers with 3 decimals: exact in fractions, then correctly rounded.
    intruders = np.array([[float((Fraction(separable[i, j]) + Fraction(separable[k, j])) / 2) for j in range(2)]
                          for _, (i, k) in INTRUDERS])
    overlapping = np.concatenate([separable, intruders])
    overlapping_labels = np.concatenate([labels, [float(label) for label, _ in INTRUDERS]])

    # 120 iterations spaced evenly on a log scale, from exact integer powers.
    record = sorted({round(iterations ** (i / 119)) for i in range(120)})
    runs = {}
    for key, points, ys in (("separable", separable, labels), ("not_separable", overlapping, overlapping_labels)):
        features = np.column_stack([points, np.ones(len(points))])  # bias as a third weight
        theta, norms = _gradient_descent(features, ys, iterations, learning_rate, record)
        runs[key] = {"points": points.tolist(), "labels": [int(y) for y in ys], "theta": theta.tolist(),
                     "norms": norms}
    return {
        "learning_rate": learning_rate,
        "iterations": record,
        "intruders": [{"label": label, "midpoint_of": list(pair)} for label, pair in INTRUDERS],
        "runs": runs,
    }


def plot_logreg_weight_norm(data: dict[str, Any], canvas: Canvas) -> Figure:
    """The data (with the two intruders), then ||theta|| over iterations on a log scale."""
    c = canvas.colors
    run = data["runs"]["not_separable"]
    points, labels = np.array(run["points"]), np.array(run["labels"])
    fig = canvas.figure(desktop_height=3.9, phone_height=7.2)
    if canvas.phone:
        left, right = fig.subplots(2, 1, height_ratios=[1.15, 1.0])
    else:
        left, right = fig.subplots(1, 2, width_ratios=[1.0, 1.15])
    count = len(data["runs"]["separable"]["points"])
    marks = {1: (c.blue, "o", "y = 1"), 0: (c.vermilion, "s", "y = 0")}
    for label, (color, marker, name) in marks.items():
        member = points[:count][labels[:count] == label]
        left.plot(member[:, 0], member[:, 1], marker, color=color, markersize=7, label=name)
    for index, intruder in enumerate(data["intruders"], start=count):
        color, marker, _ = marks[intruder["label"]]
        left.plot(*points[index], marker, color=color, markersize=12, markeredgecolor=c.ink, markeredgewidth=2.5)
        ends = points[intruder["midpoint_of"]]
        left.plot(ends[:, 0], ends[:, 1], ":", color=c.grey, linewidth=1.5)
    left.plot([], [], "o", color=c.background, markeredgecolor=c.ink, markeredgewidth=2.5, markersize=12,
              label="added: not\nseparable" if canvas.phone else "added: not separable")
    left.set_title("Data")
    left.set_xlabel("$x_1$")
    left.set_ylabel("$x_2$")
    # Room above the points for the legend (the data run from lower left to upper right).
    left.set_ylim(points[:, 1].min() - 0.3, points[:, 1].max() + 2.6)
    left.legend(loc="upper left", handletextpad=0.2, borderaxespad=0.2)

    iterations = data["iterations"]
    right.plot(iterations, data["runs"]["separable"]["norms"], color=c.blue,
               label="separable:\ngrows" if canvas.phone else "separable")
    right.plot(iterations, data["runs"]["not_separable"]["norms"], color=c.vermilion,
               label="not\nseparable:\nlevels off" if canvas.phone else "not separable")
    right.set_xscale("log")
    right.set_xlabel("GD iteration" if canvas.phone else "gradient descent iteration")
    right.set_ylabel(r"$\|\theta\|$")
    right.set_title("Weight norm" if canvas.phone else "separable: keeps growing\nnot separable: levels off")
    if canvas.phone:
        fig.legend(*right.get_legend_handles_labels(), loc="outside lower center", ncol=2, handlelength=1.0,
                   handletextpad=0.3, columnspacing=0.8)
    else:
        right.legend(loc="upper left")
    return fig
