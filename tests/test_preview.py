"""The HTML preview: Anki's template semantics, the page's contents, and the page in headless Chromium."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO
from examdeck.browser import HEADLESS_FLAGS
from examdeck.errors import UsageError
from examdeck.mathcheck import RUNNER_DIR_ENV
from examdeck.model import Deck
from examdeck.notetypes import SPECS
from examdeck.pipeline import check, load_decks
from examdeck.preview import (
    TemplateError,
    field_is_empty,
    render_template,
    write_preview,
)

CARDS_DIR = REPO / "cards"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_RAW_DELIMITER = re.compile(r"\\[(\[]")


class _Dom(HTMLParser):
    """What the browser test needs from a page: text outside typeset math, MathJax nodes, images."""

    _VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.loose_text: list[str] = []  # text outside <mjx-container>, <script> and <style>
        self.tags: dict[str, int] = {}
        self.error_attributes = 0
        self.red_math = 0  # Anki's noundefined shows an undefined macro as red text, not an error
        self.images: list[dict[str, str | None]] = []
        self.body: dict[str, str | None] = {}
        self.options: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.error_attributes += "data-mjx-error" in attributes
        self.red_math += tag.startswith("mjx-") and "color: red" in (attributes.get("style") or "")
        if tag == "img":
            self.images.append(attributes)
        elif tag == "body":
            self.body = attributes
        elif tag == "option":
            self.options.append(attributes.get("value"))
        if tag not in self._VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not {"mjx-container", "script", "style"} & set(self.stack):
            self.loose_text.append(data)


def _parse(text: str) -> _Dom:
    dom = _Dom()
    dom.feed(text)
    return dom


def _without_scripts(page: str) -> str:
    return re.sub(r"<script\b.*?</script>", "", page, flags=re.DOTALL)


@pytest.fixture(scope="module")
def deck() -> Deck:
    (only,) = load_decks(CARDS_DIR)
    return only


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory, figures_dir: Path) -> Path:
    """The preview of the real deck, written once for the module (figures from a copy, never the repo)."""
    return write_preview(CARDS_DIR, tmp_path_factory.mktemp("preview"), figures_dir=figures_dir)


@pytest.fixture(scope="module")
def page(preview: Path) -> str:
    return preview.read_text(encoding="utf-8")


# --- Anki's template semantics ------------------------------------------------------------------


def test_template_fields_are_inserted_as_raw_html() -> None:
    assert render_template("<p>{{Question}}</p>", {"Question": "<b>x</b> &amp; y"}) == "<p><b>x</b> &amp; y</p>"
    assert render_template("{{ Question }}", {"Question": "q"}) == "q"


@pytest.mark.parametrize("value", ["", "   \n", "<br>", "<br/>", "<br />", "<div></div>", " <BR> <div> </div>"])
def test_template_sections_hide_fields_anki_calls_empty(value: str) -> None:
    assert field_is_empty(value)
    template = "a{{#Extra}}[{{Extra}}]{{/Extra}}b{{^Extra}}(none){{/Extra}}"
    assert render_template(template, {"Extra": value}) == "ab(none)"


def test_template_sections_show_non_empty_fields() -> None:
    assert not field_is_empty("<img src='x.png'>")
    template = "a{{#Extra}}[{{Extra}}]{{/Extra}}b{{^Extra}}(none){{/Extra}}"
    assert render_template(template, {"Extra": "0"}) == "a[0]b"


def test_template_nested_sections_and_front_side() -> None:
    template = "{{FrontSide}}|{{#A}}A{{#B}}B{{/B}}{{/A}}"
    assert render_template(template, {"A": "1", "B": ""}, front_side="F") == "F|A"
    assert render_template(template, {"A": "", "B": "1"}, front_side="F") == "F|"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{Nope}}", "unknown field 'Nope'"),
        ("{{#A}}x", "never closed"),
        ("{{#A}}{{#B}}{{/A}}{{/B}}", "expected {{/B}}"),
        ("{{/A}}", "expected no closing tag"),
        ("{{text:A}}", "filters are not supported"),
    ],
)
def test_template_errors_are_loud(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        render_template(template, {"A": "a", "B": "b"})


@pytest.mark.parametrize("card_type", sorted(SPECS))
def test_every_note_type_template_renders(card_type: str) -> None:
    spec = SPECS[card_type]
    fields = {name: f"<i>{name}</i>" for name in spec.fields}
    back = render_template(spec.back, fields)
    assert "{{" not in back and "<i>Explanation</i>" in back
    assert "{{" not in render_template(spec.front, fields)


# --- the page -------------------------------------------------------------------------------------


def test_every_card_appears_once_with_its_status(page: str, deck: Deck) -> None:
    ids = re.findall(r'<article class="preview-card"[^>]*data-card-id="([^"]+)"', page)
    assert ids == [card.id for card in deck.cards]
    statuses = re.findall(r'<span class="badge status-(\w+)">', page)
    assert statuses == [card.status for card in deck.cards]
    assert "nullified" in statuses  # the real deck has nullified cards, and they are shown
    assert f'data-total="{len(deck.cards)}"' in page


def test_topic_filter_lists_the_deck_topics_with_counts(page: str, deck: Deck) -> None:
    dom = _parse(page)
    assert dom.options == [""] + [topic.slug for topic in deck.topics]
    for topic in deck.topics:
        count = sum(topic.slug in card.topics for card in deck.cards)
        assert f'<option value="{topic.slug}">{html.escape(topic.title, quote=False)} ({count})</option>' in page


def test_sides_come_from_the_note_type_templates(page: str, deck: Deck) -> None:
    fronts = re.findall(r'<div class="face front-face">(.*?)</div></div>\n<div class="face back-face">', page, re.DOTALL)
    assert len(fronts) == len(deck.cards)
    for card, front in zip(deck.cards, fronts):
        assert f'class="examdeck {card.type} front"' in front
        assert 'id="answer"' not in front and 'class="explanation"' not in front
    assert page.count('<hr id="answer">') == len(deck.cards)
    assert page.count('class="examdeck ') == 2 * len(deck.cards)


def test_no_dollar_delimiters_and_math_in_anki_delimiters(page: str) -> None:
    assert "$" not in _without_scripts(page)
    assert _RAW_DELIMITER.search(_without_scripts(page))


def test_instructor_notes_never_appear(page: str, deck: Deck) -> None:
    text = html.unescape(page)
    with_notes = [card for card in deck.cards if card.notes.strip()]
    assert with_notes
    for card in with_notes:
        for line in card.notes.splitlines():
            if len(line.strip()) > 20:
                assert line.strip() not in text, f"{card.id}: notes leaked: {line.strip()!r}"


def test_figures_and_mathjax_are_local_files(preview: Path, page: str, deck: Deck) -> None:
    out = preview.parent
    sources = re.findall(r'<img class="figure[^"]*" src="([^"]+)"', page)
    assert sources and "figure:" not in page
    for src in sources:
        assert src.startswith("media/examdeck-") and (out / src).is_file(), src
    report = check(CARDS_DIR, math_check=False)
    figures = {f for rendered in report.decks[0].rendered.values() for f in rendered.figures}
    assert len(set(sources)) == 4 * len(figures)  # desktop and phone, light and dark
    assert 'src="mathjax/tex-chtml-full.js"' in page
    assert (out / "mathjax" / "tex-chtml-full.js").is_file()
    fonts = sorted(p.name for p in (out / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").iterdir())
    assert "MathJax_Main-Regular.woff" in fonts and "MathJax_Zero.woff" in fonts
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must not fetch from the network"


def test_mathjax_is_configured_like_anki(page: str) -> None:
    config = re.sub(r"\s+", "", page)
    assert '"packages":{"[+]":["noerrors","mathtools"],"[-]":["textmacros"]}' in config
    assert '"inlineMath":[["\\\\(","\\\\)"]],"displayMath":[["\\\\[","\\\\]"]]' in config
    assert '"processEscapes":false' in config


def test_active_only(tmp_path: Path, figures_dir: Path, deck: Deck) -> None:
    page = write_preview(CARDS_DIR, tmp_path / "out", figures_dir=figures_dir, include_all=False).read_text()
    ids = re.findall(r'data-card-id="([^"]+)"', page)
    assert ids == [card.id for card in deck.cards if card.status == "active"]
    assert 'data-status="nullified"' not in page
    assert f'data-total="{len(ids)}"' in page


def test_missing_mathjax_is_a_usage_error(tmp_path: Path, figures_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RUNNER_DIR_ENV, str(tmp_path / "no-mathjax"))
    with pytest.raises(UsageError, match=r"npm ci --prefix .*no-mathjax"):
        write_preview(CARDS_DIR, tmp_path / "out", figures_dir=figures_dir)
    assert not (tmp_path / "out").exists()


# --- in the browser --------------------------------------------------------------------------------


def _chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        *HEADLESS_FLAGS,
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--virtual-time-budget=15000",
        *extra,
        url,
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_browser_typesets_every_formula_and_loads_figures(preview: Path, page: str, tmp_path: Path) -> None:
    dumped = _chromium(tmp_path, preview.as_uri(), "--dump-dom").stdout
    dom = _parse(dumped)
    assert dom.body.get("data-mathjax") == "typeset", dom.body
    assert int(dom.body.get("data-mathjax-fonts-loaded") or 0) >= 1, dom.body
    assert dom.body.get("data-mathjax-fonts-failed") == "0", dom.body

    formulas = len(_RAW_DELIMITER.findall(_without_scripts(page)))
    report = check(CARDS_DIR, math_check=False)
    assert formulas >= sum(len(r.formulas) for r in report.decks[0].rendered.values()) > 100
    assert dom.tags.get("mjx-container", 0) >= formulas
    leftover = [t for t in dom.loose_text if _RAW_DELIMITER.search(t) or "\\)" in t or "\\]" in t]
    assert not leftover, leftover[:5]
    assert dom.tags.get("mjx-merror", 0) == 0 and dom.error_attributes == 0
    assert dom.red_math == 0, "an undefined macro (noundefined renders it in red)"

    figures = [img for img in dom.images if "figure" in (img.get("class") or "")]
    assert figures and all(img.get("data-loaded") == "true" for img in figures), figures


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_browser_screenshot(preview: Path, tmp_path: Path) -> None:
    shot = tmp_path / "preview.png"
    _chromium(tmp_path, preview.as_uri() + "#night", "--window-size=1400,1800", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_browser_topic_filter_and_night_mode(preview: Path, deck: Deck, tmp_path: Path) -> None:
    # The page reads its state from the URL hash, as the <select> and the toggle write it.
    dumped = _chromium(tmp_path, preview.as_uri() + "#topic=kernels-svm&night", "--dump-dom").stdout
    articles = re.findall(r'<article class="preview-card"[^>]*data-card-id="([^"]+)"([^>]*)>', dumped)
    shown = [card_id for card_id, rest in articles if " hidden" not in rest]
    assert shown == [card.id for card in deck.cards if "kernels-svm" in card.topics]
    assert re.search(r'<span id="shown-count">' + str(len(shown)) + "</span>", dumped)
    body_class = _parse(dumped).body.get("class") or ""
    assert {"nightMode", "night_mode"} <= set(body_class.split())


# --- phone view and the overflow report ----------------------------------------------------------


def test_phone_view_has_every_side_light_and_night(tmp_path: Path, basic_deck: Path, figures_dir: Path) -> None:
    out = tmp_path / "out"
    write_preview(basic_deck, out, figures_dir=figures_dir)
    (deck,) = load_decks(basic_deck)
    phone = (out / "phone.html").read_text()
    for card in deck.cards:
        for side in ("front", "back"):
            page = out / "sides" / deck.key / f"{card.id}-{side}.html"
            assert page.is_file()
            text = page.read_text()
            assert '<body class="card card1">' in text and 'src="mathjax/tex-chtml-full.js"' in text
            assert '<base href="../../">' in text
            assert f'src="sides/{deck.key}/{card.id}-{side}.html"' in phone
            assert f'src="sides/{deck.key}/{card.id}-{side}.html?night"' in phone


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_report_says_what_overflows(tmp_path: Path, basic_deck: Path, figures_dir: Path) -> None:
    from click.testing import CliRunner

    from examdeck.cli import main

    cards = basic_deck / "basic" / "cards.yaml"
    wide = " + ".join(f"x_{{{i}}}^{{2}}" for i in range(30))
    cards.write_text(cards.read_text().replace("The trace is the sum of the eigenvalues, counted with multiplicity.",
                                               f"|\n      The trace: $${wide}$$"))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["preview", str(basic_deck), "--out", str(out), "--figures-dir", str(figures_dir),
                                       "--report"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["views"] == ["phone 360px light", "phone 360px night", "desktop 1280px light", "desktop 1280px night"]
    trace = [f for f in report["findings"] if f["card_id"] == "trace" and f["kind"] == "formula"]
    assert {f["view"] for f in trace} == {"phone 360px light", "phone 360px night", "desktop 1280px light",
                                         "desktop 1280px night"}
    assert all(f["side"] == "back" and "x_{0}^{2} + x_{1}^{2}" in f["message"] for f in trace)
    assert "basic/trace back [phone 360px light] formula: display formula" in result.output
    assert not [f for f in report["findings"] if f["kind"] == "contrast"]
