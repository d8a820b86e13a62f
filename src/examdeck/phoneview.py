"""Card sides as students see them: a phone (360 px) and a desktop (1280 px), light and night.

Each card side becomes a page like Anki's reviewer: the reviewer's own body rules
(``ANKI_REVIEWER_CSS``), the note type's CSS, ``<body class="card card1">`` (plus ``nightMode
night_mode`` at night, as Anki and AnkiDroid set them) and MathJax 3.2.2 configured as Anki
configures it (``ANKI_MATHJAX_CONFIG``), served from ``mathjax/node_modules``. Headless
Chromium (``examdeck.browser``) loads every page once and measures it in every view
(``VIEWS``), and ``inspect_sides`` returns what does not fit, as ``Finding`` values:

- ``formula``: a typeset formula wider than the box it sits in (cut, or hidden behind a scroll);
- ``edge``: an element that reaches past the right edge of the screen;
- ``scroll``: the page itself scrolls sideways;
- ``figure-scale``: a figure shown at less than 1/``MAX_FIGURE_SHRINK`` of its pixel width, in
  device pixels (its text becomes unreadably small);
- ``figure-light``: at night, a figure whose visible pixels are bright on average (a glaring box);
- ``contrast``: at night, text whose contrast with its background is below 4.5:1 (WCAG AA);
- ``answer-marker``: a front whose HTML marks the correct answer (a class, attribute or symbol).

The test ``tests/test_phone_view.py`` runs this on sides rendered by the official anki library;
``examdeck preview --report`` runs it on the sides the preview renders from the same templates.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .browser import Browser, Page

__all__ = [
    "ANKI_MATHJAX_CONFIG",
    "ANKI_REVIEWER_CSS",
    "FINDING_KINDS",
    "MAX_FIGURE_SHRINK",
    "MIN_CONTRAST",
    "VIEWS",
    "CardSide",
    "Finding",
    "View",
    "answer_markers",
    "card_page",
    "inspect_sides",
    "summarize",
]

FINDING_KINDS = ("formula", "edge", "scroll", "figure-scale", "figure-light", "contrast", "answer-marker")
MAX_FIGURE_SHRINK = 3.5  # a figure may be shown down to 1/3.5 of its pixel width (device pixels)
MIN_CONTRAST = 4.5  # WCAG 2 AA for body text
MAX_NIGHT_FIGURE_LUMA = 0.35  # mean luma (0 black .. 1 white) of a figure's visible pixels at night


@dataclass(frozen=True)
class View:
    """A screen: layout width and height in CSS px, device pixels per CSS px, and the theme."""

    name: str
    width: int
    height: int
    scale: float
    night: bool

    @property
    def label(self) -> str:
        return f"{self.name} {self.width}px {'night' if self.night else 'light'}"


# A common narrow phone (360 CSS px at 2 device px each) and a desktop window; light and night.
VIEWS = (
    View("phone", 360, 740, 2.0, False),
    View("phone", 360, 740, 2.0, True),
    View("desktop", 1280, 800, 1.0, False),
    View("desktop", 1280, 800, 1.0, True),
)


@dataclass(frozen=True)
class CardSide:
    """One side of one card, as HTML that goes inside Anki's ``<div id="qa">`` (style included)."""

    deck: str
    card_id: str
    side: str  # "front" or "back"
    html: str
    base: Path  # where its relative media references (figures) point to: the media folder


@dataclass(frozen=True)
class Finding:
    """One thing that does not fit on one side of a card in one view."""

    deck: str
    card_id: str
    side: str
    view: str  # View.label, or "html" for what is found without a browser
    kind: str  # one of FINDING_KINDS
    message: str

    def __str__(self) -> str:
        return f"{self.deck}/{self.card_id} {self.side} [{self.view}] {self.kind}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# Anki's reviewer (ankitects/anki ts/reviewer/reviewer.scss) around the card's own CSS: the body
