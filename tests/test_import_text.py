"""`examdeck import text`: a PDF-extracted exam to draft cards, counted question by question."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from examdeck.cli import Ui
from examdeck.errors import InvalidSources
from examdeck.importers import DeckMeta, import_text, parse_exam_text, write_deck
from examdeck.importers.cli import import_group
from examdeck.importers.text import MCQ_PLACEHOLDER, TRUEFALSE_PLACEHOLDER
from examdeck.pipeline import BuildOptions, build, check, load_decks

EXAM = Path(__file__).resolve().parent / "fixtures" / "text" / "cs433-2024-exam.txt"
REPO = Path(__file__).resolve().parent.parent

# Question number -> (type, topic slug, points, number of choices), read off the exam by hand.
EXPECTED = {
    1: ("mcq", "linear-regression-loss-functions", 2, 7),
    2: ("mcq", "linear-regression-loss-functions", 2, 7),
    3: ("mcq", "log-likelihood", 2, 4),
    4: ("mcq", "optimization", 2, 4),
    5: ("mcq", "logistic-regression", 2, 4),
    6: ("mcq", "k-nn", 2, 4),
    7: ("mcq", "k-means-clustering", 2, 4),
    8: ("mcq", "gmm-k-means", 2, 5),
    9: ("mcq", "neural-networks-deep-learning", 2, 6),
    10: ("mcq", "matrix-factorization", 2, 6),
    11: ("mcq", "bias-variance-decomposition", 2, 4),
    12: ("mcq", "transformers", 2, 5),
    13: ("truefalse", "linear-regression", 1.5, 0),
    14: ("truefalse", "linear-regression", 1.5, 0),
    15: ("truefalse", "feature-expansion", 1.5, 0),
    16: ("truefalse", "ridge-regression", 1.5, 0),
    17: ("truefalse", "gradient-descent", 1.5, 0),
    18: ("truefalse", "optimization", 1.5, 0),
    19: ("truefalse", "logistic-regression", 1.5, 0),
    20: ("truefalse", "classification", 1.5, 0),
    21: ("truefalse", "kernels", 1.5, 0),
    22: ("truefalse", "support-vectors", 1.5, 0),
    23: ("truefalse", "duality", 1.5, 0),
    24: ("truefalse", "em-algorithm", 1.5, 0),
    25: ("truefalse", "gmm", 1.5, 0),
    26: ("truefalse", "cnn-receptive-field", 1.5, 0),
    27: ("truefalse", "transformer", 1.5, 0),
    28: ("truefalse", "adversarial-training", 1.5, 0),
    29: ("truefalse", "text-representation-learning", 1.5, 0),
    30: ("truefalse", "generalization", 1.5, 0),
    31: ("truefalse", "model-selection", 1.5, 0),
    32: ("truefalse", "self-supervised-learning", 1.5, 0),
    33: ("open", "neural-networks", 3, 0),
    34: ("open", "neural-networks", 2, 0),
    35: ("open", "gmms-with-weights", 1, 0),
    36: ("open", "gmms-with-weights", 1, 0),
    37: ("open", "gmms-with-weights", 1, 0),
    38: ("open", "gmms-with-weights", 1, 0),
    39: ("open", "diffusion-models", 1, 0),
    40: ("open", "diffusion-models", 1, 0),
    41: ("open", "diffusion-models", 3, 0),
    42: ("open", "diffusion-models", 1, 0),
}


@pytest.fixture(scope="module")
def exam():
    return import_text(EXAM)


def by_number(exam):
    return {c.source.question: c for c in exam.cards}


def test_finds_all_42_questions_in_order(exam) -> None:
    assert [c.source.question for c in exam.cards] == list(range(1, 43))
    assert [c.id for c in exam.cards] == [f"q{n:02d}" for n in range(1, 43)]
    counts = {t: sum(c.type == t for c in exam.cards) for t in ("mcq", "truefalse", "open")}
    assert counts == {"mcq": 12, "truefalse": 20, "open": 10}
    assert exam.warnings == ()


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_each_question(exam, number: int) -> None:
    card = by_number(exam)[number]
    kind, topic, points, n_choices = EXPECTED[number]
    assert (card.type, card.topics, card.source.points, len(card.choices)) == (kind, (topic,), points, n_choices)
    assert card.status == "draft"
    assert "Formulas were mangled by the PDF extraction" in card.notes
    assert card.question.strip() and "Question" not in card.question.split("\n")[0][:9]
    assert card.file == {"mcq": "part1-mcq.yaml", "truefalse": "part2-truefalse.yaml", "open": "part3-open.yaml"}[kind]


def test_multiple_choice_choices_and_placeholder_answers(exam) -> None:
    cards = by_number(exam)
    assert [c.text for c in cards[1].choices] == [
        "MSEB > MSEA > MSEC", "MSEB > MSEC > MSEA", "At least two of the MSE losses are equal.",
        "MSEA > MSEC > MSEB", "MSEC > MSEB > MSEA", "MSEA > MSEB > MSEC", "MSEC > MSEA > MSEB",
    ]
    assert [c.text for c in cards[12].choices] == ["O(n3)", "O(n log n)", "O(n)", "O(n1/2)", "O(n2)"]
    # Formulas broken over several lines by the extraction stay in one choice.
    assert cards[3].choices[0].text == "argminw\n∑N\nn=1 |yn − x⊤\nnw|"
    assert [c.text.split("\n")[0] for c in cards[7].choices] == ["znk ="] * 4
    assert cards[11].choices[3].text == "None of the above expressions equals ES∼D[L(hS)]."
    assert cards[10].choices[5].text == "det(A) = −96"
    for number in range(1, 13):
        card = cards[number]
        # The ticked box is lost: no choice is marked correct, so the draft never looks answered
        # (and is never built); the notes say how to finish it.
        assert card.status == "draft" and not card.multiple and not any(c.correct for c in card.choices)
        assert MCQ_PLACEHOLDER in card.notes
    assert cards[1].question.startswith("Figure 1 below shows the three different datasets")
    assert cards[1].question.endswith("Choose the correct ordering with respect to MSE (Mean Squared Error) loss")
    assert "Figure 1 is not in the extracted text" in cards[1].notes
    assert cards[3].question.endswith("Which of the following formulations is NOT\nequivalent to MLE?")
    assert cards[1].explanation == "MSEA = 9/8, MSEB = 8/8, MSEC = 5/8"


def test_true_false_statements_and_answers(exam) -> None:
    cards = by_number(exam)
    assert cards[15].question == "Unnecessary polynomial expansion of input features can lead to un-\nderfitting."
    assert cards[15].explanation == "False. It can lead to overfitting."
    # Taken from the solution's first word when it has one (flagged), else a flagged placeholder.
    taken = {n: cards[n].answer for n in range(13, 33) if "first word" in cards[n].notes}
    assert taken == {13: True, 14: True, 15: False, 16: True, 17: False, 18: True, 19: False, 21: True, 22: False,
                     23: True, 24: False, 25: False, 27: False, 28: True, 29: False}
    unknown = [n for n in range(13, 33) if TRUEFALSE_PLACEHOLDER in cards[n].notes]
    assert unknown == [20, 26, 30, 31, 32]
    assert all(cards[n].answer is None and "answer" not in cards[n].to_data() for n in unknown)
    nullified = [n for n in range(1, 43) if "consider `status: nullified`" in cards[n].notes]
    assert nullified == [20, 26]
    assert cards[32].question.startswith("When GPT models are trained on next token prediction")


def test_open_questions_and_their_solutions(exam) -> None:
    cards = by_number(exam)
    assert cards[33].question.startswith("Let’s denote the input to the network as x ∈ Rd")
    assert "0 1 2 3" not in cards[33].question  # the grading boxes
    assert cards[33].answer.startswith("(a) (1 point) Yes, the network is affine in x.")
    assert cards[35].question.startswith("We consider a modification of the Gaussian Mixture Model")
    assert cards[35].question.endswith("Derive µ\n(t+1)\nk .")
    assert cards[39].answer.startswith("XT ∼ N (0, Id)")
    assert cards[42].answer.startswith("By simply substituting Xt we can see")


def test_topics_in_order_of_appearance(exam) -> None:
    titles = {t.slug: t.title for t in exam.topics}
    assert titles["linear-regression-loss-functions"] == "Linear regression / Loss functions"
    assert titles["k-nn"] == "k-NN"
    assert titles["gmms-with-weights"] == "GMMs with weights"
    assert len(exam.topics) == len({c.topics[0] for c in exam.cards}) == 31


def test_written_deck_validates_and_builds_with_drafts(tmp_path: Path, figures_dir: Path) -> None:
    exam = import_text(EXAM)
    write_deck(exam.cards, DeckMeta("cs433-text", "CS-433 (text import)", exam.topics), tmp_path / "cards" / "cs")
    (deck,) = load_decks(tmp_path / "cards")
    assert len(deck.cards) == 42
    assert check(tmp_path / "cards").decks[0].deck.key == "cs433-text"  # every text renders, no stray $
    options = BuildOptions(out_dir=tmp_path / "build", figures_dir=figures_dir)
    with pytest.raises(InvalidSources) as refused:  # drafts are not shipped by default: nothing is, and it says why
        build(tmp_path / "cards", options)
    messages = [str(p) for p in refused.value.problems]
    assert messages[0].endswith("nothing shippable: every card was left out, as listed below; no package was written")
    assert len(messages) == 43 and all("left out" in m for m in messages)
    assert any(m.endswith("card 'q20' left out: a draft whose answer is unknown (mark the answer, then remove status: draft)")
               for m in messages)
    built, warnings = build(tmp_path / "cards", BuildOptions(out_dir=tmp_path / "build", figures_dir=figures_dir,
                                                             include_drafts=True))
    # ...but are built when asked, except those whose answer is unknown: they would look answered.
    unknown = [c.id for c in deck.cards if c.type == "mcq" or (c.type == "truefalse" and c.answer is None)]
    assert len(unknown) == 17
    assert [(p.deck_key, p.note_count) for p in built] == [("cs433-text", 42 - 17)]
    assert any(f"left out 17 draft(s) whose answer is unknown ({', '.join(unknown)})" in w for w in warnings)


def test_cli_imports_the_exam(tmp_path: Path) -> None:
    out = tmp_path / "cs"
    result = CliRunner().invoke(import_group, ["text", str(EXAM), "--deck", "cs433", "--out", str(out),
                                               "--title", "CS-433"], obj=Ui(0), catch_exceptions=False)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"{out}: 42 added, 0 kept as they are (0 changed upstream), 0 no longer in the exam"
    assert lines[-1] == "  wrote: deck.yaml, part1-mcq.yaml, part2-truefalse.yaml, part3-open.yaml"
    assert result.stderr == ""
    assert load_decks(out)[0].title == "CS-433"


def test_reimport_into_the_curated_deck_keeps_every_edited_card(tmp_path: Path) -> None:
    curated = tmp_path / "cs433-2024"
    shutil.copytree(REPO / "cards" / "cs433-2024", curated)
    before = {p.name: p.read_bytes() for p in curated.iterdir()}
    result = CliRunner().invoke(import_group, ["text", str(EXAM), "--deck", "cs433-2024", "--out", str(curated)],
                                obj=Ui(0), catch_exceptions=False)
    assert result.exit_code == 0
    # The curated deck splits questions 33 and 34 into parts (q33a...): those two are new here.
    assert result.stdout.splitlines()[:2] == [
        f"{curated}: 2 added, 40 kept as they are (0 changed upstream), 0 no longer in the exam",
        "  added: q33, q34",
    ]
    assert {p.name: p.read_bytes() for p in curated.iterdir() if p.name in before} == before
    cards = {c.id: c for c in load_decks(curated)[0].cards}
    assert cards["q33"].status == "draft" and cards["q10"].status == "active"


def test_a_card_missing_from_a_curated_file_is_appended_to_it(tmp_path: Path) -> None:
    curated = tmp_path / "cs433-2024"
    shutil.copytree(REPO / "cards" / "cs433-2024", curated)
    mcq = curated / "part1-mcq.yaml"
    kept = "".join(block for block in re.split(r"(?m)^(?=  - id: )", mcq.read_text())
                   if not block.startswith("  - id: q05\n"))
    mcq.write_text(kept)
    result = CliRunner().invoke(import_group, ["text", str(EXAM), "--deck", "cs433-2024", "--out", str(curated)],
                                obj=Ui(0), catch_exceptions=False)
    assert result.stdout.splitlines()[1] == "  added: q05, q33, q34"
    assert mcq.read_text().startswith(kept)
    cards = {c.id: c for c in load_decks(curated)[0].cards}
    assert (cards["q05"].path, cards["q05"].status) == (str(mcq), "draft")


def test_a_small_exam_of_another_shape(tmp_path: Path) -> None:
    text = """Intro page
