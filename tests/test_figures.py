"""Figures: each figure's claim checked from its data sidecar, not its pixels.

Plus the machinery: determinism, redraw-only-on-hash-change, and a light import.
Every figure is drawn once per module (the ``drawn`` fixture) to keep the suite fast.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import math
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from examdeck import figures
from examdeck.figures import em

REPO = Path(__file__).resolve().parents[1]
# Names that cards refer to: they must stay registered.
REQUIRED = {
    "loss-datasets",
    "gmm-datasets",
    "gelu-relu",
    "logreg-weight-norm",
    "mse-mae-outlier",
    "svm-support-vectors",
    "em-local-optima",
    "diffusion-forward",
}


# Draws every figure in another process (another hash seed) and prints the digests.
SECOND_RUN = (
    "import hashlib, json, examdeck.figures as f\n"
    "print(json.dumps({n: [hashlib.sha256(d.png).hexdigest(),"
    " hashlib.sha256(f.sidecar_bytes(d.data)).hexdigest()]"
    " for n, d in ((n, f.draw(n)) for n in f.figure_names())}))\n"
)


@pytest.fixture(scope="module")
def second_run() -> Iterator[subprocess.Popen[str]]:
    # Started before this process draws, so the two draw in parallel.
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    process = subprocess.Popen([sys.executable, "-c", SECOND_RUN], stdout=subprocess.PIPE,
                               text=True, env=env)
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate()


@pytest.fixture(scope="module")
def drawn(second_run: subprocess.Popen[str]) -> dict[str, figures.DrawnFigure]:
    return {name: figures.draw(name) for name in figures.figure_names()}


@pytest.fixture(scope="module")
def sidecar(drawn: dict[str, figures.DrawnFigure]) -> dict[str, Any]:
    # Claims are checked on the data as written to <name>.json, after a JSON round trip.
    return {name: json.loads(figures.sidecar_bytes(d.data)) for name, d in drawn.items()}


# --- registry and code hash -------------------------------------------------------------


def test_registry_has_every_figure_cards_use() -> None:
    names = figures.figure_names()
    assert REQUIRED <= set(names)
    assert names == sorted(names)
    assert set(figures.PARAMETERS) == set(figures.FIGURES)
    for target in figures.FIGURES.values():
        module, sep, function = target.partition(":")
        assert sep and module.startswith("examdeck.figures.") and function.isidentifier()


def test_import_and_hash_do_not_load_matplotlib_or_numpy() -> None:
    code = (
        "import sys, examdeck.figures as f\n"
        "[f.code_hash(n) for n in f.figure_names()]\n"
        "heavy = sorted(m for m in ('matplotlib', 'numpy') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_code_hash_is_stable_and_distinct() -> None:
    hashes = {name: figures.code_hash(name) for name in figures.figure_names()}
    for digest in hashes.values():
        assert len(digest) == 64 and int(digest, 16) >= 0
    assert len(set(hashes.values())) == len(hashes)
    assert hashes == {name: figures.code_hash(name) for name in figures.figure_names()}


def test_code_hash_unknown_name_raises_key_error() -> None:
    with pytest.raises(KeyError, match="no-such-figure"):
        figures.code_hash("no-such-figure")
    with pytest.raises(KeyError):
        figures.draw("no-such-figure")


def test_code_hash_covers_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    before = figures.code_hash("gmm-datasets")
    monkeypatch.setitem(figures.PARAMETERS["gmm-datasets"], "seed", 12345)
    assert figures.code_hash("gmm-datasets") != before


def test_code_hash_covers_matplotlib_version(monkeypatch: pytest.MonkeyPatch) -> None:
    before = figures.code_hash("loss-datasets")
    real = importlib.metadata.version

    def fake(package: str) -> str:
        return "0.0.0" if package == "matplotlib" else real(package)

    monkeypatch.setattr(importlib.metadata, "version", fake)
    assert figures.code_hash("loss-datasets") != before


@pytest.mark.parametrize("module", ["examdeck.figures.losses", "examdeck.figures.style"])
def test_code_hash_covers_figure_and_style_source(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    before = figures.code_hash("loss-datasets")
    real = figures._source_text

    def edited(name: str) -> str:
        return real(name) + ("\n# edited" if name == module else "")

    monkeypatch.setattr(figures, "_source_text", edited)
    assert figures.code_hash("loss-datasets") != before


# --- images: determinism, resolution, night mode ---------------------------------------


def _png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        chunks.append((kind, png[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def test_pngs_are_2x_opaque_and_carry_no_metadata(drawn: dict[str, figures.DrawnFigure]) -> None:
    import matplotlib.image

    for name, figure in drawn.items():
        chunks = dict(_png_chunks(figure.png))
        assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & chunks.keys(), name
        x_ppm, _, unit = struct.unpack(">IIB", chunks[b"pHYs"])
        assert unit == 1 and round(x_ppm * 0.0254) >= 200, name  # pixels per metre -> dpi
        width, _ = struct.unpack(">II", chunks[b"IHDR"][:8])
        assert width >= 1200, name
        pixels = matplotlib.image.imread(io.BytesIO(figure.png), format="png")
        # Opaque everywhere, white at the border: readable on Anki's dark background.
        if pixels.shape[2] == 4:
            assert pixels[:, :, 3].min() == 1.0, name
        assert (pixels[0, 0, :3] == 1.0).all() and (pixels[-1, -1, :3] == 1.0).all(), name


def test_drawing_is_byte_identical_across_processes(
    drawn: dict[str, figures.DrawnFigure], second_run: subprocess.Popen[str]
) -> None:
    output, _ = second_run.communicate(timeout=300)
    assert second_run.returncode == 0
    here = {
        name: [hashlib.sha256(d.png).hexdigest(),
               hashlib.sha256(figures.sidecar_bytes(d.data)).hexdigest()]
        for name, d in drawn.items()
    }
    assert json.loads(output) == here


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_committed_figure_is_current(name: str, drawn: dict[str, figures.DrawnFigure]) -> None:
    folder = REPO / "figures"
    hint = "regenerate with examdeck.figures.write_all('figures')"
    assert (folder / f"{name}.json").read_bytes() == figures.sidecar_bytes(drawn[name].data), hint
    if (folder / f"{name}.hash").read_text().strip() == figures.code_hash(name):
        assert (folder / f"{name}.png").read_bytes() == drawn[name].png, hint


# --- ensure_figure: redraw only when the code hash changes -------------------------------


@pytest.fixture
def draw_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def fake_draw(name: str) -> figures.DrawnFigure:
        calls.append(name)
        return figures.DrawnFigure(name, b"png %d" % len(calls), {"call": len(calls)})

    monkeypatch.setattr(figures, "draw", fake_draw)
    return calls


def _outputs(folder: Path, name: str) -> list[Path]:
    return [folder / f"{name}.{ext}" for ext in ("png", "json", "hash")]


def test_ensure_figure_writes_png_sidecar_and_hash(tmp_path: Path, draw_calls: list[str]) -> None:
    folder = tmp_path / "figures"
    path = figures.ensure_figure("gelu-relu", folder)
    assert path == folder / "gelu-relu.png"
    assert path.read_bytes() == b"png 1"
    assert json.loads((folder / "gelu-relu.json").read_text()) == {"call": 1}
    assert (folder / "gelu-relu.hash").read_text() == figures.code_hash("gelu-relu") + "\n"
    assert sorted(p.name for p in folder.iterdir()) == ["gelu-relu.hash", "gelu-relu.json",
                                                          "gelu-relu.png"]  # no temp files


def test_ensure_figure_does_not_redraw_when_hash_matches(
    tmp_path: Path, draw_calls: list[str]
) -> None:
    figures.ensure_figure("gelu-relu", tmp_path)
    stamps = [p.stat().st_mtime_ns for p in _outputs(tmp_path, "gelu-relu")]
    figures.ensure_figure("gelu-relu", tmp_path)
    assert draw_calls == ["gelu-relu"]
    assert [p.stat().st_mtime_ns for p in _outputs(tmp_path, "gelu-relu")] == stamps


def test_ensure_figure_redraws_when_hash_changes(
    tmp_path: Path, draw_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    figures.ensure_figure("gelu-relu", tmp_path)
    monkeypatch.setitem(figures.PARAMETERS["gelu-relu"], "step", 0.5)
    figures.ensure_figure("gelu-relu", tmp_path)
    assert draw_calls == ["gelu-relu", "gelu-relu"]
    assert (tmp_path / "gelu-relu.png").read_bytes() == b"png 2"
    assert (tmp_path / "gelu-relu.hash").read_text().strip() == figures.code_hash("gelu-relu")


@pytest.mark.parametrize("damage", ["delete hash", "corrupt hash", "empty hash", "delete png",
                                    "delete json"])
def test_ensure_figure_redraws_missing_or_corrupt_outputs(
    tmp_path: Path, draw_calls: list[str], damage: str
) -> None:
    figures.ensure_figure("gelu-relu", tmp_path)
    action, ext = damage.split()
    target = tmp_path / f"gelu-relu.{ext}"
    if action == "delete":
        target.unlink()
    else:
        target.write_text("not a hash\n" if action == "corrupt" else "")
    figures.ensure_figure("gelu-relu", tmp_path)
    assert len(draw_calls) == 2
    assert all(p.exists() for p in _outputs(tmp_path, "gelu-relu"))


def test_failed_draw_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(name: str) -> figures.DrawnFigure:
        raise RuntimeError("boom")

    monkeypatch.setattr(figures, "draw", broken)
    with pytest.raises(RuntimeError):
        figures.ensure_figure("gelu-relu", tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyError):
        figures.ensure_figure("no-such-figure", tmp_path)


def test_write_all_ensures_every_figure(tmp_path: Path, draw_calls: list[str]) -> None:
    paths = figures.write_all(tmp_path)
    assert paths == [tmp_path / f"{name}.png" for name in figures.figure_names()]
    assert draw_calls == figures.figure_names()
    figures.write_all(tmp_path)
    assert draw_calls == figures.figure_names()


def test_ensure_figure_writes_the_real_drawing(
    tmp_path: Path, drawn: dict[str, figures.DrawnFigure]
) -> None:
    path = figures.ensure_figure("svm-support-vectors", tmp_path)
    assert path.read_bytes() == drawn["svm-support-vectors"].png
    assert (tmp_path / "svm-support-vectors.json").read_bytes() == figures.sidecar_bytes(
        drawn["svm-support-vectors"].data
    )


# --- loss-datasets (Q1, Q2) -------------------------------------------------------------


def test_loss_datasets_have_the_exam_losses_exactly(sidecar: dict[str, Any]) -> None:
    data = sidecar["loss-datasets"]
    slope = Fraction(data["model"]["slope"])
    intercept = Fraction(data["model"]["intercept"])
    expected = {
        "A": (Fraction(9, 8), Fraction(3, 8)),
        "B": (Fraction(8, 8), Fraction(4, 8)),
        "C": (Fraction(5, 8), Fraction(5, 8)),
    }
    assert set(data["datasets"]) == set(expected)
    for key, (mse, mae) in expected.items():
        xs, ys = data["datasets"][key]["x"], data["datasets"][key]["y"]
        assert len(xs) == len(ys) == 8
        # Fraction(float) is exact, so these are the losses of the numbers in the file.
        residuals = [Fraction(y) - (slope * Fraction(x) + intercept) for x, y in zip(xs, ys)]
        assert sum(r * r for r in residuals) / 8 == mse, key
        assert sum(abs(r) for r in residuals) / 8 == mae, key


# --- gmm-datasets (Q8) ------------------------------------------------------------------


def _dataset(sidecar: dict[str, Any], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dataset = sidecar["gmm-datasets"]["datasets"][key]
    points, labels = np.array(dataset["points"]), np.array(dataset["labels"])
    centers = np.array(dataset["centers"])
    assert points.shape == (len(labels), 2) and set(labels.tolist()) == {0, 1, 2}
    # The + marks are the clusters' means.
    means = np.array([points[labels == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(centers, means, rtol=0, atol=1e-9)
    return points, labels, centers


def _nearest_own_center_margin(points: np.ndarray, labels: np.ndarray,
                               centers: np.ndarray) -> np.ndarray:
    """Per point: distance to the nearest other center minus distance to its own (> 0: stays)."""
    distances = np.linalg.norm(points[:, None, :] - centers[None, :, :], axis=2)
    own = distances[np.arange(len(points)), labels]
    distances[np.arange(len(points)), labels] = np.inf
    result: np.ndarray = distances.min(axis=1) - own
    return result


def _lloyd(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    for _ in range(100):
        centers = np.array([points[labels == k].mean(axis=0) for k in range(3)])
        new = np.linalg.norm(points[:, None] - centers[None], axis=2).argmin(axis=1)
        if (new == labels).all():
            break
        labels = new
    return labels


def test_gmm_datasets_has_four_datasets(sidecar: dict[str, Any]) -> None:
    assert sorted(sidecar["gmm-datasets"]["datasets"]) == ["A", "B", "C", "D"]


@pytest.mark.parametrize("key", ["A", "B", "C"])
def test_kmeans_can_cluster_a_b_c(sidecar: dict[str, Any], key: str) -> None:
    points, labels, centers = _dataset(sidecar, key)
    # Every point strictly nearest its own mean: the true partition is a fixed point of
    # K-means, so K-means started there (or anywhere converging there) returns it.
    assert _nearest_own_center_margin(points, labels, centers).min() > 1e-6
    assert (_lloyd(points, labels) == labels).all()


def test_kmeans_cannot_cluster_d(sidecar: dict[str, Any]) -> None:
    points, labels, centers = _dataset(sidecar, "D")
    # K-means only ever stops at partitions where each point is nearest its own mean; in D
    # some point is strictly nearer another cluster's mean, so no K-means run returns D.
    assert _nearest_own_center_margin(points, labels, centers).min() < -0.1
    assert (_lloyd(points, labels) != labels).any()


def test_a_b_or_c_has_a_non_spherical_cluster(sidecar: dict[str, Any]) -> None:
    ratios = []
    for key in "ABC":
        points, labels, _ = _dataset(sidecar, key)
        for k in range(3):
            eigenvalues = np.linalg.eigvalsh(np.cov(points[labels == k].T))
            ratios.append(eigenvalues[-1] / eigenvalues[0])
    assert max(ratios) > 4


def test_gaussian_mixture_recovers_d(sidecar: dict[str, Any]) -> None:
    points, labels, _ = _dataset(sidecar, "D")
    start = em.mixture_from_labels(points, labels)
    fitted, trace = em.fit_gmm(points, start)
    assert trace[-1] - trace[-2] < 1e-6 * len(points)  # converged
    predicted = em.responsibilities(points, fitted).argmax(axis=1)
    assert (predicted == labels).all()


# --- gelu-relu (Q34) --------------------------------------------------------------------


def _at(data: dict[str, Any], key: str, z: float) -> float:
    index = min(range(len(data["z"])), key=lambda i: abs(data["z"][i] - z))
    assert abs(data["z"][index] - z) < 1e-9
    return float(data[key][index])


def test_gelu_derivative_is_correct(sidecar: dict[str, Any]) -> None:
    data = sidecar["gelu-relu"]
    # Phi(z) + z phi(z), from tables: Phi(1) = 0.8413447, phi(1) = 0.2419707,
    # Phi(2) = 0.9772499, phi(2) = 0.0539910.
    expected = {0.0: 0.5, 1.0: 1.0833154, -1.0: -0.0833154, 2.0: 1.0852318, -2.0: -0.0852318}
    for z, value in expected.items():
        assert _at(data, "gelu_prime", z) == pytest.approx(value, abs=1e-6), z
        assert _at(data, "gelu", z) == pytest.approx(z * 0.5 * (1 + math.erf(z / math.sqrt(2))))
    # The plotted derivative is the derivative of the plotted curve (central differences).
    grid, gelu = np.array(data["z"]), np.array(data["gelu"])
    numeric = (gelu[2:] - gelu[:-2]) / (grid[2:] - grid[:-2])
    np.testing.assert_allclose(numeric, np.array(data["gelu_prime"])[1:-1], atol=2e-4)
    sig = np.array(data["gelu_sigmoid"])
    numeric = (sig[2:] - sig[:-2]) / (grid[2:] - grid[:-2])
    np.testing.assert_allclose(numeric, np.array(data["gelu_sigmoid_prime"])[1:-1], atol=2e-4)


def test_gelu_derivative_matches_relu_only_far_from_zero(sidecar: dict[str, Any]) -> None:
    data = sidecar["gelu-relu"]
    z = np.array(data["z"])
    gap = np.abs(np.array(data["gelu_prime"]) - np.array(data["relu_prime"]))
    assert gap[np.abs(z) >= 3.5].max() < 0.01  # -> 0 and -> 1 in the tails, like ReLU
    assert gap[np.abs(z) <= 0.3].min() > 0.25  # near 0 they differ
    assert min(data["gelu_prime"]) < -0.1 and max(data["gelu_prime"]) > 1.1


# --- logreg-weight-norm (Q5) -------------------------------------------------------------


def _logistic(run: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points = np.array(run["points"])
    return np.column_stack([points, np.ones(len(points))]), np.array(run["labels"]), np.array(
        run["theta"])


def test_logreg_norm_grows_without_bound_on_separable_data(sidecar: dict[str, Any]) -> None:
    data = sidecar["logreg-weight-norm"]
    iterations = np.array(data["iterations"])
    norms = np.array(data["runs"]["separable"]["norms"])
    features, labels, theta = _logistic(data["runs"]["separable"])
    assert (labels * (features @ theta) > 0).all()  # certificate: the data is separable
    assert (np.diff(norms) > 0).all()
    assert norms[-1] > 10
    # Still gaining more than 1 per decade of iterations at the end: no sign of a limit.
    assert norms[-1] - np.interp(iterations[-1] / 10, iterations, norms) > 1.0
    bounded = data["runs"]["not_separable"]["norms"][-1]
    assert norms[-1] > 3 * bounded


def test_logreg_norm_is_bounded_on_non_separable_data(sidecar: dict[str, Any]) -> None:
    data = sidecar["logreg-weight-norm"]
    run = data["runs"]["not_separable"]
    features, labels, theta = _logistic(run)
    separable_points = np.array(data["runs"]["separable"]["points"])
    points = features[:, :2]
    # Certificate of non-separability: a point at the midpoint of two points of the other class.
    for index, intruder in enumerate(data["intruders"], start=len(separable_points)):
        ends = points[intruder["midpoint_of"]]
        assert labels[index] == intruder["label"]
        assert (labels[intruder["midpoint_of"]] == -intruder["label"]).all()
        np.testing.assert_allclose(points[index], ends.mean(axis=0), atol=1e-12)
    # Gradient descent stopped at a finite minimiser: zero gradient, flat norm.
    margins = labels * (features @ theta)
    gradient = -(labels / (1 + np.exp(margins))) @ features / len(labels)
    assert np.linalg.norm(gradient) < 1e-8
    iterations, norms = np.array(data["iterations"]), np.array(run["norms"])
    assert norms[-1] - np.interp(iterations[-1] / 2, iterations, norms) < 1e-9


# --- mse-mae-outlier (Q18) --------------------------------------------------------------


def _shift(a: dict[str, float], b: dict[str, float], xs: np.ndarray) -> float:
    """Largest change in prediction between two lines over the data's x range."""
    return max(abs((a["slope"] - b["slope"]) * float(x) + a["intercept"] - b["intercept"])
               for x in (xs.min(), xs.max()))