# margin, wrapping, image limits and the night canvas (qt/aqt/data/web: --canvas in night mode).
ANKI_BODY_MARGIN_PX = 20
ANKI_REVIEWER_CSS = f"""\
:root {{ --canvas: #ffffff; }}
:root.night-mode {{ --canvas: #2c2c2c; }}
body {{ margin: {ANKI_BODY_MARGIN_PX}px; overflow-wrap: break-word; }}
body.nightMode {{ background-color: var(--canvas); }}
img {{ max-width: 100%; max-height: 95vh; }}
li {{ text-align: start; }}
"""

# Anki's reviewer MathJax set-up (ankitects/anki ts/mathjax/index.ts), loading tex-chtml-full.js.
ANKI_MATHJAX_CONFIG = {
    "tex": {
        "displayMath": [["\\[", "\\]"]],
        "processEscapes": False,
        "processEnvironments": False,
        "processRefs": False,
        "packages": {"[+]": ["noerrors", "mathtools", "mhchem"], "[-]": ["textmacros"]},
    },
    "loader": {"load": ["[tex]/noerrors", "[tex]/mathtools", "[tex]/mhchem"]},
}

_READY_JS = """\
function () {
  return MathJax.startup.defaultPageReady().then(function () { return document.fonts.ready; })
    .then(function () { window.examdeckMathJax = "typeset"; })
    .catch(function (err) { window.examdeckMathJax = "failed: " + err; });
}"""


def card_page(side_html: str, *, mathjax_script: str, night: bool = False, base: str | None = None,
              css: str = "", title: str = "card") -> str:
    """A card side as a page of Anki's reviewer.

    :param side_html: the side as Anki renders it (``<style>`` + template output).
    :param mathjax_script: the URL of MathJax's ``tex-chtml-full.js``.
    :param night: start in night mode (``nightMode night_mode`` on body, as Anki sets them).
    :param base: a ``<base href>`` for relative media references.
    :param css: more CSS (the note type's, when `side_html` does not carry it).
    """
    settings = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in ANKI_MATHJAX_CONFIG.items())
    body_class = "card card1" + (" nightMode night_mode" if night else "")
    base_tag = f'<base href="{html.escape(base)}">\n' if base else ""
    return f"""<!DOCTYPE html>
<html{' class="night-mode"' if night else ""}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{base_tag}<title>{html.escape(title)}</title>
<style>
{ANKI_REVIEWER_CSS}{css}</style>
<script>
window.MathJax = {{
{settings},
  "startup": {{"pageReady": {_READY_JS}}}
}};
</script>
<script defer src="{html.escape(mathjax_script)}"></script>
</head>
<body class="{body_class}">
<div id="qa">
{side_html}
</div>
</body>
</html>
"""


# What a front must not carry: the correct answer marked up (the back's styling hook, an
# attribute, the tick that the back shows), or text that is there but hidden.
_MARKER = re.compile(
    r"""class\s*=\s*["'][^"']*\b(?:correct|answer|solution)\b[^"']*["']"""
    r"""|\bdata-(?:correct|answer|solution)\b|\baria-(?:checked|selected)\s*=\s*["']true"""
    r"""|[\u2713\u2714\u2705]|&#x?(?:10003|10004|2713|2714);"""
    r"""|<\w+\b[^>]*(?:\shidden\b|display\s*:\s*none|visibility\s*:\s*hidden)[^>]*>\s*[^<\s]""",
    re.IGNORECASE,
)


def answer_markers(front_html: str) -> list[str]:
    """Where a front's HTML gives the answer away: each marker with some context, or [].

    Looks for a class, ``data-`` or ARIA attribute naming the correct answer, a tick mark,
    and text hidden with ``hidden``, ``display: none`` or ``visibility: hidden``; ``<style>`` and
    ``<script>`` blocks (the note type's CSS and code, the same on every card, holding no card's
    data) are left out.
    """
    without_style = re.sub(r"<(style|script)\b.*?</\1>", "", front_html, flags=re.DOTALL | re.IGNORECASE)
    found = []
    for match in _MARKER.finditer(without_style):
        start = max(0, match.start() - 30)
        found.append(without_style[start : match.end() + 30].replace("\n", " "))
    return found


