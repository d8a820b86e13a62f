"""The shared look of every figure, its four variants, and the one place a figure becomes PNG bytes.

Every figure is drawn four times (``VARIANTS``): a desktop and a phone layout, each light and dark.

- Desktop: 7 in wide at 200 dpi (1,400 px), shown at most ~850 CSS px wide by the note type, so
  at least 1/3.5 of its pixel width; 14 pt text shows at about 20 px.
- Phone: 3.2 in wide (640 px), panels stacked, shown ~285-315 CSS px wide on a 360 px screen
  (inside the explanation panel at the narrowest); text of ``MIN_POINTS`` = 14 pt shows at
  14 * 285 / (72 * 3.2) = 17.3 px, at least the phone body size (17 px). ``render`` refuses a
  figure with smaller text, or one whose pixel width exceeds 3.5x its narrowest display width.
- Dark: the night-mode card's background (#1e1f22) with light text and lighter Okabe-Ito hues,
  so a figure is not a glaring white box at night.

Deterministic: fixed font (DejaVu Sans ships with matplotlib), every rcParam that matters is set
here on top of matplotlib's defaults (a user's matplotlibrc is ignored), and the PNG carries no
metadata, so two runs with the same matplotlib give byte-identical files.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib.style
import matplotlib.text
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 200
LAYOUTS = ("desktop", "phone")
THEMES = ("light", "dark")
VARIANTS = tuple(f"{layout}-{theme}" for layout in LAYOUTS for theme in THEMES)
WIDTH_INCHES = {"desktop": 7.0, "phone": 3.2}
# The narrowest CSS width each layout is shown at: a 360 px phone's card inside the explanation
# panel; a desktop card (max-width 46em at 19 px) inside the explanation panel.
SHOWN_AT_LEAST = {"desktop": 400.0, "phone": 285.0}
MAX_DENSITY = 3.5  # image pixels per CSS pixel, at most
PHONE_BODY_PX = 17.0  # the note type's body font size on a phone (notetypes.CSS)
MIN_POINTS = 14.0
MARKERS = ("o", "s", "^", "D")


@dataclass(frozen=True)
class Palette:
    """The colours of one theme. Hues are Okabe-Ito (distinguishable with the common colour-vision
    deficiencies); the dark theme uses lighter tints of them, readable on the dark background."""

    background: str
    ink: str
    grey: str
    grid: str
    fill: str
    blue: str
    vermilion: str
    green: str
    orange: str
    purple: str
    sky: str

    @property
    def cycle(self) -> tuple[str, ...]:
        return (self.blue, self.vermilion, self.green, self.orange, self.purple, self.sky)


PALETTES = {
    "light": Palette(background="#FFFFFF", ink="#1A1A1A", grey="#6E6E6E", grid="#D9D9D9", fill="#CFCFCF",
                     blue="#0072B2", vermilion="#D55E00", green="#009E73", orange="#E69F00",
                     purple="#CC79A7", sky="#56B4E9"),
    # background = the night-mode card's --bg in notetypes.CSS
    "dark": Palette(background="#1E1F22", ink="#E8EAED", grey="#A0A4AA", grid="#3C4043", fill="#55595F",
                    blue="#56B4E9", vermilion="#FF8A4C", green="#3FD0A4", orange="#F5C242",
                    purple="#E79FC8", sky="#9FD5F5"),
}


@dataclass(frozen=True)
class Canvas:
    """Where one variant is drawn: its layout ("desktop" or "phone") and its palette."""

    layout: str
    theme: str

    @property
    def phone(self) -> bool:
        return self.layout == "phone"

    @property
    def colors(self) -> Palette:
        return PALETTES[self.theme]

    def figure(self, *, desktop_height: float, phone_height: float) -> Figure:
        """A figure outside pyplot (no global state), the layout's width, the given height in inches."""
        height = phone_height if self.phone else desktop_height
        fig = Figure(figsize=(WIDTH_INCHES[self.layout], height))
        FigureCanvasAgg(fig)  # the PNG renderer, also for measuring text before saving
        return fig