def test_mae_fit_barely_moves_under_an_outlier(sidecar: dict[str, Any]) -> None:
    data = sidecar["mse-mae-outlier"]
    x, y = np.array(data["x"]), np.array(data["y"])
    clean = np.arange(len(x)) != data["outlier_index"]
    fits = data["fits"]
    for key, mask in (("", np.ones(len(x), bool)), ("_without_outlier", clean)):
        xs, ys = x[mask], y[mask]
        slope, intercept = np.polyfit(xs, ys, 1)
        assert fits["mse" + key]["slope"] == pytest.approx(slope, abs=1e-9)
        assert fits["mse" + key]["intercept"] == pytest.approx(intercept, abs=1e-9)
        # The stored MAE line is optimal: no line through two data points (where an L1
        # optimum always lies) does better.
        mae = fits["mae" + key]
        stored = np.abs(ys - mae["slope"] * xs - mae["intercept"]).sum()
        for i in range(len(xs)):
            for j in range(i + 1, len(xs)):
                s = (ys[j] - ys[i]) / (xs[j] - xs[i])
                assert stored <= np.abs(ys - s * (xs - xs[i]) - ys[i]).sum() + 1e-9
    assert _shift(fits["mae"], fits["mae_without_outlier"], x) < 0.3
    assert _shift(fits["mse"], fits["mse_without_outlier"], x) > 2.0
    # The plot draws one dotted line for "either fit without the outlier".
    assert _shift(fits["mse_without_outlier"], fits["mae_without_outlier"], x) < 0.3


