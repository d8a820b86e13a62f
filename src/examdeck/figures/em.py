"""Gaussian mixtures fitted by EM (numpy only), and EM's local optima (Q24).

The EM here is general (any dimension, full covariances); the tests use it too, to show
that a Gaussian mixture recovers dataset D of ``gmm-datasets``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from examdeck.figures.style import Canvas


@dataclass(frozen=True)
class Mixture:
    """A Gaussian mixture: weights (K,), means (K, d), covariances (K, d, d)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def to_json(self) -> dict[str, Any]:
        return {
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
        }


def log_joint(points: np.ndarray, mixture: Mixture) -> np.ndarray:
    """(n, K) array of log(pi_k N(x_n | mu_k, Sigma_k))."""
    n, d = points.shape
    out = np.empty((n, len(mixture.weights)))
    for k, (weight, mean, cov) in enumerate(
        zip(mixture.weights, mixture.means, mixture.covariances)
    ):
        chol = np.linalg.cholesky(cov)
        solved = np.linalg.solve(chol, (points - mean).T)
        mahalanobis = (solved**2).sum(axis=0)
        log_det = 2.0 * np.log(np.diag(chol)).sum()
        out[:, k] = math.log(weight) - 0.5 * (d * math.log(2 * math.pi) + log_det + mahalanobis)
    return out


def _log_sum_exp(values: np.ndarray) -> np.ndarray:
    top = values.max(axis=1, keepdims=True)
    result: np.ndarray = (top + np.log(np.exp(values - top).sum(axis=1, keepdims=True)))[:, 0]
    return result


def log_likelihood(points: np.ndarray, mixture: Mixture) -> float:
    """Total log-likelihood of the points under the mixture."""
    return float(_log_sum_exp(log_joint(points, mixture)).sum())


def responsibilities(points: np.ndarray, mixture: Mixture) -> np.ndarray:
    """(n, K) posterior probabilities p(z_n = k | x_n)."""
    joint = log_joint(points, mixture)
    result: np.ndarray = np.exp(joint - _log_sum_exp(joint)[:, None])
    return result


def em_step(points: np.ndarray, mixture: Mixture, *, reg: float = 1e-6) -> Mixture:
    """One E step and one M step."""
    resp = responsibilities(points, mixture)
    counts = resp.sum(axis=0)
    means = (resp.T @ points) / counts[:, None]
    d = points.shape[1]
    covariances = np.empty((len(counts), d, d))
    for k in range(len(counts)):
        centred = points - means[k]
        # reg keeps a component from collapsing onto a single point (log-likelihood -> inf).
        covariances[k] = (resp[:, k, None] * centred).T @ centred / counts[k] + reg * np.eye(d)
    return Mixture(weights=counts / counts.sum(), means=means, covariances=covariances)


def fit_gmm(
    points: np.ndarray,
    mixture: Mixture,
    *,
    max_iter: int = 2000,
    tol: float = 1e-10,
    reg: float = 1e-6,
) -> tuple[Mixture, list[float]]:
    """Run EM from ``mixture`` until the mean log-likelihood gains less than ``tol``.

    Returns the final mixture and the total log-likelihood before the first step and
    after every step (EM never decreases it).
    """
    trace = [log_likelihood(points, mixture)]
    for _ in range(max_iter):
        mixture = em_step(points, mixture, reg=reg)
        trace.append(log_likelihood(points, mixture))
        if trace[-1] - trace[-2] < tol * len(points):
            break
    return mixture, trace


def mixture_from_labels(points: np.ndarray, labels: np.ndarray, *, reg: float = 1e-6) -> Mixture:
    """The mixture whose components are the labelled clusters' proportions, means, covariances."""
    ks = np.unique(labels)
    d = points.shape[1]
    members = [points[labels == k] for k in ks]
    return Mixture(
        weights=np.array([len(m) / len(points) for m in members]),
        means=np.array([m.mean(axis=0) for m in members]),
        covariances=np.array([np.cov(m.T, bias=True).reshape(d, d) + reg * np.eye(d) for m in members]),
    )


