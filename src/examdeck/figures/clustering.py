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
    standard = standard[np.linalg.norm(standard, axis=1) <= CLIP][:n]
    # Centred, so each cluster's mean is exactly its designed mean (up to rounding).
    standard -= standard.mean(axis=0)
    theta = math.radians(angle)
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    shape = rotation @ np.diag([along, across])
    result: np.ndarray = np.asarray(mean) + standard @ shape.T
    return result


def gmm_datasets(*, seed: int) -> tuple[Figure, dict[str, Any]]:
    """Figure 2 of the exam: datasets A-D, three clusters each, means marked with +."""
    rng = np.random.default_rng(seed)
    datasets: dict[str, dict[str, Any]] = {}
    for key, clusters in DESIGN.items():
        # Rounded before anything is computed from them: the sidecar holds exactly the
        # points whose means and distances the tests check.
        parts = [np.round(_cluster(rng, cluster), 3) for cluster in clusters]
        points = np.concatenate(parts)
        labels = np.concatenate([np.full(len(part), k) for k, part in enumerate(parts)])
        centers = np.array([points[labels == k].mean(axis=0) for k in range(len(parts))])
        datasets[key] = {
            "points": points.tolist(),
            "labels": labels.tolist(),
            "centers": centers.tolist(),
        }

    fig = style.new_figure(9.0, 8.6)
    axes = fig.subplots(2, 2)
    for ax, (key, dataset) in zip(axes.flat, datasets.items()):
        points = np.array(dataset["points"])
        labels = np.array(dataset["labels"])
        for k, center in enumerate(dataset["centers"]):
            member = points[labels == k]
            ax.plot(member[:, 0], member[:, 1], style.MARKERS[k], color=style.CYCLE[k],
                    markersize=6, alpha=0.85, markeredgewidth=0)
            ax.plot(*center, "+", color=style.INK, markersize=22, markeredgewidth=3.5)
        ax.set_title(f"Dataset {key}", fontsize=18, fontweight="bold")
        ax.set_aspect("equal", adjustable="datalim")
    return fig, {"datasets": datasets}
