"""The Markdown fast path gives exactly markdown-it's HTML and formulas, or steps aside."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examdeck.fastmd import render_simple
from examdeck.mathspans import lift_math
from examdeck.model import TextField
from examdeck.pipeline import load_decks
from examdeck.render import _markdown, render_text

REPO = Path(__file__).resolve().parent.parent
LOSSES = [r"\sum_{n=1}^N (y_n - x_n^\top w)^2", r"\frac{1}{2}\|Xw - y\|_2^2 + \lambda \|w\|_1"]


def reference(text: str, line: int = 1):
    """markdown-it's HTML of the text with its formulas lifted out, problems, figures and images."""
    field = TextField("f", text, line)
    lifted = lift_math(text)
    env: dict = {"figures": [], "problems": [], "images": [], "field": field, "lifted": lifted}
    html = _markdown().render(lifted.masked, env)
    return html, env["problems"], env["figures"], env["images"]


def assert_same(text: str, line: int = 1) -> bool:
    """The fast path agrees with markdown-it on the lifted text; True when it took the text."""
    fast = render_simple(lift_math(text).masked)
    if fast is None:
        return False
    html, problems, figures, images = reference(text, line)
    assert fast == html, text
    assert problems == [] and figures == [] and images == [], text
    return True


def corpus_like(i: int) -> tuple[str, str]:
    """Text shaped like the benchmark corpus (bold, inline and display math, a list, code)."""
    q = f"Card {i}: what is the **objective {i % 3}** for $w \\in \\mathbb{{R}}^{{{i % 50 + 1}}}$?"
    a = [f"The objective (variant {i}) is", "", f"$${LOSSES[i % 2]}$$", "",
         f"- it is **convex** in $w$ when $\\lambda_{{{i}}} \\ge 0$",
         f"- gradient step: $w \\leftarrow w - \\eta \\nabla_w L$, with $\\eta = 10^{{-{i % 4}}}$",
         "- see `numpy.linalg.lstsq`"]
    if i % 2:
        a += ["", "```python", f"w = np.linalg.solve(X.T @ X + {i} * np.eye(d), X.T @ y)", "```"]
    return q, "\n".join(a)


def test_corpus_shaped_text_takes_the_fast_path_and_matches():
    for i in range(40):
        for text in corpus_like(i):
            assert assert_same(text + "\n", line=7)


def test_every_shipped_text_field_matches_when_taken():
    texts = [f for deck in load_decks(REPO / "cards") for card in deck.cards for f in card.text_fields()]
    texts += [f for deck in load_decks(REPO / "tests" / "fixtures") for card in deck.cards for f in card.text_fields()]
    assert len(texts) > 100
    taken = sum(assert_same(f.text, f.line) for f in texts)
    assert taken > 0


@pytest.mark.parametrize("text", [
    "plain words",
    "a **b** c\nsecond line with $x_1$ and $$y$$ here",
    "**Bold** first\n\n- one $a$\n- two `c_d`\n\nafter",
    "- one\n\n- two",  # loose list
    "para\n- item",  # a list interrupting a paragraph
    "costs $5 and $10",
    "a $x$5 b",
    "escaped \\$ dollar",
    "under_score",
    "a *em* b",
    "[link](http://x)",
    "![f](figure:gelu-relu)",
    "<b>html</b> & entity",
    "# heading",
    "> quote",
    "1. first",
    "    indented",
    "trailing two  \nspaces",
    "tab\there",
    "$$\nx\n$$",
    "$$ x $$",
    "$$$$",
    "```\nunclosed",
    "```py\ncode\n````",
    "```py\na < b\n```\n\ntext",
    "a**b**c",
    "**a**b**c**",
    "**a****b**",
    "***a***",
    "`` a ``",
    "` a `",
    "x `y` z\n`w`",
    "$a$$b$",
    "$$a$$$b$",
    "$x\ny$ then $z$\nand $w$",
    "a \"quote\" > b",
    "line\n===",
    "line\n---",
    "a | b\n--|--\n1 | 2",
    "non\u00a0breaking",
    "é **ü** $x$",
    "\n\nstarts with blank lines\n\n\n",
    "- $$x$$",
    "- **a** b",
    "- `code`",
    "$x$ ends with a digit 2",  # dollarmath reads src[-1] as the character before position 0
    "\\$x$ and $y$",
    "text\n$$x$$\nmore",  # a display block interrupts a paragraph
    "- a\n$$x$$",
    "$$x$$ trailing",
    "> $$x$$",
    "| $a|b$ | c |\n|---|---|\n| $\\|w\\|$ | d |",
    "\\(x\\) and \\[y\\]",
    "\\[\nx\n\\]\ntext",
    "`$x$` and $y$",
])
def test_edge_cases_match_or_step_aside(text):
    assert_same(text)


# Pieces the fast path accepts, and pieces that send text to markdown-it.
FRIENDLY = ["a", "b c", " ", "9", "2", "$", "$x$", "$$", "\\", "\\$", "**", "**bold**", "`", "`c`", "\n", "\n\n",
            "- ", "\n- ", "```py\n", "\n```\n", "\n$$y$$\n", ".", ",", ")", '"', ">", "\u00e9", "{", "}",
            "\\(", "\\)", "\\[", "\\]", "\n\\[z\\]\n", "$|w|$"]
HOSTILE = list("_-#>()[]!<&|:~^*") + ["x_1", "\u00a0", "$5", "    ", "\t"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(FRIENDLY), max_size=30).map("".join), st.integers(min_value=1, max_value=50))
def test_fuzzed_text_matches_or_steps_aside(text, line):
    assert_same(text, line)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(FRIENDLY + HOSTILE), max_size=30).map("".join))
def test_fuzzed_hostile_text_matches_or_steps_aside(text):
    assert_same(text)


def test_render_text_is_unchanged_by_the_fast_path():
    for text in corpus_like(3):
        field = TextField("answer", text, 4)
        fast = render_text(field)
        assert "\\(" in fast.html and fast.formulas
        html, _, _, _ = reference(text, 4)
        from examdeck.mathspans import restore_math

        assert fast.html == restore_math(html, lift_math(text).spans)[0].strip()


def test_odd_whitespace_is_every_isspace_character_but_space_and_newline():
    from examdeck.fastmd import _ODD_ASCII, _ODD_SPACE

    odd = {chr(c) for c in range(0x110000) if chr(c).isspace() and c not in (0x20, 0x0A)} | {"\0"}
    assert {c for c in odd if _ODD_SPACE.match(c)} == odd
    assert set(_ODD_ASCII) == {c for c in odd if c.isascii()}
    for c in odd:
        assert render_simple(f"a{c}b") is None
