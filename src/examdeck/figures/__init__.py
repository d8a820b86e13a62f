"""Figures drawn by code: a registry of named figures, each its data and four images.

A figure is two functions in a module of this package: ``data(**parameters) -> dict`` (the
plotted numbers) and ``plot(data, canvas) -> matplotlib Figure`` (one variant: desktop or phone
layout, light or dark theme; see ``style``). The registry names them by strings, so importing
this package (which every build does) imports neither matplotlib nor numpy; they are imported
only when a figure is actually drawn.

The committed files in ``figures/`` are the release input. ``ensure_figure`` keeps
``<name>.<variant>.png`` for each of ``VARIANTS``, ``<name>.json`` (the plotted data, from which
the tests check the figure's claim, with the versions that drew it) and ``<name>.hash`` (the
``code_hash`` they were drawn from), and redraws only when that hash changes: a figure's own
source, style and parameters, never the installed numpy or matplotlib. ``examdeck figures
--force`` redraws on purpose.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FIGURES",
    "MATPLOTLIB",
    "VARIANTS",
    "DrawnFigure",
    "FigureFiles",
    "FigureSpec",
    "alt_text",
    "caption",
    "code_hash",
    "draw",
    "ensure_figure",
    "ensure_figures",
    "figure_names",
    "is_current",
    "read_sidecar",
    "rounded",
    "sidecar_bytes",
    "write_all",
]

# The matplotlib that drew the committed figures: pinned by pyproject's `figures` extra
# (`pip install -e '.[figures]'`), recorded in every sidecar, and `examdeck figures` warns when
# another one would redraw. Other versions draw other pixels, never a reason to redraw by itself.
MATPLOTLIB = "3.11.2"

# Sidecar floats are written rounded to this many significant digits: the last digits of
# numpy's results vary with the CPU's BLAS kernel and the numpy version (at most ~1e-13 relative).
SIGNIFICANT_DIGITS = 12

# The variants of every figure (examdeck.figures.style.VARIANTS, without importing matplotlib).
VARIANTS = ("desktop-light", "desktop-dark", "phone-light", "phone-dark")


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure.

    ``data(**parameters)`` computes the plotted numbers (a JSON-able dict, the sidecar);
    ``plot(data, canvas)`` draws one variant of them. ``title`` and ``description`` are the
    images' alt text; ``exam`` names the exam's figure it redraws (shown in a caption).
    """

    module: str
    data: str
    plot: str
    parameters: dict[str, Any]
    title: str
    description: str
    exam: str | None = None


# Card files refer to figures by these names: never rename one.
FIGURES: dict[str, FigureSpec] = {
    "loss-datasets": FigureSpec(
        "examdeck.figures.losses", "loss_datasets", "plot_loss_datasets", {"slope": 0.5, "intercept": 1.0},
        "Datasets A, B and C with the same dashed linear model",
        "Eight points each; A has one residual of 3, B two residuals of 2, C five residuals of 1; "
        "all other points lie on the line.",
        exam="Figure 1",
    ),
    "mse-mae-outlier": FigureSpec(
        "examdeck.figures.losses", "mse_mae_outlier", "plot_mse_mae_outlier", {},
        "Line fits by MSE and by MAE on data with one outlier",
        "Twelve points near a line and one far above it: the outlier pulls the MSE fit up, "
        "the MAE fit barely moves from the fit without the outlier.",
    ),
    "gmm-datasets": FigureSpec(
        "examdeck.figures.clustering", "gmm_datasets", "plot_gmm_datasets", {"seed": 4},
        "Datasets A to D, three clusters each, cluster means marked with +",
        "A: three round clusters. B: three long thin parallel clusters. C: clusters of different "
        "sizes and spreads. D: a wide cluster reaching towards a small tight one.",
        exam="Figure 2",
    ),
    "em-local-optima": FigureSpec(
        "examdeck.figures.em", "em_local_optima", "plot_em_local_optima", {"seed": 2, "iterations": 60},
        "EM from two initialisations reaching different log-likelihoods",
        "Left: the log-likelihood per point never decreases over EM iterations and levels off at "
        "two different values. Right: the two fitted mixtures over a histogram of the data.",
    ),
    "gelu-relu": FigureSpec(
        "examdeck.figures.activations", "gelu_relu", "plot_gelu_relu", {"z_max": 4.0, "step": 0.02},
        "GeLU and ReLU and their derivatives",
        "GeLU z Phi(z) follows ReLU away from 0; its derivative tends to 0 and 1 in the tails "
        "like ReLU's, but near 0 dips below 0 and overshoots 1.",
    ),
    "logreg-weight-norm": FigureSpec(
        "examdeck.figures.logreg", "logreg_weight_norm", "plot_logreg_weight_norm",
        {"seed": 5, "iterations": 20000, "learning_rate": 1.0},
        "Weight norm of logistic regression under gradient descent",
        "Labels y in {0, 1}. On linearly separable data the norm of the weights keeps growing; "
        "with two points added that make the data not separable it levels off.",
    ),
    "svm-support-vectors": FigureSpec(
        "examdeck.figures.svm", "svm_support_vectors", "plot_svm_support_vectors", {},
        "Hard-margin SVM with more than 2d points on the margin",
        "Points on the lines x1 = -1 and x1 = +1 and further out; the max-margin boundary is "
        "x1 = 0 and nine points lie on the margin, more than 2d = 4.",
    ),
    "diffusion-forward": FigureSpec(
        "examdeck.figures.diffusion", "diffusion_forward", "plot_diffusion_forward",
        {"seed": 0, "alpha": 0.9, "samples": 20000, "steps": [0, 3, 10, 60]},
        "Forward diffusion of a bimodal distribution towards N(0, 1)",
        "Histograms of x_t at t = 0, 3, 10 and 60 for x_{t+1} = alpha x_t + sqrt(1 - alpha^2) eps "
        "with alpha = 0.9, where abar_t = alpha^(2t): the two modes merge into the standard normal.",
    ),
}