# --- svm-support-vectors (Q22) -----------------------------------------------------------


def test_svm_has_more_than_2d_points_on_the_margin(sidecar: dict[str, Any]) -> None:
    data = sidecar["svm-support-vectors"]
    points, labels = np.array(data["points"]), np.array(data["labels"])
    w, b = np.array(data["w"]), data["b"]
    functional = labels * (points @ w + b)
    assert functional.min() >= 1 - 1e-9
    on_margin = np.flatnonzero(np.abs(functional - 1) <= 1e-9)
    assert on_margin.tolist() == data["on_margin"]
    assert len(on_margin) > 2 * points.shape[1]
    # Optimality (KKT): w = sum a_i y_i x_i and sum a_i y_i = 0 with a_i >= 0 on margin points.
    system = np.vstack([(labels[on_margin, None] * points[on_margin]).T, labels[on_margin]])
    target = np.append(w, 0.0)
    alpha = system.T @ np.linalg.solve(system @ system.T, target)
    assert (alpha >= 0).all()
    np.testing.assert_allclose(system @ alpha, target, atol=1e-12)
    # And independently: no direction separates the classes with a wider margin.
    angles = np.linspace(-math.pi, math.pi, 7201)
    directions = np.column_stack([np.cos(angles), np.sin(angles)])
    projected = points @ directions.T
    margins = (projected[labels == 1].min(axis=0) - projected[labels == -1].max(axis=0)) / 2
    assert margins.max() <= 1 / np.linalg.norm(w) + 1e-12