# Runs in the page after MathJax: everything that is measured in the layout. Returns JSON.
_MEASURE_JS = r"""
(function () {
  var out = {formulas: [], edge: [], scroll: null, figures: [], contrast: [], failed: window.examdeckMathJax,
             mathjax: window.MathJax && MathJax.version};
  var root = document.scrollingElement || document.documentElement;
  var screenRight = document.documentElement.clientWidth;
  if (root.scrollWidth > root.clientWidth + 1) out.scroll = {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth};
  function describe(el) {
    var name = el.tagName.toLowerCase();
    if (el.className && typeof el.className === "string") name += "." + el.className.trim().split(/\s+/).join(".");
    var text = (el.textContent || "").replace(/\s+/g, " ").trim();
    return text ? name + " \"" + text.slice(0, 50) + (text.length > 50 ? "..." : "") + "\"" : name;
  }
  function isBlock(el) { var d = getComputedStyle(el).display; return d !== "inline" && d !== "contents"; }
  function contentWidth(el) {
    var s = getComputedStyle(el);
    return el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
  }
  // The content width of the boxes text sits in (the check's limits are derived from these).
  out.boxes = {};
  [["question", ".examdeck .question"], ["explanation", ".examdeck .explanation"], ["choices", ".examdeck .choices li"],
   ["answer", ".examdeck .answer"]].forEach(function (pair) {
    var el = document.querySelector(pair[1]);
    if (el && el.getBoundingClientRect().width > 0) out.boxes[pair[0]] = contentWidth(el);
  });
  var texOf = new Map();
  try { Array.from(MathJax.startup.document.math).forEach(function (m) { texOf.set(m.typesetRoot, m.math); }); } catch (e) {}
  document.querySelectorAll("mjx-container").forEach(function (c) {
    var math = c.querySelector("mjx-math") || c;
    var width = math.getBoundingClientRect().width;
    var box = c.parentElement;
    while (box && box !== document.body && !isBlock(box)) box = box.parentElement;
    var room = box ? contentWidth(box) : screenRight;
    var rect = c.getBoundingClientRect();
    out.formulas.push({tex: texOf.get(c) || c.textContent, display: c.getAttribute("display") === "true",
                       width: width, room: room, right: rect.left + width, visible: rect.height > 0});
  });
  document.body.querySelectorAll("*").forEach(function (el) {
    if (el.closest("mjx-assistive-mml")) return;
    var r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;
    if (r.right > screenRight + 0.5 && !el.closest("mjx-container *")) {
      // only the outermost offender of each subtree
      var parent = el.parentElement;
      if (parent && parent.getBoundingClientRect().right > screenRight + 0.5 && parent !== document.body) return;
      out.edge.push({what: describe(el), right: r.right, screen: screenRight});
    }
  });
  document.querySelectorAll("img").forEach(function (img) {
    var r = img.getBoundingClientRect();
    var s = getComputedStyle(img);
    if (r.width === 0 || r.height === 0 || s.visibility === "hidden" || s.display === "none") return;
    out.figures.push({src: img.currentSrc || img.src, natural: img.naturalWidth, shown: r.width,
                      x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height, complete: img.complete});
  });
  function rgba(text) {
    var m = text.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    var p = m[1].split(/[ ,\/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  function over(top, bottom) {  // top composited over an opaque bottom
    var a = top[3];
    return [top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a), top[2] * a + bottom[2] * (1 - a), 1];
  }
  function background(el) {
    var layers = [];
    for (var e = el; e; e = e.parentElement) {
      var c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    var color = [255, 255, 255, 1];
    for (var i = layers.length - 1; i >= 0; i--) color = over(layers[i], color);
    return color;
  }
  function luminance(c) {
    var v = [c[0], c[1], c[2]].map(function (x) { x /= 255; return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  var seen = new Set();
  var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    var node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || seen.has(el)) continue;
    if (el.closest("script, style, mjx-assistive-mml")) continue;
    var holder = el.closest("mjx-container") || el;
    if (seen.has(holder)) continue;
    seen.add(el); seen.add(holder);
    var r = holder.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(holder).visibility === "hidden") continue;
    var bg = background(holder), fg = over(rgba(getComputedStyle(holder).color), bg);
    var l1 = luminance(fg), l2 = luminance(bg);
    var ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    out.contrast.push({what: describe(holder), ratio: ratio,
                       fg: "rgb(" + fg.slice(0, 3).map(Math.round).join(",") + ")",
                       bg: "rgb(" + bg.slice(0, 3).map(Math.round).join(",") + ")"});
  }
  return JSON.stringify(out);
})()
"""

