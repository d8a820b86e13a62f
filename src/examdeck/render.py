"""Markdown + LaTeX source text to the HTML Anki shows, with math in MathJax delimiters.

Formulas are lifted out of the text before Markdown reads it (see ``mathspans``) and leave as
`\\(...\\)` / `\\[...\\]` (HTML-escaped, which MathJax reads back as the same TeX). Raw HTML
is escaped. Images are generated figures (`figure:NAME`) or files of the deck folder.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

# markdown-it's escapeHtml, without importing markdown-it: a build whose cards come from the
# cache, or fit the fast path, never imports it.
from .fastmd import escape_html as escapeHtml
from .fastmd import render_simple
from .figures import FIGURES
from .figures import VARIANTS as FIGURE_VARIANTS
from .figures import alt_text as figure_alt_text
from .figures import caption as figure_caption
from .mathspans import PLACEHOLDER, Lifted, decode, lift_math, restore_math
from .model import Card, TextField, choice_name

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

FIGURE_SCHEME = "figure:"
# A user's image in rendered HTML, until assembling names its media file: `src="examdeck-image:<path>"`.
IMAGE_SCHEME = "examdeck-image:"
_SINGLE_PARAGRAPH = re.compile(r"^<p>(.*)</p>\n?$", re.DOTALL)
_FIGURE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# Markdown that did not become a link or image: `![alt](address)` or `[text](address)` left as text.
_LEFT_LINK = re.compile(r"!?\[[^\]\n]*\]\(")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


class FormulaRef(NamedTuple):
    """A formula as written, and where: for the math check's `path:line: field:` messages.

    A named tuple: a 10,000-card deck has 60,000 of these, made by every render and every read
    of the cache and sent back by the second render process; no record is cheaper to make."""

    tex: str
    display: bool
    line: int
    field: str


class ImageRef(NamedTuple):
    """An image of the deck folder that a text shows: its path relative to the deck folder (as
    written, `/`-separated), and where it is written."""

    path: str
    line: int
    field: str


@dataclass(frozen=True, slots=True)
class TextProblem:
    line: int
    field: str
    message: str

    def __reduce__(self) -> tuple[Any, ...]:
        # Rendered cards come back pickled from the second render process: a constructor call
        # is three times faster than the state protocol of a frozen dataclass with slots.
        return TextProblem, (self.line, self.field, self.message)


@dataclass(frozen=True)
class RenderedText:
    html: str
    formulas: tuple[FormulaRef, ...]
    figures: tuple[str, ...]
    problems: tuple[TextProblem, ...]
    images: tuple[ImageRef, ...] = ()


def render_text(field: TextField, *, inline: bool = False) -> RenderedText:
    """Render one Markdown field; `inline` drops the paragraph around single-paragraph text.

    Formulas are lifted out before Markdown reads the text (``mathspans``): no Markdown rule
    reaches TeX, and both renderers (the fast path and markdown-it) agree on them."""
    lifted = lift_math(field.text)
    problems = [TextProblem(field.line + line, field.name, message) for line, message in lifted.problems]
    figures: list[str] = []
    images: list[ImageRef] = []
    html = render_simple(lifted.masked)
    if html is None:
        env: dict = {"figures": figures, "problems": problems, "images": images, "field": field, "lifted": lifted}
        html = _markdown().render(lifted.masked, env)
    html, fate = restore_math(html, lifted.spans)
    formulas = []
    for span, typeset in zip(lifted.spans, fate):
        line = field.line + span.line
        if typeset:
            formulas.append(FormulaRef(span.tex, span.display, line, field.name))
            if _CONTROL.search(span.tex):
                problems.append(TextProblem(line, field.name, f"formula {_short(span.source)} holds a control character"))
        elif typeset is None:
            problems.append(TextProblem(
                line, field.name, f"formula {_short(span.source)} sits where Markdown shows no text (a link address?): move it"
            ))
    if inline:
        single = _SINGLE_PARAGRAPH.match(html)
        if single and "<p>" not in single.group(1):
            html = single.group(1)
    return RenderedText(html.strip(), tuple(formulas), tuple(figures), tuple(problems), tuple(images))


def _short(source: str, size: int = 40) -> str:
    source = source.replace("\n", " ")
    return source if len(source) <= size else source[: size - 1] + "…"


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    # A display formula alone on its lines (its placeholder, see mathspans) that starts a block is
    # a block; one that follows text lines without a blank line is typeset in that paragraph.
    md.block.ruler.before("fence", "examdeck_math_block", _math_block)
    md.add_render_rule("examdeck_math_block", _render_math_block)
    md.add_render_rule("image", _render_image)
    # Before text_join, escaped characters are still separate tokens: `\![a](b)` is not an image left as text.
    md.core.ruler.before("text_join", "examdeck_inspect", _inspect_tokens)
    return md


_BLOCK_LINE = re.compile("[ \t]*\ue001[\ue010-\ue019]+\ue002[ \t]*")


def _math_block(state: Any, start_line: int, end_line: int, silent: bool) -> bool:
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False  # an indented code block
    start = state.bMarks[start_line] + state.tShift[start_line]
    line = state.src[start : state.eMarks[start_line]]
    if not line.startswith("\ue001") or not _BLOCK_LINE.fullmatch(line):
        return False
    if silent:
        return True
    token = state.push("examdeck_math_block", "div", 0)
    token.block = True
    token.content = line.strip()
    token.map = [start_line, start_line + 1]
    state.line = start_line + 1
    return True


def _render_math_block(self, tokens: list[Token], idx: int, options, env) -> str:
    return f'<div class="math-display">{tokens[idx].content}</div>\n'


def _render_image(self, tokens: list[Token], idx: int, options, env) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    if src.startswith(FIGURE_SCHEME):
        if src[len(FIGURE_SCHEME):]:
            return figure_html(src[len(FIGURE_SCHEME):], alt, inline=True)
    else:
        src = IMAGE_SCHEME + image_path(src)
    return f'<img class="figure" src="{escapeHtml(src)}" alt="{escapeHtml(alt)}">'


def figure_src(name: str, variant: str) -> str:
    """The placeholder `src` of one variant of figure `name` in rendered HTML, until assemble (or
    preview) puts the media file's name there."""
    return f"{FIGURE_SCHEME}{name}/{variant}"


