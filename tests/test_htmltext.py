"""Text recovered from rendered HTML: what a diff shows for a package, which keeps no Markdown source."""

from __future__ import annotations

import re

import pytest

from conftest import REPO
from examdeck.htmltext import html_to_text
from examdeck.model import TextField
from examdeck.render import render_text


def recovered(markdown: str) -> str:
    return html_to_text(render_text(TextField("question", markdown, 1)).html)


@pytest.mark.parametrize(
    "markdown",
    [
        "If $p < q$ and $q \\le r$ then $p < r$ & more.",
        "Solve\n$$\\begin{aligned} x &= 1,\\\\ y &= 2 \\end{aligned}$$\nfor both.",
        "First paragraph,\nsame paragraph.\n\nSecond one with **bold** and *slanted* words and `code`.",
        "Steps:\n\n- pick $k$ centers\n- assign each point,\n  then average\n\n1. one\n2. two",
        "See ![the loss curves](figure:loss-curves).",
    ],
)
def test_sources_in_examdecks_spelling_come_back_as_written(markdown):
    assert recovered(markdown) == markdown.rstrip()


def test_choices_banner_and_code_blocks():
    html = ('<div class="retired-banner"><strong>Retired in r2:</strong> Ambiguous. This card is no longer part of the deck.</div>'
            '<p>Which?</p><ol type="A"><li class="choice">\\(a &gt; b\\)</li><li class="correct">neither</li></ol>'
            '<pre><code>x = 1\n</code></pre>')
    assert html_to_text(html) == "Which?\n\n- [ ] $a > b$\n- [x] neither\n\n```\nx = 1\n```"


def test_every_formula_of_the_shipped_deck_comes_back_as_written():
    from examdeck.pipeline import check

    (checked,) = check(REPO / "cards", math_check=False).decks
    fields = exact = 0
    for card in checked.deck.cards:
        rendered = checked.rendered[card.id]
        text = "\n".join(html_to_text(v) for k, v in rendered.fields.items() if k != "Id")
        written = re.findall(r"\$\$(.+?)\$\$|\$(.+?)\$", text, re.DOTALL)
        # A set: a multiple-choice card's Answer field repeats its correct choice. Spaces are compared
        # collapsed: a formula's continuation lines in a list item come back indented like the item.
        assert {" ".join((a or b).split()) for a, b in written} == {" ".join(f.tex.split()) for f in rendered.formulas if f.tex}, card.id
        for source in (card.question, card.answer, card.explanation):
            if isinstance(source, TextField):
                fields += 1
                exact += html_to_text(render_text(source).html) == source.text.rstrip()
    assert exact >= 0.95 * fields  # the rest: a list right after a paragraph comes back after a blank line
