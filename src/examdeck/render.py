"""Markdown + LaTeX source text to the HTML Anki shows, with math in MathJax delimiters.

Formulas pass through untouched by Markdown and leave as `\\(...\\)` / `\\[...\\]` (HTML-escaped,
which MathJax reads back as the same TeX); `$` never reaches a package. Raw HTML is escaped.
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
from .model import Card, TextField

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

FIGURE_SCHEME = "figure:"
_CURRENCY_DOLLAR = re.compile(r"\d\$|\$\d")
_SINGLE_PARAGRAPH = re.compile(r"^<p>(.*)</p>\n?$", re.DOTALL)


class FormulaRef(NamedTuple):
    """A formula as written, and where: for the math check's `path:line: field:` messages.

    A named tuple: a 10,000-card deck has 60,000 of these, made by every render and every read
    of the cache and sent back by the second render process; no record is cheaper to make."""

    tex: str
    display: bool
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


def render_text(field: TextField, *, inline: bool = False) -> RenderedText:
    """Render one Markdown field; `inline` drops the paragraph around single-paragraph text."""
    simple = render_simple(field.text, field.line)
    if simple is not None:
        html, found = simple
        env: dict = {"formulas": [FormulaRef(tex, display, line, field.name) for tex, display, line in found],
                     "figures": [], "problems": []}
    else:
        env = {"formulas": [], "figures": [], "problems": [], "field": field}
        html = _markdown().render(field.text, env)
    if inline:
        single = _SINGLE_PARAGRAPH.match(html)
        if single and "<p>" not in single.group(1):
            html = single.group(1)
    return RenderedText(html.strip(), tuple(env["formulas"]), tuple(env["figures"]), tuple(env["problems"]))


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    dollarmath_plugin(md, allow_digits=False, double_inline=True, allow_labels=False)
    md.add_render_rule("math_inline", _render_inline_math)
    md.add_render_rule("math_inline_double", _render_display_math_inline)
    md.add_render_rule("math_block", _render_display_math_block)
    md.add_render_rule("image", _render_image)
    # Before text_join, escaped characters are still separate tokens: `\$` is not a stray dollar.
    md.core.ruler.before("text_join", "examdeck_inspect", _inspect_tokens)
    return md


def _render_inline_math(self, tokens: list[Token], idx: int, options, env) -> str:
    return f"\\({escapeHtml(tokens[idx].content)}\\)"


def _render_display_math_inline(self, tokens: list[Token], idx: int, options, env) -> str:
    return f"\\[{escapeHtml(tokens[idx].content)}\\]"


def _render_display_math_block(self, tokens: list[Token], idx: int, options, env) -> str:
    return f'<div class="math-display">\\[{escapeHtml(tokens[idx].content.strip())}\\]</div>\n'


def _render_image(self, tokens: list[Token], idx: int, options, env) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    if src.startswith(FIGURE_SCHEME) and src[len(FIGURE_SCHEME):]:
        return figure_html(src[len(FIGURE_SCHEME):], alt, inline=True)
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


def _inspect_tokens(state: StateCore) -> None:
    """Collect formulas, figure references and text problems, each with its source line."""
    env = state.env
    field: TextField = env["field"]
    for token in state.tokens:
        line = field.line + (token.map[0] if token.map else 0)
        if token.type == "math_block":
            env["formulas"].append(FormulaRef(token.content.strip(), True, line, field.name))
        elif token.type == "inline":
            _inspect_inline(token.children or [], line, env)


def _inspect_inline(children: list[Token], line: int, env: dict) -> None:
    field: TextField = env["field"]
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type in ("math_inline", "math_inline_double"):
            env["formulas"].append(FormulaRef(child.content, child.type == "math_inline_double", line, field.name))
        elif child.type == "text" and "$" in child.content and _has_stray_dollar(child.content):
            env["problems"].append(
                TextProblem(line, field.name, "unbalanced $: close the formula, or write \\$ for a dollar sign")
            )
        elif child.type == "image":
            src = str(child.attrGet("src") or "")
            if src.startswith(FIGURE_SCHEME) and src[len(FIGURE_SCHEME):]:
                env["figures"].append(src[len(FIGURE_SCHEME):])
            else:
                env["problems"].append(
                    TextProblem(line, field.name, f"image {src!r} is not a generated figure: write ![caption](figure:NAME)")
                )
            _inspect_inline(child.children or [], line, env)
        elif child.type.endswith("_open") or child.children:
            _inspect_inline(child.children or [], line, env)


def _has_stray_dollar(text: str) -> bool:
    """A `$` left in text is a broken formula, unless it is a price like `$5` or `5$`."""
    without_prices = _CURRENCY_DOLLAR.sub("", text)
    return "$" in without_prices


@dataclass(frozen=True, slots=True)  # slots: one per card, 10,000 in a large deck
class RenderedCard:
    """A card's Anki fields as HTML (figures still as `figure:NAME/VARIANT` references) and what was found."""

    card_id: str
    fields: dict[str, str]
    formulas: tuple[FormulaRef, ...]
    figures: tuple[str, ...]
    problems: tuple[TextProblem, ...]

    def __reduce__(self) -> tuple[Any, ...]:
        return RenderedCard, (self.card_id, self.fields, self.formulas, self.figures, self.problems)  # as TextProblem's


def render_card(card: Card, deck_source: str) -> RenderedCard:
    """All of a card's fields, in the note type's field names."""
    question = render_text(card.question)
    parts = [question]
    fields = {"Id": escapeHtml(card.id), "Question": retirement_banner(card) + question.html}
    if card.type == "mcq":
        choices = [render_text(TextField(f"choices[{i}].text", c.text, c.line), inline=True) for i, c in enumerate(card.choices)]
        parts += choices
        fields.update(choice_fields(card, [r.html for r in choices]))
    elif card.type == "truefalse":
        fields["Answer"] = "True" if card.answer else "False"
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
