"""Card validation of shuffled choices: `shuffle`, `pin: last`, and what must not point at a choice's place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from examdeck.cli import main
from examdeck.codec import decode_cards, encode_cards
from examdeck.model import Choice, TextField
from examdeck.pipeline import check
from examdeck.schema import shuffled_choice_problems

DECK = "key: shuffled\ntitle: Shuffled\ntopics:\n  - {slug: prob, title: Probability}\n"

HEAD = """\
cards:
  - id: dice
    type: mcq
    topics: [prob]
    question: What is the chance of rolling two sixes with two fair dice?
"""
CHOICES = """\
    choices:
      - {text: "$1/6$", correct: false}
      - {text: "$1/36$", correct: true}
      - {text: "$1/12$", correct: false}
"""


def run_check(tmp_path: Path, cards_yaml: str):
    deck = tmp_path / "cards" / "shuffled"
    deck.mkdir(parents=True)
    (deck / "deck.yaml").write_text(DECK)
    (deck / "cards.yaml").write_text(cards_yaml)
    result = CliRunner().invoke(main, ["check", str(tmp_path / "cards"), "--no-math-check"])
    problems = [line.split(": ", 2) for line in result.output.splitlines() if ".yaml:" in line]
    return result, [(int(where.rsplit(":", 1)[1]), field, message) for where, field, message in problems]


@pytest.mark.parametrize(
    ("explanation", "found"),
    [
        ("The independent events multiply, so option B.", "'option B'"),
        ("Hence (b): the product of the two chances.", "'(b)'"),
        ("The answer is C, since the two rolls are independent.", "'answer is C'"),
        ("Multiply the chances; see answer A for the sum instead.", "'answer A'"),
        ("Multiply the chances.\nThe second choice adds them instead.", "'second choice'"),
        ("Multiply the chances.\n(A) is wrong: it is one die.", "'(A) is wrong'"),
    ],
)
def test_an_explanation_naming_a_choice_by_its_place_is_refused_on_a_shuffled_card(tmp_path, explanation, found):
    text = "\n".join("      " + line for line in explanation.splitlines())
    result, problems = run_check(tmp_path, HEAD + CHOICES + f"    explanation: |\n{text}\n")
    assert result.exit_code == 1 and "Traceback" not in result.output
    ((line, field, message),) = problems
    assert field == "explanation" and message.startswith(found) and "shuffle: false" in message
    assert line == 11 + explanation.count("\n")  # the line of the reference, in the block scalar


@pytest.mark.parametrize(
    "explanation",
    [
        "Multiply the chances of the two independent rolls.",
        "With events $(a)$ and $(b)$ independent, $P(a \\cap b) = P(a) P(b)$.",  # formulas are not searched
        "Dataset (A) is the one with the outlier; to answer a question like this, multiply.",
        "The correct choice multiplies the chances; the others add them.",
    ],
)
def test_explanations_that_name_choices_by_content_pass(tmp_path, explanation):
    result, problems = run_check(tmp_path, HEAD + CHOICES + f"    explanation: '{explanation}'\n")
    assert result.exit_code == 0, result.output
    assert problems == []


def test_a_card_with_shuffle_false_may_name_letters(tmp_path):
    result, _ = run_check(tmp_path, HEAD + "    shuffle: false\n" + CHOICES + "    explanation: Option B, by independence.\n")
    assert result.exit_code == 0, result.output
    (card,) = check(tmp_path / "cards", math_check=False).decks[0].deck.cards
    assert card.shuffle is False


def test_none_of_the_above_must_be_pinned_last(tmp_path):
    cards = HEAD + CHOICES + "      - {text: None of the above., correct: false}\n"
    result, problems = run_check(tmp_path, cards)
    assert result.exit_code == 1
    assert problems == [(10, "choices[D].text", problems[0][2])] and "pin: last" in problems[0][2]

    pinned = HEAD + CHOICES + "      - {text: None of the above., correct: false, pin: last}\n"
    result, _ = run_check(tmp_path / "pinned", pinned)
    assert result.exit_code == 0, result.output
    (card,) = check(tmp_path / "pinned" / "cards", math_check=False).decks[0].deck.cards
    assert [c.pin_last for c in card.choices] == [False, False, False, True] and card.shuffle is True


@pytest.mark.parametrize(
    ("cards_yaml", "line", "field", "message"),
    [
        (HEAD + CHOICES.replace("correct: false}\n      - {text: \"$1/36$\"", "correct: false, pin: first}\n      - {text: \"$1/36$\"", 1),
         7, "choices[A].pin", "the only pin is 'pin: last'"),
        (HEAD + CHOICES.replace("correct: false}", "correct: false, pin: last}", 1), 8, "choices[B]",
         "comes after a choice pinned last: move the pinned choices to the end of the list"),
        (HEAD + "    shuffle: sometimes\n" + CHOICES, 6, "shuffle", "must be true or false"),
        ("cards:\n  - id: t\n    type: truefalse\n    topics: [prob]\n    question: Dice have memory.\n"
         "    answer: false\n    shuffle: false\n", 7, "shuffle", "only mcq cards have shuffle (this card is truefalse)"),
    ],
)
def test_bad_shuffle_and_pin_values_are_located(tmp_path, cards_yaml, line, field, message):
    result, problems = run_check(tmp_path, cards_yaml)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (line, field) == problems[0][:2] and problems[0][2].startswith(message), problems


def test_shuffle_and_pins_survive_the_build_cache_codec(tmp_path):
    cards_yaml = HEAD + "    shuffle: false\n" + CHOICES + "      - {text: None of these., correct: false, pin: last}\n"
    run_check(tmp_path, cards_yaml)
    cards = check(tmp_path / "cards", math_check=False).decks[0].deck.cards
    assert decode_cards(json.loads(json.dumps(encode_cards(cards))), cards[0].path) == list(cards)


def test_rendered_choices_carry_order_data_but_no_answer(tmp_path):
    cards_yaml = HEAD.replace("type: mcq", "type: mcq\n    multiple: true") + CHOICES
    cards_yaml += "      - {text: All of the above., correct: true, pin: last}\n"
    run_check(tmp_path, cards_yaml)
    rendered = check(tmp_path / "cards", math_check=False).decks[0].rendered["dice"]
    choices = rendered.fields["Choices"]
    assert "correct" not in choices
    assert choices.startswith('<p class="mcq-hint">Select all that apply.</p><ol class="mcq-choices" type="A" data-sig="')
    assert 'data-multiple="true"' in choices and "data-shuffle" not in choices
    assert '<li data-n="4" data-pin="last">All of the above.</li>' in choices
    assert rendered.fields["Correct"] == "2 4"
    assert rendered.fields["Answer"] == ('<span class="mcq-letter" data-n="2">B</span>. \\(1/36\\)<br>'
                                         '<span class="mcq-letter" data-n="4">D</span>. All of the above.')


def test_shuffled_choice_problems_api():
    choices = (Choice("one", True, 3), Choice("Both of the above", False, 4))
    found = shuffled_choice_problems(choices, TextField("explanation", "See (c).\nOr option D.", 10))
    assert [(line, field) for line, field, _ in found] == [(4, "choices[B].text"), (10, "explanation"), (11, "explanation")]