def figure_html(name: str, caption: str | None = None, *, inline: bool = False) -> str:
    """The images of figure `name`: one ``<img class="figure fig-LAYOUT fig-THEME">`` per variant
    (``figures.VARIANTS``), all referenced from the field so that Anki imports every one; the note
    type's CSS shows the one for the screen width and night mode.

    Alt text: `caption` (the author's, if any) or the registry's title, then its description. A
    figure redrawn from an exam's figure gets a visible caption saying so. `inline`: inside a
    paragraph (``span``), else a ``figure`` block. An unknown name (refused by the build) gets the
    author's caption only.
    """
    known = name in FIGURES
    if known:
        spec = FIGURES[name]
        alt = f"{caption.strip().rstrip('.')}. {spec.description}" if caption and caption.strip() else figure_alt_text(name)
    else:
        alt = caption or ""
    images = "".join(
        f'<img class="figure fig-{variant.split("-")[0]} fig-{variant.split("-")[1]}" '
        f'src="{escapeHtml(figure_src(name, variant))}" alt="{escapeHtml(alt)}">'
        for variant in FIGURE_VARIANTS
    )
    note = figure_caption(name) if known else None
    if inline:
        shown = f'<span class="figure-caption">{escapeHtml(note)}</span>' if note else ""
        return f'<span class="figure-set">{images}{shown}</span>'
    shown = f"<figcaption>{escapeHtml(note)}</figcaption>" if note else ""
    return f'<figure class="figure-set">{images}{shown}</figure>'


def image_path(src: str) -> str:
    """An image address as markdown-it gives it (percent-encoded) to the path written: `/`-separated."""
    from urllib.parse import unquote

    return unquote(src).replace("\\", "/")


def _inspect_tokens(state: StateCore) -> None:
    """Collect figure and image references, and text problems, each with its source line."""
    env = state.env
    field: TextField = env["field"]
    lifted: Lifted = env["lifted"]
    header_cells = 0
    for token in state.tokens:
        line = field.line + lifted.source_line(token.map[0] if token.map else 0)
        if token.type == "inline":
            _inspect_inline(token.children or [], line, env)
        elif token.type == "thead_open":
            header_cells = 0
        elif token.type == "th_open":
            header_cells += 1
        elif token.type == "tr_open" and token.map and header_cells:
            row = state.src.split("\n")[token.map[0]]
            cells = _table_cells(row)
            if cells > header_cells:
                env["problems"].append(TextProblem(
                    line, field.name,
                    f"this table row has {cells} cells but the header has {header_cells}: a | inside a cell (outside "
                    "a formula) must be written \\|",
                ))