# --- em-local-optima (Q24) ---------------------------------------------------------------


def _mixture_log_likelihood(x: np.ndarray, params: dict[str, Any]) -> float:
    weights = np.array(params["weights"])
    means = np.array(params["means"])[:, 0]
    variances = np.array(params["covariances"])[:, 0, 0]
    density = (weights * np.exp(-0.5 * (x[:, None] - means) ** 2 / variances)
               / np.sqrt(2 * math.pi * variances)).sum(axis=1)
    return float(np.log(density).sum())


def test_em_runs_end_at_different_log_likelihoods(sidecar: dict[str, Any]) -> None:
    data = sidecar["em-local-optima"]
    x = np.array(data["x"])
    finals = []
    for name, run in data["runs"].items():
        trace = np.array(run["log_likelihood"])
        assert (np.diff(trace) >= -1e-9).all(), name  # EM never decreases the likelihood
        assert trace[-1] - trace[-2] < 1e-6 * len(x), name  # converged
        assert trace[0] == pytest.approx(_mixture_log_likelihood(x, run["start"]), rel=1e-9)
        assert trace[-1] == pytest.approx(_mixture_log_likelihood(x, run["final"]), rel=1e-9)
        # A fixed point of EM: one more step changes nothing that matters.
        final = em.Mixture(*(np.array(run["final"][k]) for k in ("weights", "means",
                                                                   "covariances")))
        step = em.em_step(x[:, None], final)
        np.testing.assert_allclose(step.means, final.means, atol=1e-3)
        finals.append(trace[-1])
    assert len(finals) == 2
    assert abs(finals[0] - finals[1]) > 0.05 * len(x)  # 0.05 nats per point: a clear gap


