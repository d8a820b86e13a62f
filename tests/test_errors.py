"""Bad input: every problem as `path:line: field: message`, all at once, exit 1, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from examdeck.cli import main

DECK = """\
key: bad
title: Bad deck
topics:
  - slug: losses
    title: Losses
"""

GOOD_CARD = """\
  - id: ok
    type: truefalse
    topics: [losses]
    question: Fine.
    answer: true
"""


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def run_check(tmp_path: Path, cards_yaml: str, deck_yaml: str = DECK):
    deck = tmp_path / "cards" / "bad"
    deck.mkdir(parents=True)
    (deck / "deck.yaml").write_text(deck_yaml)
    (deck / "cards.yaml").write_text(cards_yaml)
    result = CliRunner().invoke(main, ["check", "cards", "--no-math-check"])
    return result, str(Path("cards") / "bad" / "cards.yaml")


def lines_of(result) -> list[str]:
    return [line for line in result.output.splitlines() if ": " in line and "problem" not in line]


@pytest.mark.parametrize(
    ("cards_yaml", "line", "field", "message"),
    [
        ("cards:\n  - id: x\n    type: [unclosed\n", 3, "", "invalid YAML: the [ ... ] opened on this line is not closed"),
        ("cards:\n" + GOOD_CARD + "    colour: red\n", 7, "colour", "unknown key"),
        ("cards:\n  - id: x\n    type: open\n    topics: [losses]\n    answer: y\n", 2, "question", "missing required field"),
        ("cards:\n" + GOOD_CARD + GOOD_CARD, 7, "id", "duplicate id 'ok'"),
        (
            "cards:\n  - id: m\n    type: mcq\n    topics: [losses]\n    question: Q?\n    choices:\n"
            "      - {text: a, correct: false}\n      - {text: b, correct: false}\n",
            6, "choices", "exactly one choice must be correct (found 0)",
        ),
        (
            "cards:\n  - id: m\n    type: mcq\n    topics: [losses]\n    question: Q?\n    choices:\n"
            "      - {text: a, correct: true}\n      - {text: b, correct: true}\n",
            6, "choices", "exactly one choice must be correct (found 2)",
        ),
        ("cards:\n" + GOOD_CARD.replace("[losses]", "[losses, gmm]"), 4, "topics", "unknown topic 'gmm'"),
        ("cards:\n" + GOOD_CARD.replace("truefalse", "essay"), 3, "type", "unknown type 'essay'"),
        ("cards:\n" + GOOD_CARD.replace("Fine.", "|\n      Costs $x + y\n      more"), 6, "question", "$x + y opens a formula that is not closed"),
        ("cards:\n" + GOOD_CARD + "    figure: no-such-figure\n", 7, "figure", "unknown figure 'no-such-figure'"),
        ("cards:\n" + GOOD_CARD.replace("answer: true", "answer: maybe"), 6, "answer", "answer: true"),
        ("cards: {id: x}\n", 1, "cards", "must be a list"),
    ],
    ids=[
        "invalid-yaml", "unknown-key", "missing-field", "duplicate-id", "mcq-no-correct", "mcq-two-correct",
        "unknown-topic", "unknown-type", "unbalanced-dollar", "unknown-figure", "truefalse-answer", "cards-not-list",
    ],
)
def test_bad_input_is_reported_with_file_line_and_field(tmp_path, cards_yaml, line, field, message):
    result, path = run_check(tmp_path, cards_yaml)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    expected_prefix = f"{path}:{line}: {field + ': ' if field else ''}"
    matching = [m for m in lines_of(result) if m.startswith(expected_prefix) and message in m]
    assert matching, f"expected {expected_prefix}...{message} in:\n{result.output}"
    assert "nothing was written" in result.output


def test_all_problems_are_reported_at_once(tmp_path):
    cards_yaml = "cards:\n" + GOOD_CARD.replace("truefalse", "essay") + GOOD_CARD.replace("ok", "ok2").replace(
        "[losses]", "[nope]"
    )
    result, path = run_check(tmp_path, cards_yaml)
    assert result.exit_code == 1
    assert any(f"{path}:3: type:" in line for line in lines_of(result))
    assert any(f"{path}:9: topics:" in line for line in lines_of(result))
    assert "2 problems found" in result.output


def test_bad_deck_file_names_deck_yaml(tmp_path):
    result, _ = run_check(tmp_path, "cards:\n" + GOOD_CARD, deck_yaml="key: Bad Key!\ntitle: x\ntopics: []\n")
    assert result.exit_code == 1
    deck_path = str(Path("cards") / "bad" / "deck.yaml")
    assert f"{deck_path}:1: key:" in result.output
    assert f"{deck_path}:3: topics:" in result.output


def test_missing_cards_directory_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["check", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "cards directory not found" in result.output


def test_broken_formula_is_reported_by_check_and_blocks_build(tmp_path):
    cards_yaml = "cards:\n" + GOOD_CARD.replace("Fine.", "|\n      Let $\\argmax_x f(x)$ be\n      and $\\frac{a}{b$.")
    result, path = run_check(tmp_path, cards_yaml)
    assert result.exit_code == 0, "--no-math-check validates without typesetting"
    result = CliRunner().invoke(main, ["check", "cards"])
    assert result.exit_code == 1
    engine_message = "Undefined control sequence \\argmax" if "structurally" not in result.output else "brace"
    assert f"{path}:6: question: " in result.output and engine_message in result.output
    assert f"{path}:7: question: " in result.output

    previous = tmp_path / "build" / "bad.apkg"
    previous.parent.mkdir(exist_ok=True)  # check keeps its build cache in build/.cache
    previous.write_bytes(b"previous package")
    result = CliRunner().invoke(main, ["build", "cards", "--out", "build"])
    assert result.exit_code == 1
    assert previous.read_bytes() == b"previous package"
    assert [p for p in previous.parent.iterdir() if p.name != ".cache"] == [previous]


def test_formula_that_breaks_anki_is_flagged(tmp_path):
    cards_yaml = "cards:\n" + GOOD_CARD.replace("Fine.", "|\n      See $x \\label{eq:1}$ and $50% of <b>y</b>$.")
    run_check(tmp_path, cards_yaml)
    result = CliRunner().invoke(main, ["check", "cards"])
    assert result.exit_code == 1
    assert "\\label" in result.output and "%" in result.output and "HTML" in result.output


def test_a_key_indented_into_a_block_scalar_is_named_as_such(tmp_path):
    cards_yaml = (
        "cards:\n  - id: open1\n    type: open\n    topics: [losses]\n    question: |\n      Why is the loss convex?\n\n"
        "      answer: it is a sum of convex terms\n"
    )
    result, path = run_check(tmp_path, cards_yaml)
    assert result.exit_code == 1
    assert (f"{path}:8: answer: 'answer:' is indented into the block scalar of 'question' (the text under "
            "'question: |'), so YAML reads it as text: indent 'answer:' like 'question:'") in result.output


def test_choices_are_named_by_letter(tmp_path):
    cards_yaml = (
        "cards:\n  - id: m\n    type: mcq\n    topics: [losses]\n    question: Q?\n    choices:\n"
        "      - {text: a, correct: true}\n      - {text: b, correct: maybe}\n      - {text: 'costs $x + y', correct: false}\n"
    )
    result, path = run_check(tmp_path, cards_yaml)
    assert f"{path}:8: choices[B].correct: must be true or false" in result.output


def test_text_problems_of_a_choice_name_its_letter(tmp_path):
    cards_yaml = (
        "cards:\n  - id: m\n    type: mcq\n    topics: [losses]\n    question: Q?\n    choices:\n"
        "      - {text: a, correct: true}\n      - {text: 'costs $x + y', correct: false}\n"
    )
    result, path = run_check(tmp_path, cards_yaml)
    assert f"{path}:8: choices[B].text: $x + y opens a formula that is not closed" in result.output


def test_double_quoted_backslashes_are_refused_before_mathjax_sees_them(tmp_path):
    cards_yaml = "cards:\n" + GOOD_CARD.replace("Fine.", '"Is $\\\\frac{a}{b}$ a \\\\theta?"')
    deck = tmp_path / "cards" / "bad"
    deck.mkdir(parents=True)
    (deck / "deck.yaml").write_text(DECK)
    (deck / "cards.yaml").write_text(cards_yaml.replace("\\\\", "\\"))
    result = CliRunner().invoke(main, ["check", "cards"])  # with the math check: no MathJax error may show
    path = str(Path("cards") / "bad" / "cards.yaml")
    assert result.exit_code == 1
    assert f'{path}:5: question: the backslash was read as a YAML escape: in double quotes "\\frac" became a form feed' in result.output
    assert "MathJax" not in result.output and "internal error" not in result.output


def test_numbers_reach_the_card_as_written_and_a_comment_in_text_is_refused(tmp_path):
    from examdeck.pipeline import check

    cards = ("cards:\n  - id: n\n    type: mcq\n    topics: [losses]\n    question: 'Which one?'\n    choices:\n"
             "      - {text: 0.50, correct: true}\n      - {text: 010, correct: false}\n      - {text: 12:30, correct: false}\n")
    result, _ = run_check(tmp_path, cards)
    assert result.exit_code == 0, result.output
    (checked,) = check(Path("cards"), math_check=False).decks
    choices = checked.rendered["n"].fields["Choices"]
    assert ">0.50</li>" in choices and ">010</li>" in choices and ">12:30</li>" in choices
    (tmp_path / "cards" / "bad" / "cards.yaml").write_text("cards:\n" + GOOD_CARD.replace("question: Fine.", "question: Items #1 and #2 differ"))
    result = CliRunner().invoke(main, ["check", "cards", "--no-math-check"])
    assert result.exit_code == 1
    shown = str(Path("cards") / "bad" / "cards.yaml")
    assert lines_of(result) == [f"{shown}:5: question: YAML reads the end of this line, '#1 and #2 differ', as a comment and "
                                "drops it from the text: put the text in quotes or a block scalar (key: | and the text on the "
                                "next lines); a real comment goes on a line of its own"]


def test_unknown_keys_suggest_the_likely_cause(tmp_path):
    cards = ("cards:\n  - id: z\n    type: mcq\n    topics: [losses]\n    question: Which?\n    answr: x\n    choices:\n"
             "      - {text: $f(a, b)$, correct: true}\n      - {text: no, correct: false}\n")
    result, shown = run_check(tmp_path, cards)
    assert result.exit_code == 1
    found = lines_of(result)
    assert any(line.startswith(f"{shown}:6: answr: unknown key") and line.endswith("did you mean 'answer'?") for line in found)
    assert any(line.startswith(f"{shown}:8: choices[A].b)$: unknown key") and "put that text in quotes" in line for line in found)
    assert any(line.startswith(f"{shown}:9: choices[B].text: must be text (got true/false): YAML reads an unquoted yes/no")
               for line in found)