def _table_cells(row: str) -> int:
    """The cells of a table row: its `|` that are not escaped (formulas are placeholders here)."""
    row = re.sub(r"\\.", "", row).strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|"):
        row = row[:-1]
    row = re.sub(r"`[^`]*`", "", row)
    return row.count("|") + 1


def _inspect_inline(children: list[Token], line: int, env: dict) -> None:
    field: TextField = env["field"]
    text: list[str] = []  # the text of the line so far, to find Markdown left as text
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            _left_as_text("".join(text), line, env)
            text = []
            line += 1
        elif child.type == "text":
            text.append(child.content)
            if "<img" in child.content.lower():
                env["problems"].append(TextProblem(
                    line, field.name, "an HTML <img> tag is shown as text (HTML is not interpreted): write ![what it shows](images/NAME.png)",
                ))
            if "\ue000" in child.content or "\ue001" in child.content:  # formulas: their lines count
                spans = env["lifted"].spans
                line += sum(spans[decode(m.group(1))].source.count("\n") for m in PLACEHOLDER.finditer(child.content))
        elif child.type == "image":
            text.append("\0")
            src = str(child.attrGet("src") or "")
            if src.startswith(FIGURE_SCHEME):
                name = image_path(src[len(FIGURE_SCHEME):])
                if _FIGURE_NAME.match(name):
                    env["figures"].append(name)
                else:
                    env["problems"].append(TextProblem(
                        line, field.name,
                        f"{name!r} is not a figure name (lowercase letters, digits and dashes; `examdeck figures` lists them)",
                    ))
            else:
                path = image_path(src)
                if not path or _URL_SCHEME.match(path) or path.startswith(("/", "//")):
                    env["problems"].append(TextProblem(
                        line, field.name,
                        f"image {path!r} is not a file of the deck folder: copy it there (e.g. images/) and write "
                        "![what it shows](images/NAME.png)",
                    ))
                else:
                    env["images"].append(ImageRef(path, line, field.name))
            _inspect_inline(child.children or [], line, env)
        else:
            text.append("\0")
            if child.type.endswith("_open") or child.children:
                _inspect_inline(child.children or [], line, env)
    _left_as_text("".join(text), line, env)


def _left_as_text(text: str, line: int, env: dict) -> None:
    match = _LEFT_LINK.search(text)
    if match is None:
        return
    kind = "image" if match.group().startswith("!") else "link"
    end = text.find(")", match.end())
    shown = text[match.start() : end + 1 if end >= 0 else match.start() + 40].replace("\0", "")
    env["problems"].append(TextProblem(
        line, env["field"].name,
        f"{shown} is not a valid Markdown {kind}, so it would show as text: write the address in angle brackets "
        f"(![alt](<my file.png>)) or without spaces, and for an image use a file of the deck folder or figure:NAME",
    ))