_WAIT_JS = r"""
new Promise(function (resolve) {
  var start = Date.now();
  (function poll() {
    var images = Array.prototype.every.call(document.images, function (img) { return img.complete; });
    if ((window.examdeckMathJax && images) || Date.now() - start > %d) resolve(String(window.examdeckMathJax));
    else setTimeout(poll, 25);
  })();
})
"""

_SET_NIGHT_JS = """
(function (on) {
  document.body.classList.toggle("nightMode", on); document.body.classList.toggle("night_mode", on);
  document.documentElement.classList.toggle("night-mode", on);
  return new Promise(function (resolve) {
    var pending = Array.prototype.filter.call(document.images, function (img) { return !img.complete; });
    Promise.all(pending.map(function (img) { return img.decode().catch(function () {}); }))
      .then(function () { requestAnimationFrame(function () { requestAnimationFrame(function () { resolve(true); }); }); });
  });
})(%s)
"""

Progress = Callable[[str], None]


def inspect_sides(
    browser: Browser,
    sides: Sequence[CardSide],
    *,
    mathjax_script: str,
    css: str = "",
    views: Sequence[View] = VIEWS,
    work_dir: Path,
    progress: Progress | None = None,
) -> tuple[list[Finding], list[dict[str, object]]]:
    """Load every side once in one tab, measure it in every view, and say what does not fit.

    :param sides: the card sides; fronts are also searched for answer markers.
    :param mathjax_script: URL of ``tex-chtml-full.js`` (MathJax 3.2.2).
    :param css: CSS added after Anki's reviewer rules (when the sides do not carry their own).
    :param work_dir: where the side pages are written (``side-<n>.html``).
    :returns: the findings, and the raw measurements (one dict per side and view) for reports.
    :raises BrowserError: Chromium failed.
    """
    findings: list[Finding] = []
    raw: list[dict[str, object]] = []
    work_dir.mkdir(parents=True, exist_ok=True)
    page = browser.page()
    try:
        for number, side in enumerate(sides):
            if progress:
                progress(f"{side.deck}/{side.card_id} {side.side}")
            if side.side == "front":
                findings += [Finding(side.deck, side.card_id, side.side, "html", "answer-marker",
                                     f"the front marks the answer: ...{m}...") for m in answer_markers(side.html)]
            path = work_dir / f"side-{number}.html"
            path.write_text(card_page(side.html, mathjax_script=mathjax_script, base=side.base.as_uri() + "/",
                                      css=css, title=f"{side.card_id} {side.side}"), encoding="utf-8")
            loaded_at: tuple[int, int, float] | None = None
            for view in views:
                size = (view.width, view.height, view.scale)
                if size != loaded_at:
                    page.set_viewport(*size)
                    if loaded_at is None:
                        page.goto(path.as_uri())
                        state = page.evaluate(_WAIT_JS % 20000, timeout=60)
                        if state != "typeset":
                            findings.append(Finding(side.deck, side.card_id, side.side, view.label, "formula",
                                                    f"MathJax did not finish typesetting ({state})"))
                    loaded_at = size
                page.evaluate(_SET_NIGHT_JS % ("true" if view.night else "false"))
                measured = json.loads(page.evaluate(_MEASURE_JS))
                measured.update(deck=side.deck, card_id=side.card_id, side=side.side, view=view.label)
                if view.night:
                    for figure in measured["figures"]:
                        figure["luma"] = _mean_luma(page, figure)
                raw.append(measured)
                findings += _judge(side, view, measured)
    finally:
        page.close()
    return findings, raw


