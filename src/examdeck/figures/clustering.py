"""K-means vs Gaussian mixtures: the exam's four simulated datasets (Q8).

K-means can only end at a partition where every point is nearest its own cluster's mean
(a fixed point of Lloyd's algorithm). Datasets A, B and C are built so that the true
partition is such a fixed point, B's clusters being long and thin; in D a wide cluster
reaches across the perpendicular bisector towards a small tight one, so K-means can never
return D's true partition, while a Gaussian mixture (which learns each cluster's shape) does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from examdeck.figures import style
from examdeck.figures.style import Canvas

# Per dataset, per cluster: (number of points, mean, (sd along, sd across), angle in degrees).
Cluster = tuple[int, tuple[float, float], tuple[float, float], float]
DESIGN: dict[str, list[Cluster]] = {
    # Three round clusters of equal size.
    "A": [
        (40, (0.0, 0.0), (0.7, 0.7), 0.0),
        (40, (5.0, 0.5), (0.7, 0.7), 0.0),
        (40, (2.5, 4.8), (0.7, 0.7), 0.0),
    ],
    # Three long parallel clusters side by side: the bisectors run along them.
    "B": [
        (50, (0.0, 0.0), (1.6, 0.3), 60.0),
        (50, (2.2, -1.27), (1.6, 0.3), 60.0),
        (50, (4.4, -2.54), (1.6, 0.3), 60.0),
    ],
    # Clusters of different sizes and spreads, far enough apart.
    "C": [
        (60, (0.0, 0.0), (1.2, 1.2), 0.0),
        (20, (4.8, 3.6), (0.35, 0.35), 0.0),
        (40, (5.2, -1.8), (1.2, 0.4), -30.0),
    ],
    # A wide cluster whose right end is nearer the small cluster's mean than its own.
    "D": [
        (50, (-2.0, 0.0), (2.2, 0.35), 0.0),
        (20, (4.0, 0.4), (0.3, 0.3), 0.0),
        (40, (0.8, 4.0), (0.6, 0.6), 0.0),
    ],
}

# Gaussian draws are cut at this Mahalanobis radius so no stray point blurs a cluster.
CLIP = 2.3


def _cluster(rng: np.random.Generator, cluster: Cluster) -> np.ndarray:
    n, mean, (along, across), angle = cluster
    standard = rng.standard_normal((4 * n, 2))
    # Elementwise arithmetic only (no BLAS kernel): the same bits on every CPU.
    radius2 = standard[:, 0] * standard[:, 0] + standard[:, 1] * standard[:, 1]
    standard = standard[radius2 <= CLIP * CLIP][:n]
    # Centred, so each cluster's mean is its designed mean (up to rounding).
    standard = standard - np.array([math.fsum(standard[:, 0]), math.fsum(standard[:, 1])]) / n
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    a, b = standard[:, 0] * along, standard[:, 1] * across
    result: np.ndarray = np.column_stack([mean[0] + (cos * a - sin * b), mean[1] + (sin * a + cos * b)])
    return result


def gmm_datasets(*, seed: int) -> dict[str, Any]:
    """Figure 2 of the exam: datasets A-D, three clusters each, and each cluster's mean."""
    rng = np.random.default_rng(seed)
    datasets: dict[str, dict[str, Any]] = {}
    for key, clusters in DESIGN.items():
        # Rounded before anything is computed from them: the sidecar holds exactly the
        # points whose means and distances the tests check.
        parts = [np.round(_cluster(rng, cluster), 3) for cluster in clusters]
        points = np.concatenate(parts)
        labels = np.concatenate([np.full(len(part), k) for k, part in enumerate(parts)])
        # Correctly rounded means (math.fsum): the same on every machine.
        centers = [[math.fsum(part[:, j]) / len(part) for j in range(2)] for part in parts]
        datasets[key] = {
            "points": points.tolist(),
            "labels": labels.tolist(),
            "centers": centers,
        }
    return {"datasets": datasets}


def plot_gmm_datasets(data: dict[str, Any], canvas: Canvas) -> Figure:
    """The four datasets, each cluster's mean marked with +."""
    c = canvas.colors
    # Four in a row on a desktop (the question side then fits a laptop screen), 2 x 2 on a phone.
    fig = canvas.figure(desktop_height=2.3, phone_height=3.6)
    axes = fig.subplots(2, 2) if canvas.phone else fig.subplots(1, 4)
    for ax, (key, dataset) in zip(axes.flat, data["datasets"].items()):
        points = np.array(dataset["points"])
        labels = np.array(dataset["labels"])
        for k, center in enumerate(dataset["centers"]):
            member = points[labels == k]
            ax.plot(member[:, 0], member[:, 1], style.MARKERS[k], color=c.cycle[k], markersize=3.5, alpha=0.9,
                    markeredgewidth=0)
            ax.plot(*center, "+", color=c.ink, markersize=14, markeredgewidth=2.5)
        ax.set_title(key, fontsize=16, fontweight="bold")
        ax.set_aspect("equal", adjustable="datalim")
        # No tick labels: the clusters' shapes and positions are what matters, and fixed-aspect
        # panels with labels at their edges do not lay out alike in every matplotlib.
        ax.tick_params(labelbottom=False, labelleft=False, length=0)
    return fig