@dataclass(frozen=True, slots=True)  # slots: one per card, 10,000 in a large deck
class RenderedCard:
    """A card's Anki fields as HTML (figures still as `figure:NAME/VARIANT` references, images of
    the deck folder as `examdeck-image:PATH`) and what was found."""

    card_id: str
    fields: dict[str, str]
    formulas: tuple[FormulaRef, ...]
    figures: tuple[str, ...]
    problems: tuple[TextProblem, ...]
    images: tuple[ImageRef, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return RenderedCard, (self.card_id, self.fields, self.formulas, self.figures, self.problems, self.images)  # as TextProblem's


def render_card(card: Card, deck_source: str) -> RenderedCard:
    """All of a card's fields, in the note type's field names."""
    question = render_text(card.question)
    parts = [question]
    fields = {"Id": escapeHtml(card.id), "Question": retirement_banner(card) + question.html}
    if card.type == "mcq":
        choices = [render_text(TextField(f"{choice_name(i)}.text", c.text, c.line), inline=True) for i, c in enumerate(card.choices)]
        parts += choices
        fields.update(choice_fields(card, [r.html for r in choices]))
    elif card.type == "truefalse":
        # A draft whose answer is unknown (never shipped) must not look answered, even in a preview.
        fields["Answer"] = "" if card.answer is None else "True" if card.answer else "False"
    elif isinstance(card.answer, TextField):
        answer = render_text(card.answer)
        parts.append(answer)
        fields["Answer"] = answer.html
    explanation = render_text(card.explanation) if card.explanation else None
    if explanation:
        parts.append(explanation)
    fields["Explanation"] = explanation.html if explanation else ""
    fields["Figure"] = figure_html(card.figure) if card.figure else ""
    fields["Source"] = escapeHtml(source_line(card, deck_source))
    figures = ((card.figure,) if card.figure else ()) + tuple(f for p in parts for f in p.figures)
    return RenderedCard(
        card_id=card.id,
        fields=fields,
        formulas=tuple(f for p in parts for f in p.formulas),
        figures=tuple(dict.fromkeys(figures)),
        problems=tuple(p for part in parts for p in part.problems),
        images=tuple(i for part in parts for i in part.images),
    )


def choice_fields(card: Card, choices_html: list[str]) -> dict[str, str]:
    """An mcq's Choices (shown on both sides, nothing in it tells which choice is correct), Correct
    (the 1-based source positions of the correct choices, e.g. "2" or "1 3": back only) and Answer
    (the correct choices with their source letter, in a span the back's script re-letters to the
    shuffled order).

    Choices: ``<ol class="mcq-choices" type="A" data-sig=...>`` with one ``<li data-n="N">`` per
    choice in source order; ``data-pin="last"`` on pinned choices, ``data-shuffle="false"`` on a
    card that keeps its order, ``data-multiple="true"`` and a "Select all that apply" hint on a
    multiple-answer card. ``data-sig`` (a hash of the choices) lets the back tell the front's saved
    order from another card's. The note type's script and CSS (``notetypes``) read these."""
    pinned = ' data-pin="last"'
    items = "".join(
        f'<li data-n="{n}"{pinned if c.pin_last else ""}>{html}</li>' for n, (c, html) in enumerate(zip(card.choices, choices_html), 1)
    )
    sig = hashlib.sha256("\x1f".join([card.id, *choices_html]).encode()).hexdigest()[:12]
    attributes = f' data-sig="{sig}"'
    attributes += "" if card.shuffle else ' data-shuffle="false"'
    attributes += ' data-multiple="true"' if card.multiple else ""
    hint = '<p class="mcq-hint">Select all that apply.</p>' if card.multiple else ""
    answer = "<br>".join(
        f'<span class="mcq-letter" data-n="{n}">{_letter(n)}</span>. {html}'
        for n, (c, html) in enumerate(zip(card.choices, choices_html), 1) if c.correct
    )
    return {
        "Choices": f'{hint}<ol class="mcq-choices" type="A"{attributes}>{items}</ol>',
        "Correct": " ".join(str(n) for n, c in enumerate(card.choices, 1) if c.correct),
        "Answer": answer,
    }


def _letter(n: int) -> str:
    """The letter of the n-th item (1-based) of an ``<ol type="A">``: A..Z, then AA, AB, ..."""
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def retirement_banner(card: Card) -> str:
    """Shown on a retired card that students already have: why, since when, and how to suspend them all."""
    if card.retirement is None:
        return ""
    return (
        f'<div class="retired-banner"><strong>Retired in {escapeHtml(card.retirement.version)}:</strong> '
        f"{escapeHtml(card.retirement.reason)} This card is no longer part of the deck. To suspend every "
        "retired card at once, search <code>tag:status::retired</code> in the browser, select all and "
        "choose Suspend.</div>"
    )


def source_line(card: Card, deck_source: str) -> str:
    """E.g. `EPFL CS-433 final exam, 18.01.2024 · Question 33 (a) · 1 point`."""
    pieces = [deck_source] if deck_source else []
    if card.source and card.source.question is not None:
        part = f" ({card.source.part})" if card.source.part else ""
        pieces.append(f"Question {card.source.question}{part}")
    if card.source and card.source.points is not None:
        points = f"{card.source.points:g}"
        pieces.append(f"{points} point{'' if points == '1' else 's'}")
    return " · ".join(pieces)
