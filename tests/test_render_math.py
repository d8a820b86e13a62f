"""Formulas reach the card exactly as written (no Markdown rule touches TeX), with Pandoc's `$` rules;
what looks like a broken formula is refused with its cause. Checked on what the official anki library
renders for a built package, and on render_text for the many small cases."""

from __future__ import annotations

import html
import re
import textwrap
from pathlib import Path

import pytest

from conftest import import_package
from examdeck.errors import InvalidSources
from examdeck.model import TextField
from examdeck.pipeline import BuildOptions, build
from examdeck.render import render_text

DECK_YAML = "key: probe\ntitle: Probe\ntopics:\n  - {slug: t, title: Topic}\n"


def write_cards(root: Path, cards_yaml: str) -> Path:
    deck = root / "cards" / "probe"
    deck.mkdir(parents=True, exist_ok=True)
    (deck / "deck.yaml").write_text(DECK_YAML)
    (deck / "cards.yaml").write_text(textwrap.dedent(cards_yaml).lstrip("\n"))
    return root / "cards"


def built_sides(root: Path, collection, cards_yaml: str, *, math_check: bool = False) -> dict[str, str]:
    """Build the cards, import the package into a student's collection, and return each note's
    back as Anki renders it (it holds the front too), keyed by the card's id (the note's Id field)."""
    cards_dir = write_cards(root, cards_yaml)
    built, _ = build(cards_dir, BuildOptions(out_dir=root / "build", figures_dir=root / "figures", math_check=math_check))
    import_package(collection, built[0].path)
    sides = {}
    for card_id in collection.find_cards(""):
        card = collection.get_card(card_id)
        output = card.render_output(reload=True)
        sides[card.note()["Id"]] = output.answer_text
    return sides


