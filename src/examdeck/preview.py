"""A static HTML preview of every card, front and back, as Anki will show it.

The page renders each card from the note type's own templates and CSS (``notetypes``), with
a small renderer for Anki's ``{{Field}}`` / ``{{#Field}}...{{/Field}}`` syntax, and typesets
formulas with the MathJax 3.2.2 that the math check runs (``mathjax/node_modules``), copied
next to the page and configured as Anki configures it. Nothing is fetched from the network,
so an instructor can open ``index.html`` straight from disk.

Besides the desktop page, ``phone.html`` shows every card side as its own page of Anki's
reviewer (``sides/``, see ``examdeck.phoneview``) in 360 px frames, light and night, where a
script outlines in red what overflows; ``inspect_preview`` measures the same pages in headless
Chromium and says what does not fit (``examdeck preview --report``).

Layout of ``out_dir``::

    index.html
    phone.html                              every side at 360 px, light and night
    sides/<deck>/<card>-<front|back>.html   one side as a page of Anki's reviewer
    report.json                             with --report: what overflows (inspect_preview)
    media/examdeck-<figure>-<variant>-<hash>.png  the figures (every variant), named as in the .apkg
    mathjax/tex-chtml-full.js               Anki's MathJax component
    mathjax/output/chtml/fonts/woff-v2/     the fonts it loads at runtime
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import figures as figure_registry
from .assemble import link_figures, media_name
from .errors import UsageError
from .mathcheck import MATHJAX_VERSION, default_runner_dir
from .model import Card, Deck
from .notetypes import CSS, SPECS
from .pipeline import CheckedDeck, Progress, check

__all__ = ["TemplateError", "inspect_preview", "render_template", "write_preview"]

MATHJAX_SCRIPT = "es5/tex-chtml-full.js"
# tex-chtml-full.js bundles every TeX package, the menu and assistive MathML; at runtime it
# only fetches the CHTML fonts, from "[mathjax]/output/chtml/fonts/woff-v2" next to itself.
MATHJAX_FONTS = "es5/output/chtml/fonts/woff-v2"

_TYPE_LABELS = {"mcq": "multiple choice", "truefalse": "true or false", "open": "open question"}


class TemplateError(ValueError):
    """A note-type template Anki would refuse to render (unknown field, unbalanced section)."""


# --- Anki's template language ---------------------------------------------------------------

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# Anki's rslib template.rs field_is_empty: only whitespace and empty <br>/<div> tags.
_EMPTY_FIELD = re.compile(r"^(?:\s|</?(?:br|div) ?/?>)*$", re.IGNORECASE)


def field_is_empty(text: str) -> bool:
    """Whether Anki treats a field as empty in ``{{#Field}}`` sections."""
    return _EMPTY_FIELD.match(text) is not None


def render_template(template: str, fields: Mapping[str, str], *, front_side: str | None = None) -> str:
    """Fill an Anki card template: ``{{Field}}`` (raw HTML, as Anki inserts it), ``{{#Field}}...{{/Field}}``
    (kept when the field is non-empty), ``{{^Field}}...{{/Field}}`` (kept when empty) and ``{{FrontSide}}``.

    :param front_side: the rendered front, for ``{{FrontSide}}`` on an answer template.
    :raises TemplateError: an unknown field, a filter, or sections that do not nest.
    """
    values = dict(fields)
    if front_side is not None:
        values["FrontSide"] = front_side
    out: list[str] = []
    # (name, kept) of each open section; text is emitted only while every open section is kept.
    open_sections: list[tuple[str, bool]] = []
    position = 0
    for match in _TAG.finditer(template):
        if all(kept for _, kept in open_sections):
            out.append(template[position : match.start()])
        position = match.end()
        tag = match.group(1).strip()
        kind, name = (tag[0], tag[1:].strip()) if tag[:1] in "#^/" else ("", tag)
        if ":" in name:
            raise TemplateError(f"{{{{{tag}}}}}: field filters are not supported by the preview")
        if name not in values:
            raise TemplateError(f"{{{{{tag}}}}}: unknown field {name!r} (fields: {', '.join(values)})")
        if kind == "/":
            if not open_sections or open_sections[-1][0] != name:
                expected = f"{{{{/{open_sections[-1][0]}}}}}" if open_sections else "no closing tag"
                raise TemplateError(f"{{{{/{name}}}}}: expected {expected}")
            open_sections.pop()
        elif kind:  # "#" or "^"
            non_empty = not field_is_empty(values[name])
            open_sections.append((name, non_empty if kind == "#" else not non_empty))
        elif all(kept for _, kept in open_sections):
            out.append(values[name])
    if open_sections:
        raise TemplateError(f"{{{{#{open_sections[-1][0]}}}}}: section is never closed")
    out.append(template[position:])
    return "".join(out)


# --- the preview ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewCard:
    """One card as the page shows it: its source card and the two rendered sides."""

    card: Card
    front: str
    back: str


@dataclass(frozen=True)
class TopicOption:
    slug: str
    title: str
    count: int


def mathjax_dir(runner_dir: Path | None = None) -> Path:
    """The installed ``mathjax-full`` package; raise UsageError with the set-up command when missing."""
    runner = runner_dir if runner_dir is not None else default_runner_dir()
    package = runner / "node_modules" / "mathjax-full"
    hint = f"run `npm ci --prefix {_display_path(runner)}` (the preview serves MathJax from local files)"
    missing = [p for p in (MATHJAX_SCRIPT, MATHJAX_FONTS, "package.json") if not (package / p).exists()]
    if missing:
        raise UsageError(f"MathJax {MATHJAX_VERSION} is not installed ({package / missing[0]} is missing): {hint}")
    try:
        version = json.loads((package / "package.json").read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read {package / 'package.json'} ({err}): {hint}") from None
    if version != MATHJAX_VERSION:
        raise UsageError(f"MathJax {version} is installed in {package}, Anki uses {MATHJAX_VERSION}: {hint}")
    return package


def _display_path(path: Path) -> str:
    """``path`` relative to the working directory when under it: ``npm ci --prefix mathjax``."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def write_preview(
    cards_dir: Path,
    out_dir: Path,
    *,
    figures_dir: Path = Path("figures"),
    include_all: bool = True,
    math_check: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write a static preview of every card to ``out_dir`` and return the path of its ``index.html``.

    :param cards_dir: the cards directory (one or more decks), validated as ``check`` does.
    :param out_dir: created if needed; files of an earlier preview are overwritten.
    :param figures_dir: where figures are kept and drawn when stale (``figures.ensure_figure``).
    :param include_all: every status (active, nullified, draft); ``False`` shows active cards only.
    :param math_check: also check every formula with MathJax first, as ``check`` does.
    :raises UsageError: MathJax is not installed, or ``cards_dir`` holds no deck.
    :raises InvalidSources: a card is invalid.
    """
    package = mathjax_dir()  # before any work: without it the page cannot show formulas
    report = check(Path(cards_dir), math_check=math_check, progress=progress)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _copy_mathjax(package, out_dir / "mathjax")

    decks: list[tuple[Deck, list[PreviewCard]]] = []
    media: dict[tuple[str, str], str] = {}  # (figure, variant) -> path relative to out_dir
    for checked in report.decks:
        cards = [c for c in checked.deck.cards if include_all or c.status == "active"]
        for name in sorted({f for c in cards for f in checked.rendered[c.id].figures}):
            if (name, figure_registry.VARIANTS[0]) not in media:
                if progress:
                    progress(f"figure {name}")
                for variant, png in figure_registry.ensure_figure(name, Path(figures_dir)).images.items():
                    media[name, variant] = _copy_figure(f"{name}-{variant}", png, out_dir)
        decks.append((checked.deck, [_preview_card(checked, card, media) for card in cards]))

    index = out_dir / "index.html"
    index.write_text(_page(decks), encoding="utf-8")
    _write_phone_view(decks, out_dir)
    return index


# --- phone view ----------------------------------------------------------------------------------

# Runs in a side page once MathJax has typeset it: outlines what overflows, as the report judges it.
_MARK_JS = """\
(function () {
  function mark() {
    if (!window.examdeckMathJax) return setTimeout(mark, 50);
    var right = document.documentElement.clientWidth, bad = 0;
    document.querySelectorAll("mjx-container").forEach(function (c) {
      var math = c.querySelector("mjx-math") || c, box = c.parentElement;
      while (box && getComputedStyle(box).display === "inline") box = box.parentElement;
      var s = getComputedStyle(box), room = box.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
      if (math.getBoundingClientRect().width > room + 0.5) { c.style.outline = "2px solid red"; bad++; }
    });
    document.querySelectorAll("#qa *").forEach(function (el) {
      if (el.closest("mjx-container, mjx-assistive-mml")) return;
      if (el.getBoundingClientRect().right > right + 0.5) { el.style.outline = "2px dashed red"; bad++; }
    });
    var root = document.scrollingElement;
    if (root.scrollWidth > root.clientWidth + 1) bad++;
    document.documentElement.dataset.overflows = bad;
    if (window.parent !== window) window.parent.postMessage({examdeckSide: location.pathname, overflows: bad}, "*");
  }
  mark();
})();
"""


def _side_path(deck: Deck, card: Card, side: str) -> str:
    return f"sides/{deck.key}/{card.id}-{side}.html"


def _write_phone_view(decks: Sequence[tuple[Deck, Sequence[PreviewCard]]], out_dir: Path) -> None:
    """``sides/`` (every side as a page of Anki's reviewer) and ``phone.html`` (them at 360 px)."""
    from .phoneview import card_page

    rows = []
    for deck, shown in decks:
        (out_dir / "sides" / deck.key).mkdir(parents=True, exist_ok=True)
        for preview in shown:
            frames = []
            for side, side_html in (("front", preview.front), ("back", preview.back)):
                path = _side_path(deck, preview.card, side)
                page = card_page(side_html, mathjax_script="mathjax/tex-chtml-full.js", base="../../", css=CSS,
                                 title=f"{preview.card.id} {side}")
                # ?night (from phone.html) switches to night mode as Anki does: classes on <body>.
                page = page.replace("</body>", "<script>\nif (location.search.indexOf(\"night\") >= 0) {"
                                    " document.body.classList.add(\"nightMode\", \"night_mode\");"
                                    " document.documentElement.classList.add(\"night-mode\"); }\n"
                                    f"{_MARK_JS}</script>\n</body>")
                (out_dir / path).write_text(page, encoding="utf-8")
                for night in (False, True):
                    label = f"{side}, {'night' if night else 'light'}"
                    frames.append(f'<figure><figcaption>{_text(label)}</figcaption><iframe loading="lazy" '
                                  f'src="{_attr(path)}{"?night" if night else ""}" title="{_attr(preview.card.id)} '
                                  f'{_attr(label)}"></iframe></figure>')
            rows.append(f'<section class="side-row" id="phone-{_attr(deck.key)}-{_attr(preview.card.id)}">'
                        f'<h2>{_text(deck.key)} / {_text(preview.card.id)} <span class="overflow-count"></span></h2>'
                        f'<div class="frames">{"".join(frames)}</div></section>')
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Phone view (360 px)</title>
<style>
body {{ margin: 0; padding: 1em; background: #e9ebee; font-family: sans-serif; }}
.frames {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; }}
figcaption {{ font-size: 0.85em; color: #3c4043; }}
iframe {{ width: 360px; height: 740px; border: 1px solid #9aa0a6; background: #fff; }}
.side-row h2 {{ font-size: 1em; margin: 1.2em 0 0.4em; }}
.overflow-count {{ color: #b42318; }}
</style>
</head>
<body>
<p>Every card side as a page of Anki's reviewer in a 360 px frame (a phone), light and night.
Red outlines mark a formula wider than its box (solid) or anything past the right edge (dashed).
<a href="index.html">Desktop view</a>.</p>
{chr(10).join(rows)}
<script>
addEventListener("message", function (e) {{
  if (!e.data || !e.data.overflows) return;
  document.querySelectorAll("iframe").forEach(function (frame) {{
    if (frame.contentWindow !== e.source) return;
    var title = frame.closest(".side-row").querySelector(".overflow-count");
    title.textContent = "overflows: see the red outlines";
    frame.style.borderColor = "#b42318";
  }});
}});
</script>
</body>
</html>
"""
    (out_dir / "phone.html").write_text(page, encoding="utf-8")


def inspect_preview(out_dir: Path, *, progress: Progress | None = None) -> dict[str, object]:
    """Measure every side page of a written preview in headless Chromium (``phoneview.VIEWS``: phone
    360 px and desktop 1280 px, light and night) and write ``out_dir/report.json``.

    :param out_dir: a directory written by ``write_preview``.
    :returns: the report: ``{"views": [...], "summary": {kind: {"sides", "cards", "findings"}},
        "findings": [{"deck", "card_id", "side", "view", "kind", "message"}, ...]}``.
    :raises UsageError: Chromium is not installed or failed.
    """
    from .browser import BrowserError, launch
    from .phoneview import VIEWS, CardSide, inspect_sides, summarize

    out_dir = Path(out_dir).resolve()  # file URIs need absolute paths (the default --out is relative)
    sides = []
    for path in sorted((out_dir / "sides").glob("*/*.html")):
        card_id, _, side = path.stem.rpartition("-")
        html_text = path.read_text(encoding="utf-8")
        body = html_text.split('<div id="qa">\n', 1)[1].rsplit("\n</div>\n", 1)[0]
        sides.append(CardSide(path.parent.name, card_id, side, body, out_dir))
    try:
        with launch() as browser:
            findings, _ = inspect_sides(browser, sides, mathjax_script=(out_dir / "mathjax" / "tex-chtml-full.js").as_uri(),
                                        css=CSS, work_dir=out_dir / "inspect", progress=progress)
    except BrowserError as err:
        raise UsageError(f"cannot inspect the preview: {err}") from None
    report = {
        "views": [view.label for view in VIEWS],
        "sides": len(sides),
        "summary": summarize(findings),
        "findings": [f.as_dict() for f in findings],
    }
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def _copy_mathjax(package: Path, target: Path) -> None:
    # The page loads es5/tex-chtml-full.js as mathjax/tex-chtml-full.js, so "[mathjax]" is mathjax/
    # and the fonts go to mathjax/output/chtml/fonts/woff-v2.
    fonts = target / Path(MATHJAX_FONTS).relative_to("es5")
    fonts.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(package / MATHJAX_SCRIPT, target / Path(MATHJAX_SCRIPT).name)
    shutil.copytree(package / MATHJAX_FONTS, fonts, dirs_exist_ok=True)
    if (package / "LICENSE").is_file():
        shutil.copyfile(package / "LICENSE", target / "LICENSE")


def _copy_figure(name: str, png: Path, out_dir: Path) -> str:
    media_dir = out_dir / "media"
    media_dir.mkdir(exist_ok=True)
    # The .apkg's content-hashed name: a redrawn figure never hides behind a cached old one.
    target = media_dir / media_name(name, png)
    shutil.copyfile(png, target)
    return f"media/{target.name}"


def _preview_card(checked: CheckedDeck, card: Card, media: Mapping[tuple[str, str], str]) -> PreviewCard:
    rendered = checked.rendered[card.id]
    fields = link_figures(rendered.fields, rendered.figures, media)
    if rendered.images:  # the deck folder's own images, shown from where they are
        from .fastmd import escape_html
        from .images import resolve
        from .render import IMAGE_SCHEME

        for path in {image.path for image in rendered.images}:
            reference = f'src="{escape_html(IMAGE_SCHEME + path)}"'
            target = resolve(Path(checked.deck.path), path).resolve().as_uri()
            fields = {k: v.replace(reference, f'src="{escape_html(target)}"') for k, v in fields.items()}
    spec = SPECS[card.type]
    fields = {name: fields.get(name, "") for name in spec.fields}
    front = render_template(spec.front, fields)
    back = render_template(spec.back, fields, front_side=front)
    return PreviewCard(card, front, back)


def topic_options(decks: Sequence[tuple[Deck, Sequence[PreviewCard]]]) -> list[TopicOption]:
    """Every deck topic once (by slug, in deck order) with the number of shown cards tagged with it."""
    counts = Counter(slug for _, cards in decks for p in cards for slug in p.card.topics)
    titles: dict[str, str] = {}
    for deck, _ in decks:
        for topic in deck.topics:
            titles.setdefault(topic.slug, topic.title)
    return [TopicOption(slug, title, counts[slug]) for slug, title in titles.items()]


# --- HTML ---------------------------------------------------------------------------------------

# Anki's reviewer configuration (ankitects/anki ts/mathjax/index.ts): inline \( \) (MathJax's
# default), display \[ \], no escapes, environments or refs outside delimiters, noerrors and
# mathtools added, textmacros removed. `$` is never a delimiter, as in Anki.
_MATHJAX_CONFIG = {
    "tex": {
        "inlineMath": [["\\(", "\\)"]],
        "displayMath": [["\\[", "\\]"]],
        "processEscapes": False,
        "processEnvironments": False,
        "processRefs": False,
        "packages": {"[+]": ["noerrors", "mathtools"], "[-]": ["textmacros"]},
    },
    "loader": {"load": ["[tex]/noerrors", "[tex]/mathtools"]},
    "options": {"ignoreHtmlClass": "mathjax_ignore"},
}

_PAGE_CSS = """\
html, body { margin: 0; }
body.preview { background: #e9ebee; color: #1d1d1f; font-family: -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
body.preview.nightMode { background: #121314; color: #e8eaed; color-scheme: dark; }
.toolbar { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; align-items: center;
  padding: 0.6em 1.2em; background: #ffffff; border-bottom: 1px solid #c9ccd1; }
.nightMode .toolbar { background: #1e1f22; border-color: #3c4043; }
.toolbar h1 { font-size: 1.15em; margin: 0; }
.toolbar .count { color: #5f6368; }
.nightMode .toolbar .count { color: #a0a4aa; }
.toolbar select, .toolbar button { font: inherit; padding: 0.2em 0.5em; }
main { padding: 0.8em 1.2em 3em; }
.deck-title { font-size: 1.05em; margin: 0.8em 0 0.4em; }
.preview-card { margin: 0 0 1.4em; border: 1px solid #c9ccd1; border-radius: 10px; overflow: hidden; background: #f8f9fa; }
.nightMode .preview-card { border-color: #3c4043; background: #17181a; }
.card-meta { display: flex; flex-wrap: wrap; gap: 0.3em 0.8em; align-items: baseline; padding: 0.45em 0.9em;
  font-size: 0.9em; border-bottom: 1px solid #c9ccd1; }
.nightMode .card-meta { border-color: #3c4043; }
.card-meta .card-id { font-weight: 700; font-family: ui-monospace, monospace; }
.card-meta .topic { padding: 0 0.5em; border-radius: 1em; background: #dde3ea; color: #1d1d1f; }
.nightMode .card-meta .topic { background: #2f3338; color: #e8eaed; }
.badge { padding: 0 0.5em; border-radius: 4px; font-size: 0.85em; font-weight: 700; text-transform: uppercase; letter-spacing: 0.03em; }
.badge.status-active { background: #e6f4ea; color: #1a7f37; }
.badge.status-nullified { background: #fce8e6; color: #b42318; }
.badge.status-draft { background: #fef7e0; color: #8a5a00; }
.faces { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); }
.face { min-width: 0; }
.face + .face { border-left: 1px solid #c9ccd1; }
.nightMode .face + .face { border-color: #3c4043; }
.face-label { padding: 0.3em 0.9em 0; font-size: 0.75em; color: #5f6368; text-transform: uppercase; letter-spacing: 0.05em; }
.face > .card { padding: 0.4em 0.6em 1em; height: 100%; box-sizing: border-box; overflow-x: auto; }
@media (max-width: 900px) {
  .faces { grid-template-columns: minmax(0, 1fr); }
  .face + .face { border-left: none; border-top: 1px solid #c9ccd1; }
}
"""

# Filter by topic, toggle night mode (the classes Anki puts on the card's <body>), keep both in
# the URL hash, and mark each image data-loaded="true" once it has pixels (the browser test reads
# these attributes, and data-mathjax on <body>, from the dumped DOM).
_PAGE_JS = """\
(function () {
  var body = document.body, select = document.getElementById("topic-filter");
  var night = document.getElementById("night-toggle"), shown = document.getElementById("shown-count");
  function applyTopic() {
    var topic = select.value, n = 0;
    document.querySelectorAll("article.preview-card").forEach(function (card) {
      var show = !topic || card.dataset.topics.split(" ").indexOf(topic) >= 0;
      card.hidden = !show;
      if (show) n++;
    });
    document.querySelectorAll("section.deck").forEach(function (deck) {
      deck.hidden = !deck.querySelector("article.preview-card:not([hidden])");
    });
    shown.textContent = n;
  }
  function setNight(on) {
    body.classList.toggle("nightMode", on);
    body.classList.toggle("night_mode", on);
    night.setAttribute("aria-pressed", String(on));
    night.textContent = on ? "Light mode" : "Night mode";
  }
  function saveHash() {
    var parts = [];
    if (select.value) parts.push("topic=" + encodeURIComponent(select.value));
    if (body.classList.contains("nightMode")) parts.push("night");
    history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname);
  }
  location.hash.slice(1).split("&").forEach(function (part) {
    if (part === "night") setNight(true);
    if (part.indexOf("topic=") === 0) select.value = decodeURIComponent(part.slice(6));
  });
  if (select.selectedIndex < 0) select.value = "";
  applyTopic();
  select.addEventListener("change", function () { applyTopic(); saveHash(); });
  night.addEventListener("click", function () { setNight(!body.classList.contains("nightMode")); saveHash(); });
  function markLoaded(img) { img.dataset.loaded = String(img.complete && img.naturalWidth > 0); }
  Array.prototype.forEach.call(document.images, function (img) {
    img.addEventListener("load", function () { markLoaded(img); });
    img.addEventListener("error", function () { markLoaded(img); });
    if (img.complete) markLoaded(img);
  });
})();
"""

# After MathJax has typeset the page: record it, then how many of its web fonts loaded.
_MATHJAX_READY_JS = """\
function () {
  return MathJax.startup.defaultPageReady().then(function () {
    document.body.dataset.mathjax = "typeset";
    return document.fonts.ready;
  }).then(function () {
    var loaded = 0, failed = 0;
    document.fonts.forEach(function (font) {
      if (font.family.replace(/"/g, "").indexOf("MJX") !== 0) return;
      if (font.status === "loaded") loaded++;
      if (font.status === "error") failed++;
    });
    document.body.dataset.mathjaxFontsLoaded = loaded;
    document.body.dataset.mathjaxFontsFailed = failed;
  }).catch(function (err) {
    document.body.dataset.mathjax = "failed: " + err;
  });
}"""


def _mathjax_config_js() -> str:
    # JSON is valid JS for the settings; pageReady is code, so it is added after parsing.
    settings = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in _MATHJAX_CONFIG.items())
    return f"window.MathJax = {{\n{settings},\n  \"startup\": {{\"pageReady\": {_MATHJAX_READY_JS}}}\n}};"


def _page(decks: Sequence[tuple[Deck, Sequence[PreviewCard]]]) -> str:
    cards = [p for _, shown in decks for p in shown]
    statuses = Counter(p.card.status for p in cards)
    by_status = "".join(f" · {n} {status}" for status, n in sorted(statuses.items()))
    title = " + ".join(deck.title for deck, _ in decks)
    options = "\n".join(
        f'<option value="{_attr(t.slug)}">{_text(t.title)} ({t.count})</option>' for t in topic_options(decks)
    )
    sections = "\n".join(_deck_section(deck, shown) for deck, shown in decks)
    e = _text
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preview: {e(title)}</title>
<style>
{CSS}</style>
<style>
{_PAGE_CSS}</style>
<script>
{_mathjax_config_js()}
</script>
<script id="MathJax-script" defer src="mathjax/tex-chtml-full.js"></script>
</head>
<body class="preview">
<header class="toolbar mathjax_ignore">
<h1>{e(title)}</h1>
<span class="count" id="card-count" data-total="{len(cards)}"><span id="shown-count">{len(cards)}</span> of \
{len(cards)} card{"" if len(cards) == 1 else "s"}{by_status}</span>
<label>Topic <select id="topic-filter">
<option value="">All topics ({len(cards)})</option>
{options}
</select></label>
<button type="button" id="night-toggle" aria-pressed="false">Night mode</button>
</header>
<main>
{sections}
</main>
<script>
{_PAGE_JS}</script>
</body>
</html>
"""


def _deck_section(deck: Deck, shown: Sequence[PreviewCard]) -> str:
    cards = "\n".join(_card_article(deck, p) for p in shown)
    return (
        f'<section class="deck" data-deck="{_attr(deck.key)}">\n'
        f'<h2 class="deck-title mathjax_ignore">{_text(deck.title)} · {len(shown)} cards</h2>\n{cards}\n</section>'
    )


def _card_article(deck: Deck, preview: PreviewCard) -> str:
    card = preview.card
    topics = "".join(f'<span class="topic">{_text(deck.topic(slug).title)}</span>' for slug in card.topics)
    return f"""<article class="preview-card" id="card-{_attr(deck.key)}-{_attr(card.id)}" data-card-id="{_attr(card.id)}" \
data-deck="{_attr(deck.key)}" data-status="{_attr(card.status)}" data-topics="{_attr(" ".join(card.topics))}">
<div class="card-meta mathjax_ignore"><span class="card-id">{_text(card.id)}</span>\
<span class="badge status-{_attr(card.status)}">{_text(card.status)}</span>\
<span class="card-type">{_text(_TYPE_LABELS.get(card.type, card.type))}</span>{topics}</div>
<div class="faces">
<div class="face front-face"><div class="face-label mathjax_ignore">Front</div><div class="card card1">
{preview.front}
</div></div>
<div class="face back-face"><div class="face-label mathjax_ignore">Back</div><div class="card card1">
{preview.back}
</div></div>
</div>
</article>"""


def _text(value: str) -> str:
    return html.escape(value, quote=False)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)
