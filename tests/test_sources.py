"""Parsing card files: the one-walk construction gives exactly what PyYAML's constructor gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from examdeck import sources
from examdeck.errors import Problem

REPO = Path(__file__).resolve().parent.parent


def strict(value, inside: frozenset[int] = frozenset()):
    """`value` with every node's type spelled out: True, 1 and 1.0 are equal in Python, not here."""
    if id(value) in inside:
        return ("cycle",)  # a recursive alias
    if isinstance(value, dict):
        return ("dict", [(strict(k), strict(v, inside | {id(value)})) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [strict(v, inside | {id(value)}) for v in value])
    return (type(value).__name__, repr(value))


def parse_both(text: str, monkeypatch) -> tuple:
    """(parse_text with the one-walk construction, parse_text with PyYAML's constructor only)."""
    results = []
    for simple in (True, False):
        with monkeypatch.context() as patch:
            if not simple:
                patch.setattr(sources, "_construct_simple", lambda *args: None)
            problems: list[Problem] = []
            try:
                parsed = sources.parse_text(text, "cards/x.yaml", problems)
            except Exception as exc:  # noqa: BLE001 - an error must be the same error
                results.append(("raised", type(exc).__name__, str(exc)))
                continue
            if parsed is None:
                results.append((None, problems))
            else:
                results.append((strict(parsed.data), parsed.lines, parsed.text_offsets, parsed.written, parsed.comments, problems))
    return tuple(results)


DOCUMENTS = [
    "",
    "hello",
    "- a\n- 1\n- 1.5\n- true\n- null\n- ~\n- yes\n- 0x1F\n- 1_000\n- 1:30\n- .inf\n- -.NaN\n- '1'\n- \"true\"\n",
    "cards:\n  - id: a\n    question: |\n      text $x$\n      more\n    answer: >\n      folded\n      text\n",
    "a: 1\nb:\nc: ''\nd: [x, {e: f}]\n",
    "a: 1\na: 2\n",  # duplicate key: a problem
    "a:\n  b: 1\n  b: 2\nc: 3\n",
    "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n",  # merge key
    "a: &s text\nb: *s\n",  # alias of a scalar
    "cards:\n  - &a [*a]\n",  # recursive alias
    "? [1, 2]\n: x\n",  # unhashable key
    "1: one\ntrue: yes\nnull: nothing\n",  # non-string keys
    "= : value\n",
    "date: 2024-01-18\nstamp: 2001-12-14t21:59:43.10-05:00\n",
    "data: !!binary aGVsbG8=\n",
    "s: !!set {a, b}\no: !!omap [{a: 1}]\np: !!pairs [{a: 1}]\n",
    "x: !!str 5\ny: !!int '7'\nz: !!float '2'\nw: !!bool 'on'\n",
    "x: !!python/object/apply:os.system ['echo hacked']\n",
    "x: !!int abc\n",
    "x: {a: !!int abc}\ny: !custom z\n",  # two refusals: the first one reported must not change
    "x: !!map scalar\n",
    "x: !!str {a: b}\n",
    "x: !!seq scalar\n",
    "x: [a, b\n",
    "a: b: c\n",
    "\t- tab\n",
    "- " * 400 + "deep\n",
    "cards:\n  - id: x\n    question: 'a\n\n      b'\n    explanation: \"line \\\n      joined\"\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_one_walk_matches_pyyaml(text, monkeypatch):
    simple, full = parse_both(text, monkeypatch)
    assert simple == full


@pytest.mark.parametrize("path", sorted((REPO / "cards").rglob("*.yaml")) + sorted((REPO / "tests").rglob("*.yaml")),
                         ids=lambda p: str(p.relative_to(REPO)))
def test_one_walk_matches_pyyaml_on_the_repository(path, monkeypatch):
    simple, full = parse_both(path.read_text(encoding="utf-8", errors="replace"), monkeypatch)
    assert simple == full


yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=4), children, max_size=3)),
    max_leaves=12,
)
noise = st.text(alphabet=list(":-[]{}\n '\"&*!|>%@`<=#?,~\t0123456789abtrue"), max_size=6)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=yaml_values, style=st.sampled_from([None, False, True]), cut=st.integers(0, 400), insert=noise)
def test_one_walk_matches_pyyaml_on_generated_documents(value, style, cut, insert):
    text = yaml.safe_dump({"cards": value}, default_flow_style=style, allow_unicode=True)
    cut = min(cut, len(text))
    for variant in (text, text[:cut] + insert + text[cut:]):
        with pytest.MonkeyPatch.context() as monkeypatch:
            simple, full = parse_both(variant, monkeypatch)
        assert simple == full, variant


@pytest.mark.parametrize(("text", "simple"), [(DOCUMENTS[2], True), (DOCUMENTS[3], True), (DOCUMENTS[5], False),
                                              (DOCUMENTS[7], False), (DOCUMENTS[8], False), (DOCUMENTS[13], False)])