# --- diffusion-forward (Q39) -------------------------------------------------------------


def test_forward_diffusion_approaches_standard_normal(sidecar: dict[str, Any]) -> None:
    data = sidecar["diffusion-forward"]
    edges = np.array(data["edges"])
    centres, n, alpha = (edges[:-1] + edges[1:]) / 2, data["samples"], data["alpha"]
    phi = np.array([0.5 * (1 + math.erf(e / math.sqrt(2))) for e in edges])
    normal_mass = np.diff(phi)
    snapshots = data["snapshots"]
    steps = [s["t"] for s in snapshots]
    assert steps == sorted(steps) and steps[0] == 0

    def distance_to_normal(snapshot: dict[str, Any]) -> float:
        mass = np.array(snapshot["counts"]) / n
        return float(np.abs(mass - normal_mass).sum())

    first, last = snapshots[0], snapshots[-1]
    assert distance_to_normal(first) > 0.5  # the data is far from N(0, 1)...
    counts = np.array(first["counts"])
    assert counts[np.abs(centres) < 0.5].sum() < 0.01 * n  # ...and bimodal: empty middle
    assert last["alpha_bar"] < 1e-3
    assert last["below"] == last["above"] == 0
    counts = np.array(last["counts"])
    mean = (counts * centres).sum() / n
    var = (counts * (centres - mean) ** 2).sum() / n
    assert abs(mean) < 0.05 and abs(var - 1) < 0.05
    assert distance_to_normal(last) < 0.05
    # In between, mean and variance follow x_t = sqrt(abar) x_0 + sqrt(1 - abar) eps.
    for snapshot in snapshots:
        abar = snapshot["alpha_bar"]
        assert abar == pytest.approx(alpha ** (2 * snapshot["t"]))
        assert snapshot["mean"] == pytest.approx(math.sqrt(abar) * first["mean"], abs=0.03)
        assert snapshot["var"] == pytest.approx(abar * first["var"] + 1 - abar, abs=0.05)
