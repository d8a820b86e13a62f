"""Figures drawn by code: a registry of named figures, each returning an image and its data.

Every figure is a function ``f(**PARAMETERS[name]) -> (matplotlib Figure, data dict)`` in a
module of this package. The registry names it by a ``"module:function"`` string so that
importing this package (which every build does) imports neither matplotlib nor numpy;
they are imported only when a figure is actually drawn.

``ensure_figure`` keeps ``<dir>/<name>.png``, ``<name>.json`` (the plotted data, from which
the tests check the figure's claim) and ``<name>.hash`` (the code hash they were drawn
with), and redraws only when the code hash changes.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FIGURES",
    "PARAMETERS",
    "DrawnFigure",
    "code_hash",
    "draw",
    "ensure_figure",
    "ensure_figures",
    "is_current",
    "figure_names",
    "sidecar_bytes",
    "write_all",
]

# name -> "module:function". Card files refer to figures by these names: never rename one.
FIGURES: dict[str, str] = {
    "loss-datasets": "examdeck.figures.losses:loss_datasets",
    "mse-mae-outlier": "examdeck.figures.losses:mse_mae_outlier",
    "gmm-datasets": "examdeck.figures.clustering:gmm_datasets",
    "em-local-optima": "examdeck.figures.em:em_local_optima",
    "gelu-relu": "examdeck.figures.activations:gelu_relu",
    "logreg-weight-norm": "examdeck.figures.logreg:logreg_weight_norm",
    "svm-support-vectors": "examdeck.figures.svm:svm_support_vectors",
    "diffusion-forward": "examdeck.figures.diffusion:diffusion_forward",
}

# name -> keyword arguments of its function. Part of the code hash: change one, and the
# figure is redrawn by the next build.
PARAMETERS: dict[str, dict[str, Any]] = {
    "loss-datasets": {"slope": 0.5, "intercept": 1.0},
    "mse-mae-outlier": {"seed": 3},
    "gmm-datasets": {"seed": 4},
    "em-local-optima": {"seed": 2},
    "gelu-relu": {"z_max": 4.0, "step": 0.02},
    "logreg-weight-norm": {"seed": 5, "iterations": 20000, "learning_rate": 1.0},
    "svm-support-vectors": {},
    "diffusion-forward": {"seed": 0, "alpha": 0.9, "samples": 20000, "steps": [0, 3, 10, 60]},
}

_STYLE_MODULE = "examdeck.figures.style"


@dataclass(frozen=True)
class DrawnFigure:
    """A drawn figure: PNG bytes and the JSON-serializable data it plots (the sidecar)."""

    name: str
    png: bytes
    data: dict[str, Any]


def figure_names() -> list[str]:
    """Sorted names of all registered figures."""
    return sorted(FIGURES)


def _target(name: str) -> tuple[str, str]:
    try:
        target = FIGURES[name]
    except KeyError:
        raise KeyError(
            f"unknown figure {name!r}; known figures: {', '.join(figure_names())}"
        ) from None
    module, _, function = target.partition(":")
    return module, function


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


def code_hash(name: str) -> str:
    """SHA-256 (hex) of everything a figure's output depends on.

    Covers the figure's module source, the shared style module's source, the figure's
    parameters, and the versions of matplotlib (rendering) and numpy (random streams),
    read from package metadata so that nothing heavy is imported. Raises ``KeyError``
    for an unknown name.
    """
    module, function = _target(name)
    payload = {
        "name": name,
        "function": f"{module}:{function}",
        "module_source": _source_text(module),
        "style_source": _source_text(_STYLE_MODULE),
        "parameters": PARAMETERS.get(name, {}),
        "matplotlib": _dist_version("matplotlib"),
        "numpy": _dist_version("numpy"),
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=True).encode("ascii")
    return hashlib.sha256(encoded).hexdigest()


def draw(name: str) -> DrawnFigure:
    """Draw one figure (imports matplotlib); the same name always gives the same bytes."""
    module, function = _target(name)
    func = getattr(importlib.import_module(module), function)
    style = importlib.import_module(_STYLE_MODULE)
    png, data = style.render(func, PARAMETERS.get(name, {}))
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"figure {name!r}: data is not JSON-serializable: {error}") from None
    return DrawnFigure(name=name, png=png, data=data)


def sidecar_bytes(data: dict[str, Any]) -> bytes:
    """The data sidecar as written to ``<name>.json``: sorted keys, strict JSON."""
    return (json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


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


def ensure_figure(name: str, figures_dir: Path) -> Path:
    """Return ``figures_dir/<name>.png``, drawing it only if its stored code hash is stale.

    Also writes ``<name>.json`` (the data sidecar) and ``<name>.hash``. A missing or
    corrupt hash file, or a missing PNG or sidecar, means redraw.
    """
    figures_dir = Path(figures_dir)
    digest = code_hash(name)
    png_path = figures_dir / f"{name}.png"
    json_path = figures_dir / f"{name}.json"
    hash_path = figures_dir / f"{name}.hash"
    if _stored_hash(hash_path) == digest and png_path.is_file() and json_path.is_file():
        return png_path
    drawn = draw(name)
    figures_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(png_path, drawn.png)
    _write_atomic(json_path, sidecar_bytes(drawn.data))
    # The hash goes last: if anything above fails, the next run still sees a stale hash.
    _write_atomic(hash_path, (digest + "\n").encode("ascii"))
    return png_path


def is_current(name: str, figures_dir: Path) -> bool:
    """True when ``ensure_figure`` would not redraw ``name``."""
    figures_dir = Path(figures_dir)
    return (
        _stored_hash(figures_dir / f"{name}.hash") == code_hash(name)
        and (figures_dir / f"{name}.png").is_file()
        and (figures_dir / f"{name}.json").is_file()
    )


def ensure_figures(names: list[str], figures_dir: Path) -> dict[str, Path]:
    """``ensure_figure`` for each of `names`; several stale ones are drawn on two cores."""
    figures_dir = Path(figures_dir)
    current = {name: is_current(name, figures_dir) for name in names}
    stale = [name for name in names if not current[name]]
    if len(stale) >= 2:
        from ..parallel import map_halves

        # Every other figure to each process: neighbours in the list tend to cost alike.
        map_halves(_ensure_each, stale[0::2] + stale[1::2], figures_dir)
    # The stale ones again: the child's are current now, whatever it could not do is drawn here.
    return {name: figures_dir / f"{name}.png" if current[name] else ensure_figure(name, figures_dir) for name in names}


def _ensure_each(names: list[str], figures_dir: Path) -> list[Path]:
    return [ensure_figure(name, figures_dir) for name in names]


def write_all(figures_dir: Path) -> list[Path]:
    """Ensure every registered figure in ``figures_dir``; return the PNG paths, sorted by name."""
    return [ensure_figure(name, figures_dir) for name in figure_names()]