def _mean_luma(page: Page, figure: dict[str, float]) -> float | None:
    """Mean luma (0..1) of the pixels shown where the figure is, from a screenshot of its box."""
    import base64
    import io

    try:
        from PIL import Image, ImageStat
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return None
    clip = {"x": figure["x"], "y": figure["y"], "width": figure["w"], "height": figure["h"], "scale": 1}
    answer = page.send("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True})
    with Image.open(io.BytesIO(base64.b64decode(answer["data"]))) as shot:
        return float(ImageStat.Stat(shot.convert("L")).mean[0]) / 255


def _short(tex: str, limit: int = 60) -> str:
    tex = " ".join(tex.split())
    return tex if len(tex) <= limit else tex[: limit - 3] + "..."


def _judge(side: CardSide, view: View, m: dict) -> list[Finding]:  # type: ignore[type-arg]
    def finding(kind: str, message: str) -> Finding:
        return Finding(side.deck, side.card_id, side.side, view.label, kind, message)

    out = []
    for f in m["formulas"]:
        if f["visible"] and f["width"] > f["room"] + 0.5:
            kind = "display" if f["display"] else "inline"
            out.append(finding("formula", f"{kind} formula {_short(f['tex'])!r} is {f['width']:.0f} px wide in a "
                                          f"{f['room']:.0f} px box"))
    for e in m["edge"]:
        out.append(finding("edge", f"{e['what']} reaches {e['right']:.0f} px, past the right edge ({e['screen']} px)"))
    if m["scroll"]:
        s = m["scroll"]
        out.append(finding("scroll", f"the page scrolls sideways ({s['scrollWidth']} px of content in {s['clientWidth']} px)"))
    for fig in m["figures"]:
        name = fig["src"].rsplit("/", 1)[-1]
        device = fig["shown"] * view.scale
        if fig["natural"] and fig["natural"] > MAX_FIGURE_SHRINK * device + 0.5:
            out.append(finding("figure-scale", f"figure {name} ({fig['natural']} px wide) is shown at {fig['shown']:.0f} px "
                                               f"x{view.scale:g} = {device:.0f} device px: 1/{fig['natural'] / device:.1f} "
                                               f"of its size, less than 1/{MAX_FIGURE_SHRINK:g}"))
        luma = fig.get("luma")
        if view.night and luma is not None and luma > MAX_NIGHT_FIGURE_LUMA:
            out.append(finding("figure-light", f"figure {name} is bright at night (mean luma {luma:.2f} > "
                                               f"{MAX_NIGHT_FIGURE_LUMA:g})"))
    if view.night:
        for c in m["contrast"]:
            if c["ratio"] < MIN_CONTRAST:
                out.append(finding("contrast", f"{c['what']}: contrast {c['ratio']:.2f}:1 ({c['fg']} on {c['bg']}), "
                                               f"below {MIN_CONTRAST:g}:1"))
    return out


def summarize(findings: Sequence[Finding]) -> dict[str, dict[str, int]]:
    """For each kind, the number of distinct sides and cards with such a finding."""
    out: dict[str, dict[str, int]] = {}
    for kind in FINDING_KINDS:
        of_kind = [f for f in findings if f.kind == kind]
        out[kind] = {"sides": len({(f.deck, f.card_id, f.side) for f in of_kind}),
                     "cards": len({(f.deck, f.card_id) for f in of_kind}), "findings": len(of_kind)}
    return out