• For the multiple choice questions, we give :
+3 points if your answer is correct,
First part: multiple choice questions

Warm-up

Question 1 Which is a prime number?

4

7

Solution: 7 is prime.

Question 2 Pick one:

alpha
Second part, open questions

Question 3: (4 points.) Prove it.

0 1 2 3 4
"""
    result = parse_exam_text(text, "small.txt")
    assert [(c.id, c.type, c.topics, c.source.points) for c in result.cards] == [
        ("q01", "mcq", ("warm-up",), 3), ("q02", "open", ("warm-up",), 3), ("q03", "open", ("general",), 4),
    ]
    assert [c.text for c in result.cards[0].choices] == ["4", "7"]
    assert "could not be told apart" in result.cards[1].notes
    assert [str(w) for w in result.warnings] == [
        "small.txt:16: warning: question 2 has no 'Solution:'",
        "small.txt:16: warning: question 2: could not separate its choices; imported as an open draft",
        "small.txt:21: warning: question 3 has no 'Solution:'",
    ]
    write_deck(result.cards, DeckMeta("small", "Small", result.topics), tmp_path / "small")
    assert len(load_decks(tmp_path / "small")[0].cards) == 3


def test_text_without_questions_is_an_error() -> None:
    with pytest.raises(InvalidSources, match="no questions found"):
        parse_exam_text("just a letter\n", "letter.txt")


def test_imported_choices_keep_their_meaning_when_shuffled(tmp_path: Path) -> None:
    """A trailing "none of the above" is pinned last; a choice or explanation that needs the exam's order
    keeps it (shuffle: false, said in the notes). Either way the written deck validates."""
    from examdeck.importers.model import ImportedCard, ImportedChoice
    from examdeck.model import Topic

    choices = (ImportedChoice("$x^2$", True), ImportedChoice("$2x$", False), ImportedChoice("None of the above", False))
    pinned = ImportedCard("p1", "mcq", ("t",), "Derivative of $x^3/3$?", "part1-mcq.yaml", choices=choices)
    data = pinned.to_data()
    assert [c.get("pin") for c in data["choices"]] == [None, None, "last"] and "shuffle" not in data
    named = ImportedCard("p2", "mcq", ("t",), "Derivative of $x^3/3$?", "part1-mcq.yaml", choices=choices[:2],
                         explanation="Answer (a): the power rule.", notes="From the official solution.")
    data = named.to_data()
    assert data["shuffle"] is False and "shuffle: false" in data["notes"] and data["notes"].startswith("From the official")
    middle = ImportedCard("p3", "mcq", ("t",), "Derivative of $x^3/3$?", "part1-mcq.yaml",
                          choices=(choices[2], choices[0], choices[1]))
    assert middle.to_data()["shuffle"] is False

    write_deck([pinned, named, middle], DeckMeta("pins", "Pins", (Topic("t", "T"),)), tmp_path / "cards" / "pins")
    cards = {c.id: c for c in load_decks(tmp_path / "cards")[0].cards}
    assert [c.pin_last for c in cards["p1"].choices] == [False, False, True] and cards["p1"].shuffle
    assert not cards["p2"].shuffle and not cards["p3"].shuffle