def rc(theme: str) -> dict[str, Any]:
    """matplotlib rcParams of a theme: every size at least ``MIN_POINTS``."""
    p = PALETTES[theme]
    return {
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],
        "mathtext.fontset": "dejavusans",
        "text.usetex": False,
        "font.size": MIN_POINTS,
        "axes.titlesize": 15,
        "axes.labelsize": MIN_POINTS,
        "xtick.labelsize": MIN_POINTS,
        "ytick.labelsize": MIN_POINTS,
        "legend.fontsize": MIN_POINTS,
        "figure.titlesize": 15,
        # Opaque everywhere: a transparent PNG with dark text vanishes in night mode.
        "figure.facecolor": p.background,
        "axes.facecolor": p.background,
        "savefig.facecolor": p.background,
        "savefig.edgecolor": p.background,
        "savefig.transparent": False,
        "legend.facecolor": p.background,
        "legend.framealpha": 1.0,
        "legend.edgecolor": p.grid,
        "text.color": p.ink,
        "axes.titlecolor": p.ink,
        "axes.labelcolor": p.ink,
        "axes.edgecolor": p.ink,
        "xtick.color": p.ink,
        "ytick.color": p.ink,
        "axes.prop_cycle": "cycler('color', " + repr(list(p.cycle)) + ")",
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.color": p.grid,
        "grid.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "lines.linewidth": 2.5,
        "lines.markersize": 7,
        "figure.dpi": 100,
        "savefig.dpi": DPI,
        "figure.constrained_layout.use": True,
        "figure.constrained_layout.h_pad": 0.04,
        "figure.constrained_layout.w_pad": 0.04,
        # Only used if a figure is ever saved as SVG: fixed ids and text as paths.
        "svg.hashsalt": "examdeck",
        "svg.fonttype": "path",
        "pdf.fonttype": 42,
    }


def check_sizes(fig: Figure, canvas: Canvas) -> None:
    """Raise ``ValueError`` when a text of `fig` is below ``MIN_POINTS``, or the image too dense."""
    width_px = fig.get_figwidth() * DPI
    if width_px > MAX_DENSITY * SHOWN_AT_LEAST[canvas.layout]:
        raise ValueError(f"{canvas.layout} figure {width_px:.0f} px wide: more than {MAX_DENSITY}x its display width")
    for text in fig.findobj(matplotlib.text.Text):
        if text.get_visible() and text.get_text().strip() and text.get_fontsize() < MIN_POINTS:
            raise ValueError(f"text {text.get_text()!r} at {text.get_fontsize()} pt: below {MIN_POINTS} pt")
    # Everything drawn (titles, labels, legends) inside the image: nothing cut at an edge.
    drawn = fig.get_tightbbox(fig.canvas.get_renderer())
    if drawn.x0 < -0.05 or drawn.y0 < -0.05 or drawn.x1 > fig.get_figwidth() + 0.05 or drawn.y1 > fig.get_figheight() + 0.05:
        raise ValueError(f"{canvas.layout} figure: something is drawn past the edge of the image ({drawn})")


def shown_px(points: float, layout: str) -> float:
    """CSS px at which `points` of figure text show at the layout's narrowest display width."""
    return points * SHOWN_AT_LEAST[layout] / (72.0 * WIDTH_INCHES[layout])


def render(plot: Callable[[Any, Canvas], Figure], data: Any, variant: str) -> bytes:
    """Draw `data` with `plot` as one of ``VARIANTS`` under the shared style; return PNG bytes."""
    layout, theme = variant.split("-")
    canvas = Canvas(layout, theme)
    # after_reset: start from matplotlib's defaults, not from whatever rc the host has.
    with matplotlib.style.context(rc(theme), after_reset=True):
        fig = plot(data, canvas)
        fig.canvas.draw()  # lays out the figure, so tick labels exist for the size check
        check_sizes(fig, canvas)
        buffer = io.BytesIO()
        # "Software" is the only metadata matplotlib writes into a PNG; no timestamps.
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def render_all(plot: Callable[[Any, Canvas], Figure], data: Any) -> Mapping[str, bytes]:
    """Every variant of one figure, in ``VARIANTS`` order."""
    return {variant: render(plot, data, variant) for variant in VARIANTS}
