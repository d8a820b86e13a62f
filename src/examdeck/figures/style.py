"""The shared look of every figure, and the one place a figure becomes PNG bytes.

Readable on a phone and in Anki's night mode: the image carries its own opaque white
background and dark text, fonts are large, and PNGs are written at 2x (200 dpi).
Deterministic: fixed font (DejaVu Sans ships with matplotlib), every rcParam that matters
is set here on top of matplotlib's defaults (a user's matplotlibrc is ignored), and the
PNG carries no metadata, so two runs give byte-identical files.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any

import matplotlib.style
from matplotlib.figure import Figure

DPI = 200

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
BLUE = "#0072B2"
VERMILION = "#D55E00"
GREEN = "#009E73"
ORANGE = "#E69F00"
PURPLE = "#CC79A7"
SKY = "#56B4E9"
INK = "#1A1A1A"
GREY = "#7A7A7A"
LIGHT = "#D9D9D9"
CYCLE = (BLUE, VERMILION, GREEN, ORANGE, PURPLE, SKY)
MARKERS = ("o", "s", "^", "D")

RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "mathtext.fontset": "dejavusans",
    "text.usetex": False,
    "font.size": 14,
    "axes.titlesize": 16,
    "axes.labelsize": 15,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 13,
    "figure.titlesize": 17,
    # Opaque white everywhere: a transparent PNG with black text vanishes in night mode.
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.edgecolor": "white",
    "savefig.transparent": False,
    "legend.facecolor": "white",
    "legend.framealpha": 1.0,
    "legend.edgecolor": LIGHT,
    "text.color": INK,
    "axes.titlecolor": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.prop_cycle": "cycler('color', " + repr(list(CYCLE)) + ")",
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": LIGHT,
    "grid.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 2.5,
    "lines.markersize": 7,
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "figure.constrained_layout.use": True,
    # Only used if a figure is ever saved as SVG: fixed ids and text as paths.
    "svg.hashsalt": "examdeck",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}


def new_figure(width: float, height: float) -> Figure:
    """A figure outside pyplot, so drawing leaves no global state behind."""
    return Figure(figsize=(width, height))


def render(
    func: Callable[..., tuple[Figure, dict[str, Any]]], params: Mapping[str, Any]
) -> tuple[bytes, dict[str, Any]]:
    """Call a figure function under the shared style; return its PNG bytes and data."""
    # after_reset: start from matplotlib's defaults, not from whatever rc the host has.
    with matplotlib.style.context(RC, after_reset=True):
        fig, data = func(**params)
        buffer = io.BytesIO()
        # "Software" is the only metadata matplotlib writes into a PNG; no timestamps.
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue(), data