_STYLE_MODULE = "examdeck.figures.style"
# Bump to redraw every figure (a change of how figures are stored, not of any one figure).
_FORMAT = 2


@dataclass(frozen=True)
class DrawnFigure:
    """A drawn figure: PNG bytes per variant, the data it plots, the library versions that drew it."""

    name: str
    images: dict[str, bytes]
    data: dict[str, Any]
    drawn_with: dict[str, str]


@dataclass(frozen=True)
class FigureFiles:
    """A figure's files: one PNG per variant (``VARIANTS`` order), its sidecar and hash."""

    name: str
    images: dict[str, Path]
    sidecar: Path
    hash: Path


def alt_text(name: str) -> str:
    """The images' alt text: the registry's title and description (and which exam figure)."""
    spec = _spec(name)
    return f"{spec.title}. {spec.description}"


def caption(name: str) -> str | None:
    """A caption for a figure redrawn from an exam's figure, else ``None``."""
    spec = _spec(name)
    if spec.exam is None:
        return None
    return f"{spec.exam} of the exam, redrawn from the exam's description with data chosen to match its numbers."


def figure_names() -> list[str]:
    """Sorted names of all registered figures."""
    return sorted(FIGURES)


def _spec(name: str) -> FigureSpec:
    try:
        return FIGURES[name]
    except KeyError:
        raise KeyError(f"unknown figure {name!r}; known figures: {', '.join(figure_names())}") from None


def _source_text(module: str) -> str:
    # find_spec locates the file without executing the module (no matplotlib import).
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"cannot find the source of figure module {module!r}")
    # Text, not bytes: universal newlines keep the hash stable across CRLF checkouts.
    return Path(spec.origin).read_text(encoding="utf-8")


def _dist_version(dist: str) -> str:
    # importlib.metadata only when needed, and each lookup (a scan of site-packages) once per process.
    import importlib.metadata

    return _looked_up(importlib.metadata.version, dist)


@functools.cache
def _looked_up(lookup: Any, dist: str) -> str:
    # Keyed by the lookup function as well, so that a replaced one (in tests) is asked again.
    return lookup(dist)


def running_matplotlib() -> str:
    """The installed matplotlib's version, from package metadata (matplotlib is not imported)."""
    return _dist_version("matplotlib")


def code_hash(name: str) -> str:
    """SHA-256 (hex) of what a figure's drawing is made from: its own source, style and parameters.

    Covers the figure's module source, the shared style module's source, its functions and
    parameters, and the storage format; never the library versions or the machine, so a committed,
    current figure is never redrawn because another numpy or matplotlib is installed (the
    versions that drew it are recorded in its sidecar, for information). Raises ``KeyError`` for an
    unknown name.
    """
    spec = _spec(name)
    payload = {
        "format": _FORMAT,
        "name": name,
        "function": f"{spec.module}:{spec.data}:{spec.plot}",
        "module_source": _source_text(spec.module),
        "style_source": _source_text(_STYLE_MODULE),
        "parameters": spec.parameters,
        "variants": VARIANTS,
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=True).encode("ascii")
    return hashlib.sha256(encoded).hexdigest()


