"""Logistic regression weights diverge on separable data under gradient descent (Q5)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from examdeck.figures import style

# Each intruder is the exact midpoint of two points of the other class. No linear
# classifier can put a midpoint on the other side from both ends, so the data with
# intruders is provably not linearly separable.
INTRUDERS = [(-1, (0, 1)), (1, (20, 21))]  # (label, (indices of the two other-class points))


def _gradient_descent(
    features: np.ndarray, labels: np.ndarray, iterations: int, learning_rate: float,
    record: np.ndarray,
) -> tuple[np.ndarray, list[float]]:
    """Full-batch GD on the mean logistic loss from 0; the norm of theta at ``record``."""
    theta = np.zeros(features.shape[1])
    norms = []
    wanted = set(record.tolist())
    for t in range(iterations + 1):
        if t in wanted:
            norms.append(float(np.linalg.norm(theta)))
        margins = labels * (features @ theta)
        # sigma(-m), written with tanh so large margins neither overflow nor lose precision
        weights = 0.5 * (1.0 - np.tanh(0.5 * margins))
        gradient = -(weights * labels) @ features / len(labels)
        theta = theta - learning_rate * gradient
    return theta, norms


def logreg_weight_norm(
    *, seed: int, iterations: int, learning_rate: float
) -> tuple[Figure, dict[str, Any]]:
    """||theta|| under gradient descent: unbounded on separable data, bounded otherwise."""
    rng = np.random.default_rng(seed)
    positive = rng.normal((1.2, 1.0), 0.55, size=(20, 2))
    negative = rng.normal((-1.0, -1.0), 0.55, size=(20, 2))
    separable = np.round(np.concatenate([positive, negative]), 3)
    labels = np.concatenate([np.ones(20), -np.ones(20)])
    intruders = np.array([separable[list(pair)].mean(axis=0) for _, pair in INTRUDERS])
    overlapping = np.concatenate([separable, intruders])
    overlapping_labels = np.concatenate([labels, [label for label, _ in INTRUDERS]])

    record = np.unique(np.round(np.logspace(0, np.log10(iterations), 120)).astype(int))
    runs = {}
    for key, points, ys in (
        ("separable", separable, labels),
        ("not_separable", overlapping, overlapping_labels),
    ):
        features = np.column_stack([points, np.ones(len(points))])  # bias as a third weight
        theta, norms = _gradient_descent(features, ys, iterations, learning_rate, record)
        runs[key] = {
            "points": points.tolist(),
            "labels": ys.tolist(),
            "theta": theta.tolist(),
            "norms": norms,
        }

    fig = style.new_figure(12.0, 5.2)
    left, right = fig.subplots(1, 2, width_ratios=[1.0, 1.3])
    for label, color, marker, name in ((1, style.BLUE, "o", "y = +1"),
                                       (-1, style.VERMILION, "s", "y = -1")):
        member = separable[labels == label]
        left.plot(member[:, 0], member[:, 1], marker, color=color, markersize=8, label=name)
    for (label, pair), point in zip(INTRUDERS, intruders):
        color, marker = (style.BLUE, "o") if label == 1 else (style.VERMILION, "s")
        left.plot(*point, marker, color=color, markersize=13, markeredgecolor=style.INK,
                  markeredgewidth=2.5)
        ends = separable[list(pair)]
        left.plot(ends[:, 0], ends[:, 1], ":", color=style.GREY, linewidth=1.5)
    left.plot([], [], "o", color="white", markeredgecolor=style.INK, markeredgewidth=2.5,
              markersize=13, label="added: not separable")
    left.set_title("Data")
    left.set_xlabel("$x_1$")
    left.set_ylabel("$x_2$")
    left.set_aspect("equal", adjustable="datalim")
    left.legend(loc="upper left", fontsize=12)

    right.plot(record, runs["separable"]["norms"], color=style.BLUE,
               label="linearly separable")
    right.plot(record, runs["not_separable"]["norms"], color=style.VERMILION,
               label="not separable")
    right.set_xscale("log")
    right.set_xlabel("gradient descent iteration")
    right.set_ylabel(r"$\|\theta\|$")
    right.set_title("separable: keeps growing\nnot separable: levels off")
    right.legend(loc="upper left")
    data = {
        "learning_rate": learning_rate,
        "iterations": record.tolist(),
        "intruders": [{"label": label, "midpoint_of": list(pair)} for label, pair in INTRUDERS],
        "runs": runs,
    }
    return fig, data