def formulas_in(page: str) -> list[str]:
    """The TeX MathJax reads from a rendered card: the text between its delimiters, unescaped."""
    return [html.unescape(m.group(1) or m.group(2)) for m in re.finditer(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", page, re.DOTALL)]


def test_a_norm_in_a_table_cell_keeps_its_double_bars(tmp_path, collection):
    sides = built_sides(tmp_path, collection, r"""
        cards:
          - id: norms
            type: open
            topics: [t]
            question: |
              Which regulariser is which?

              | method | term added to the loss |
              |---|---|
              | lasso | $\mu \|\theta\|_1$ |
              | ridge | $\mu \|\theta\|_2^2$ |
              | abs | $|x| \cdot 2$ |
            answer: |
              Written outside a table: $\mu \|\theta\|_1$.
        """, math_check=True)
    page = sides["norms"]
    assert "<table>" in page
    assert formulas_in(page) == [r"\mu \|\theta\|_1", r"\mu \|\theta\|_2^2", r"|x| \cdot 2", r"\mu \|\theta\|_1"]


def test_dollar_rules_keep_money_as_text_and_formulas_as_formulas(tmp_path, collection):
    sides = built_sides(tmp_path, collection, r"""
        cards:
          - id: leading
            type: open
            topics: [t]
            question: |
              $k$ has to be at least 3
            answer: |
              A ticket costs $4 and a pass costs $12; in cash, $ 4 or $ 12.
              Pay in $ or in €, never in $.
          - id: level
            type: mcq
            topics: [t]
            question: Which threshold?
            choices:
              - {text: '$\beta$ = 0.01', correct: true}
              - {text: '$\beta$ = 0.1', correct: false}
        """, math_check=True)
    assert formulas_in(sides["leading"]) == ["k"]
    assert "has to be at least 3" in sides["leading"]
    assert "A ticket costs $4 and a pass costs $12; in cash, $ 4 or $ 12." in sides["leading"]
    assert "Pay in $ or in €, never in $." in sides["leading"]
    assert formulas_in(sides["level"]) == [r"\beta", r"\beta", r"\beta"]  # both choices, and the answer letter's
    assert "= 0.01" in sides["level"]


def test_anki_delimiters_are_math(tmp_path, collection):
    sides = built_sides(tmp_path, collection, r"""
        cards:
          - id: anki
            type: open
            topics: [t]
            question: |
              Reduce \(\frac{p}{q} \cdot \frac{q}{r}\) to one fraction.
            answer: |
              \[\frac{p}{r}\]
        """, math_check=True)
    page = sides["anki"]
    assert formulas_in(page) == [r"\frac{p}{q} \cdot \frac{q}{r}", r"\frac{p}{r}"]
    assert '<div class="math-display">' in page


def test_expectation_brackets_are_accepted_and_escaped(tmp_path, collection):
    sides = built_sides(tmp_path, collection, r"""
        cards:
          - id: bracket
            type: open
            topics: [t]
            question: |
              What is $<Y>$ for a fair die?
            answer: "3.5"
        """, math_check=True)
    assert r"\(&lt;Y&gt;\)" in sides["bracket"]
    assert formulas_in(sides["bracket"]) == ["<Y>"]


def test_wrapped_formula_lines_starting_with_markdown_markers_stay_in_the_formula(tmp_path, collection):
    sides = built_sides(tmp_path, collection, r"""
        cards:
          - id: wrapped
            type: open
            topics: [t]
            question: |
              The loss is $a
              + b$ and the bound is $c
              > d$ with $e
              = f$.
            answer: ok
        """, math_check=True)
    page = sides["wrapped"]
    assert formulas_in(page) == ["a\n+ b", "c\n> d", "e\n= f"]
    assert "<ul>" not in page and "<blockquote>" not in page and "<h1>" not in page


def test_markdown_rules_never_reach_tex(tmp_path, collection):
    tex = [r"a_1 * b_2 * c_3", r"\{x\} \\ y", r"a &lt; b", r"[x](y)", r"*not emphasis*", r"`x`"]
    question = " and ".join(f"${t}$" for t in tex)
    sides = built_sides(tmp_path, collection, f"""
        cards:
          - id: raw
            type: open
            topics: [t]
            question: '{question}'
            answer: ok
        """)
    assert formulas_in(sides["raw"]) == tex


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("The sum $u + v never ends", "$u + v never ends opens a formula that is not closed"),
        ("Then $u $ is small", "the closing $ of $u $ follows a space"),
        ("Take $u$2 apples", "the closing $ of $u$ is followed by a digit, which makes it money"),
        ("Spaces: $ u^2 + v^2 $ here", "is not a formula: an opening $ must be followed by a non-space"),
        ("$$u + v\n\nNext paragraph", "$$ opens a display formula that is not closed before the end of the paragraph"),
        ("See \\(u + v for details", "\\( opens a formula (Anki's delimiter) that is not closed"),
        ("| a | b |\n|---|---|\n| x | y | z |", "this table row has 3 cells but the header has 2"),
        ("Look at ![a plot](figure:two words)", "'two words' is not a figure name"),
        ("Read [the notes](my notes.pdf)", "is not a valid Markdown link"),
        ("Hot-link ![remote](https://example.org/a.png)", "is not a file of the deck folder"),
        ("Doubled \\\\(u\\\\) backslashes", "\\\\( shows as \\(, which Anki reads as the start of a formula"),
        ('Raw <img src="u.png"> tag', "an HTML <img> tag is shown as text"),
        ("Icon \ue000 and $u$", "private-use character"),
        ("Icon \ue001 alone", "private-use character"),
    ],
)
def test_suspicious_text_is_refused_with_its_cause(text, cause):
    problems = render_text(TextField("question", text, 5)).problems
    assert [p.message for p in problems if cause in p.message], problems


@pytest.mark.parametrize(
    "text",
    [
        "A lone $ sign", "It costs $3.", "Costs $3 to $5.", "5$ and 6$", "US$", "Escaped \\$u$ dollar",
        "`$u` in code", "Pay in $ or in €, not in $.", "$n$ must be at least 2", "$$\n$$",
    ],
)
def test_plain_dollars_are_text_without_problems(text):
    assert render_text(TextField("question", text, 1)).problems == ()


def test_formula_lines_are_where_they_open():
    text = "First $a$\n\n| h | i |\n|---|---|\n| $b$ | c |\n\nwrapped $c\n+ d$ then ![x](figure:bad name)"
    rendered = render_text(TextField("explanation", text, 10))
    assert [(f.tex, f.line) for f in rendered.formulas] == [("a", 10), ("b", 14), ("c\n+ d", 16)]
    assert [p.line for p in rendered.problems] == [17]


def test_a_formula_error_names_the_formula_on_the_line(tmp_path):
    write_cards(tmp_path, r"""
        cards:
          - id: two
            type: open
            topics: [t]
            question: |
              Both $\frac{1}{2}$ and $\frac{1}{2$ here.
            answer: ok
        """)
    with pytest.raises(InvalidSources) as caught:
        build(tmp_path / "cards", BuildOptions(out_dir=tmp_path / "build", figures_dir=tmp_path / "figures"))
    messages = [str(p) for p in caught.value.problems]
    assert any("cards.yaml:6: question: formula $\\frac{1}{2$: " in m for m in messages), messages
    assert not [m for m in messages if "$\\frac{1}{2}$" in m]