def rounded(value: Any) -> Any:
    """`value` (JSON-able: dicts, lists, tuples, numbers, strings) with every float rounded to
    ``SIGNIFICANT_DIGITS`` significant digits; raises ``TypeError``/``ValueError`` for anything
    JSON cannot hold exactly (NaN, infinities, other types)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number")
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {str(k): rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON data")


def draw(name: str) -> DrawnFigure:
    """Draw every variant of one figure (imports matplotlib and numpy).

    The data are computed once and rounded as the sidecar stores them; each variant is drawn
    from the rounded data, so the images show exactly the numbers in the sidecar. The same
    name with the same matplotlib gives the same bytes.
    """
    spec = _spec(name)
    module = importlib.import_module(spec.module)
    style = importlib.import_module(_STYLE_MODULE)
    try:
        data = rounded(getattr(module, spec.data)(**spec.parameters))
    except (TypeError, ValueError) as error:
        raise TypeError(f"figure {name!r}: data is not JSON-serializable: {error}") from None
    images = dict(style.render_all(getattr(module, spec.plot), data))
    import matplotlib
    import numpy

    return DrawnFigure(name=name, images=images, data=data,
                       drawn_with={"matplotlib": matplotlib.__version__, "numpy": numpy.__version__})


def sidecar_bytes(drawn: DrawnFigure) -> bytes:
    """The sidecar as written to ``<name>.json``: the data, the versions that drew the figure (for
    information) and the float precision; sorted keys, strict JSON."""
    document = {
        "figure": drawn.name,
        "data": drawn.data,
        "drawn_with": drawn.drawn_with,
        "floats": f"rounded to {SIGNIFICANT_DIGITS} significant digits",
    }
    return (json.dumps(document, indent=1, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


def read_sidecar(path: Path) -> dict[str, Any]:
    """A sidecar written by ``sidecar_bytes``, as a dict (keys ``figure``, ``data``, ``drawn_with``)."""
    document: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return document


def files(name: str, figures_dir: Path) -> FigureFiles:
    """Where `name`'s files are kept in `figures_dir` (whether or not they exist)."""
    folder = Path(figures_dir)
    return FigureFiles(
        name=name,
        images={variant: folder / f"{name}.{variant}.png" for variant in VARIANTS},
        sidecar=folder / f"{name}.json",
        hash=folder / f"{name}.hash",
    )


def _stored_hash(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    is_digest = len(text) == 64 and all(c in "0123456789abcdef" for c in text)
    return text if is_digest else None


def _write_atomic(path: Path, content: bytes) -> None:
    # A temp file in the same directory, then os.replace: readers see old or new, never half.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_current(name: str, figures_dir: Path) -> bool:
    """True when ``ensure_figure`` would not redraw `name`: its stored hash is its ``code_hash`` and
    every file is there. Library versions play no part."""
    kept = files(name, figures_dir)
    return (
        _stored_hash(kept.hash) == code_hash(name)
        and kept.sidecar.is_file()
        and all(path.is_file() for path in kept.images.values())
    )


def ensure_figure(name: str, figures_dir: Path, *, force: bool = False) -> FigureFiles:
    """`name`'s files in `figures_dir`, drawing them only when not current (or with `force`).

    Writes one PNG per variant, ``<name>.json`` (the data sidecar) and ``<name>.hash``. A missing
    or corrupt hash file, or any missing file, means redraw.
    """
    kept = files(name, figures_dir)
    if not force and is_current(name, figures_dir):
        return kept
    digest = code_hash(name)
    drawn = draw(name)
    kept.hash.parent.mkdir(parents=True, exist_ok=True)
    for variant, path in kept.images.items():
        _write_atomic(path, drawn.images[variant])
    _write_atomic(kept.sidecar, sidecar_bytes(drawn))
    # The hash goes last: if anything above fails, the next run still sees a stale hash.
    _write_atomic(kept.hash, (digest + "\n").encode("ascii"))
    return kept


def ensure_figures(names: list[str], figures_dir: Path) -> dict[str, FigureFiles]:
    """``ensure_figure`` for each of `names`; several stale ones are drawn on two cores."""
    figures_dir = Path(figures_dir)
    current = {name: is_current(name, figures_dir) for name in names}
    stale = [name for name in names if not current[name]]
    if len(stale) >= 2:
        from ..parallel import map_halves

        # Every other figure to each process: neighbours in the list tend to cost alike.
        map_halves(_ensure_each, stale[0::2] + stale[1::2], figures_dir)
    # The stale ones again: the child's are current now, whatever it could not do is drawn here.
    return {name: files(name, figures_dir) if current[name] else ensure_figure(name, figures_dir) for name in names}


def _ensure_each(names: list[str], figures_dir: Path) -> list[FigureFiles]:
    return [ensure_figure(name, figures_dir) for name in names]


def write_all(figures_dir: Path, *, force: bool = False) -> list[FigureFiles]:
    """Ensure every registered figure in ``figures_dir`` (redraw all with `force`), sorted by name."""
    return [ensure_figure(name, figures_dir, force=force) for name in figure_names()]