def _initial(means: list[float]) -> Mixture:
    k = len(means)
    return Mixture(
        weights=np.full(k, 1.0 / k),
        means=np.array(means)[:, None],
        covariances=np.ones((k, 1, 1)),
    )


# 1-D data in four clumps, two close together on the left and two further apart on the
# right, fitted with three components. The best fit merges the close pair; start 2 gives
# one component to each left clump and stretches the third over the right pair: a fixed
# point of EM with a clearly lower likelihood.
STARTS = {"start 1": [-6.75, 0.0, 4.0], "start 2": [-8.0, -5.5, 2.0]}
CLUSTER_MEANS = [-8.0, -5.5, 0.0, 4.0]
CLUSTER_SD = 0.7
CLUSTER_SIZE = 100


def _density(grid: np.ndarray, mixture: Mixture) -> np.ndarray:
    result: np.ndarray = np.exp(_log_sum_exp(log_joint(grid[:, None], mixture)))
    return result


def em_local_optima(*, seed: int, iterations: int) -> dict[str, Any]:
    """EM on one dataset from two starts, a fixed number of steps each, ends at two log-likelihoods.

    A fixed number of steps, not a stopping rule: the traces have the same length on every machine
    (their last digits vary with the CPU's BLAS kernel; the tests compare them with a tolerance).
    """
    rng = np.random.default_rng(seed)
    x = np.round(np.concatenate([rng.normal(m, CLUSTER_SD, CLUSTER_SIZE) for m in CLUSTER_MEANS]), 4)
    points = x[:, None]
    runs: dict[str, dict[str, Any]] = {}
    for label, means in STARTS.items():
        start = _initial(means)
        final, trace = fit_gmm(points, start, max_iter=iterations, tol=-math.inf)
        runs[label] = {"start": start.to_json(), "final": final.to_json(), "log_likelihood": trace}
    return {"x": x.tolist(), "runs": runs}


def plot_em_local_optima(data: dict[str, Any], canvas: Canvas) -> Figure:
    """Log-likelihood traces, then the fitted densities over the data (side by side, or stacked)."""
    c = canvas.colors
    x = np.array(data["x"])
    runs = data["runs"]
    fig = canvas.figure(desktop_height=3.6, phone_height=7.0)
    if canvas.phone:
        left, right = fig.subplots(2, 1)
    else:
        left, right = fig.subplots(1, 2, width_ratios=[1.0, 1.25])
    colors = {"start 1": c.blue, "start 2": c.vermilion}
    for label, run in runs.items():
        per_point = np.array(run["log_likelihood"]) / len(x)
        left.plot(np.arange(len(per_point)), per_point, color=colors[label], label=f"{label}: {per_point[-1]:.3f}")
    left.set_xlabel("EM iteration")
    left.set_ylabel("log-lik. per point" if canvas.phone else "log-likelihood per point")
    left.set_title("EM never decreases\nthe likelihood...")
    left.legend(loc="center right" if canvas.phone else "lower right")

    grid = np.linspace(-11.0, 7.0, 721)
    right.hist(x, bins=np.arange(-11.0, 7.01, 0.4), density=True, color=c.fill, edgecolor=c.background, linewidth=0.5,
               label="data")
    for label, run in runs.items():
        final = run["final"]
        mixture = Mixture(np.array(final["weights"]), np.array(final["means"]), np.array(final["covariances"]))
        right.plot(grid, _density(grid, mixture), color=colors[label], label=f"fit, {label}" if canvas.phone else f"fit from {label}")
        right.plot(mixture.means[:, 0], np.zeros(len(mixture.means)), "^", color=colors[label], markersize=11,
                   clip_on=False)
    right.plot([], [], "^", color=c.grey, markersize=11, label="means" if canvas.phone else "fitted means")
    right.set_xlabel("x")
    right.set_ylabel("density")
    right.set_title("...but may stop at a\nlocal maximum")
    right.set_ylim(0, None)
    if canvas.phone:
        fig.legend(*right.get_legend_handles_labels(), loc="outside lower center", ncol=2, handlelength=1.0,
                   handletextpad=0.3, columnspacing=0.6)
    else:
        right.legend(loc="upper left")
    return fig