def test_card_files_take_the_one_walk_and_the_rest_pyyamls(text, simple):
    """Not vacuous: plain documents take the one walk; duplicates, merges, aliases and dates do not."""
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
        assert (sources._construct_simple(node, loader) is not None) is simple
    finally:
        loader.dispose()


def problems_of(text: str) -> list[str]:
    problems: list[Problem] = []
    sources.parse_text(text, "cards/x.yaml", problems)
    return [str(p) for p in problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('cards:\n  - id: a\n    question: "The angle $2\\tau$"\n',
         'cards/x.yaml:3: question: the backslash was read as a YAML escape: in double quotes "\\tau" became a tab followed by "au"'),
        ('cards:\n  - id: a\n    question: "Step size"\n    explanation: "first line\n      and $\\beta$"\n',
         'cards/x.yaml:5: explanation: the backslash was read as a YAML escape: in double quotes "\\beta" became a backspace'),
        ('cards:\n  - id: a\n    choices:\n      - {text: "$x$", correct: true}\n      - {text: "$\\nu$", correct: false}\n',
         'cards/x.yaml:5: choices[B].text: the backslash was read as a YAML escape: in double quotes "\\nu" became a line break'),
        ('cards:\n  - id: a\n    question: "$\\frac{1}{2}$"\n',
         'cards/x.yaml:3: question: the backslash was read as a YAML escape: in double quotes "\\frac" became a form feed'),
        ('title: "\\Lambda"\n',
         'cards/x.yaml:1: title: the backslash was read as a YAML escape: in double quotes "\\Lambda" became a line separator'),
    ],
)
def test_a_yaml_escape_that_makes_a_control_character_is_located_and_explained(text, expected):
    found = problems_of(text)
    assert any(m.startswith(expected) for m in found), found
    assert all("single quotes" in m and "block scalar" in m for m in found)


@pytest.mark.parametrize("escape", ["\\ ", "\\/"])
def test_an_escape_that_silently_drops_a_backslash_is_refused(escape):
    found = problems_of(f'cards:\n  - id: a\n    answer: "$a{escape}b$"\n')
    assert len(found) == 1 and found[0].startswith("cards/x.yaml:3: answer: the backslash was read as a YAML escape")


@pytest.mark.parametrize("libyaml", [True, False])
def test_numbers_are_kept_as_written_and_trailing_comments_noted(libyaml, monkeypatch):
    if not libyaml:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)  # PyYAML's own loader (its nodes differ in style)
    text = ("cards:\n  - id: a\n    choices:\n      - {text: 0.50, correct: true}\n      - {text: 010}\n"
            "    question: Items #1 and #2 # a comment\n    type: mcq  # fine: not text\n    answer: 'in quotes # kept'\n")
    parsed = sources.parse_text(text, "cards/x.yaml", [])
    assert parsed.written == {("cards", 0, "choices", 0, "text"): "0.50", ("cards", 0, "choices", 1, "text"): "010"}
    assert parsed.comments == {("cards", 0, "question"): "#1 and #2 # a comment", ("cards", 0, "type"): "# fine: not text"}


def test_intended_escapes_and_single_quotes_pass():
    assert problems_of('cards:\n  - {id: a, question: "$\\\\theta$ and \\"quoted\\""}\n') == []
    assert problems_of("cards:\n  - {id: a, question: '$\\theta$'}\n") == []
    assert problems_of("cards:\n  - id: a\n    question: |\n      $\\nabla\\theta$\n") == []


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("cards:\n  - id: a\n    question: first line\n    wrapped without a key\n    answer: b\n", 4,
         "is not 'key: value' and does not continue the text above"),
        ("cards:\n  - id: a\n    question: Why: because\n", 3, "': ' (a colon and a space) inside unquoted text"),
        ("cards:\n  - id: a\n    question: x\n   answer: b\n", 4, "not indented like the lines above"),
        ("cards:\n  - id: a\n\tquestion: x\n", 3, "a tab character: YAML indents with spaces only"),
        ('cards:\n  - id: a\n    question: "never closed\n    answer: b\n', 3, "never closed: add the closing quote"),
        ('cards:\n  - id: a\n    question: "$\\sum_i x_i$"\n', 3, "\\s is not one"),
        ('cards:\n  - id: a\n    question: "$\\xi$"\n', 3, "\\xi is not one"),
        ('cards:\n  - id: a\n    question: "Simplify \\(x\\)"\n', 3, "\\( is not one"),
        ("cards:\n  - id: a\n    topics: [a, b\n    answer: b\n", 3, "the [ ... ] opened on this line is not closed"),
        ("cards:\n  - id: a\n    question: *Why* this?\n", 3, "read as a YAML alias"),
        ("cards:\n  - id: a\n    question: `code` first\n", 3, "a value cannot start with `"),
    ],
)
def test_yaml_syntax_errors_in_plain_words_on_the_right_line(text, line, words):
    found = problems_of(text)
    assert len(found) == 1, found
    assert found[0].startswith(f"cards/x.yaml:{line}: invalid YAML: ") and words in found[0], found
    assert "while scanning" not in found[0] and "<block" not in found[0]
