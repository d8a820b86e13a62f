"""A hard-margin SVM with more than 2d points on the margin (Q22).

Points lie on the two lines x1 = -1 and x1 = +1 (the exam's counterexample) plus a few
further out. The max-margin hyperplane is computed, not assumed: it is the perpendicular
bisector of the closest pair of points of the two classes' convex hulls.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from examdeck.figures.style import Canvas

POSITIVE = [(1.0, -2.0), (1.0, -1.0), (1.0, 0.0), (1.0, 1.0), (1.0, 2.0),
            (2.2, 1.4), (2.8, -0.6), (2.0, -2.4)]
NEGATIVE = [(-1.0, -1.5), (-1.0, -0.5), (-1.0, 0.5), (-1.0, 1.5),
            (-2.4, 0.8), (-2.0, -2.2), (-3.0, -0.4)]
TOLERANCE = 1e-9


def _closest_on_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    length2 = float(ab @ ab)
    t = 0.0 if length2 == 0.0 else min(1.0, max(0.0, float((p - a) @ ab) / length2))
    result: np.ndarray = a + t * ab
    return result


def max_margin_2d(points: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """Hard-margin SVM (w, b) in 2-D, with y (w.x + b) >= 1 tight on the margin.

    The hard-margin SVM's w is proportional to p - q for the closest points p, q of the two
    convex hulls; in 2-D that pair is a point of one set and a point on a segment between
    two points of the other, so trying all of them is exact for small sets.
    """
    sets = {1: points[labels == 1], -1: points[labels == -1]}
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for own, other in ((1, -1), (-1, 1)):
        for p in sets[own]:
            for i, a in enumerate(sets[other]):
                for b in sets[other][i:]:
                    q = _closest_on_segment(p, a, b)
                    distance = math.hypot(*(p - q).tolist())  # correctly rounded
                    if best is None or distance < best[0] - TOLERANCE:
                        pos, neg = (p, q) if own == 1 else (q, p)
                        best = (distance, pos, neg)
    assert best is not None
    distance, pos, neg = best
    # Margin lines through pos and neg: w.pos + b = 1, w.neg + b = -1, w parallel to pos - neg.
    w = 2.0 * (pos - neg) / distance**2
    b = 1.0 - float(w @ pos)
    return w, b


def svm_support_vectors() -> dict[str, Any]:
    """Hard-margin SVM in 2-D whose margin holds 9 > 2d = 4 points."""
    points = np.array(POSITIVE + NEGATIVE)
    labels = np.array([1] * len(POSITIVE) + [-1] * len(NEGATIVE))
    w, b = max_margin_2d(points, labels)
    functional = labels * (points[:, 0] * w[0] + points[:, 1] * w[1] + b)
    on_margin = np.abs(functional - 1.0) <= TOLERANCE
    return {
        "points": points.tolist(),
        "labels": labels.tolist(),
        "w": w.tolist(),
        "b": b,
        "on_margin": [int(i) for i in np.flatnonzero(on_margin)],
    }


def plot_svm_support_vectors(data: dict[str, Any], canvas: Canvas) -> Figure:
    c = canvas.colors
    points, labels = np.array(data["points"]), np.array(data["labels"])
    w, b = data["w"], data["b"]
    on_margin = data["on_margin"]
    fig = canvas.figure(desktop_height=4.4, phone_height=4.6)
    ax = fig.subplots()
    ys = np.array([-3.2, 3.2])
    # Lines w.x + b = c for c in (-1, 0, 1); w is (near) horizontal, so solve for x1.
    for level, line_style in ((-1.0, "--"), (0.0, "-"), (1.0, "--")):
        xs = (level - b - w[1] * ys) / w[0]
        ax.plot(xs, ys, line_style, color=c.ink, linewidth=2 if level else 2.5)
    ax.axvspan((-1.0 - b) / w[0], (1.0 - b) / w[0], color=c.grid, alpha=0.6, linewidth=0)
    for label, color, marker, name in ((1, c.blue, "o", "y = +1"), (-1, c.vermilion, "s", "y = -1")):
        member = points[labels == label]
        ax.plot(member[:, 0], member[:, 1], marker, color=color, markersize=9 if canvas.phone else 10, label=name)
    ax.plot(points[on_margin, 0], points[on_margin, 1], "o", markersize=18 if canvas.phone else 22,
            markerfacecolor="none", markeredgecolor=c.ink, markeredgewidth=2,
            label="on the margin" if canvas.phone else f"on the margin: {len(on_margin)}")
    ax.set_xlim(-3.6, 3.6)
    ax.set_ylim(-3.2, 3.2)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(f"{len(on_margin)} points on the margin\n> 2d = 4 (d = 2)" if canvas.phone
                 else f"{len(on_margin)} support vectors on the margin\n> 2d = 4 (d = 2)")
    if canvas.phone:
        fig.legend(loc="outside lower center", ncol=2, handletextpad=0.3, columnspacing=0.8)
    else:
        ax.legend(loc="upper left", bbox_to_anchor=(1.03, 1.0))
    return fig
