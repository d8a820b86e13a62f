"""The CS-433 2024 deck as students get it: complete, correctly answered, rendering in Anki."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from conftest import REPO, import_package
from examdeck.pipeline import BuildOptions, build, check, load_decks

CARDS = REPO / "cards"
EXPLANATORY_FIGURES = {
    "q05": "logreg-weight-norm", "q18": "mse-mae-outlier", "q22": "svm-support-vectors",
    "q24": "em-local-optima", "q34b": "gelu-relu", "q39": "diffusion-forward",
}


@pytest.fixture(scope="module")
def deck():
    (deck,) = load_decks(CARDS)
    return deck


@pytest.fixture(scope="module")
def imported(tmp_path_factory, figures_dir):
    """The default deck and the one with nullified questions, each imported into a fresh collection."""
    from anki.collection import Collection

    result = {}
    for label, include in (("default", False), ("all", True)):
        root = tmp_path_factory.mktemp(label)
        built, _ = build(CARDS, BuildOptions(out_dir=root / "build", figures_dir=figures_dir, include_nullified=include))
        col = Collection(str(root / "collection.anki2"))
        import_package(col, built[0].path)
        result[label] = col
    yield result
    for col in result.values():
        col.close()


def notes(col):
    return [col.get_note(n) for n in col.find_notes("")]


def question_numbers(col) -> set[int]:
    tags = {t for note in notes(col) for t in note.tags}
    return {int(m.group(1)) for t in tags if (m := re.fullmatch(r"exam::cs433-2024::q(\d\d)", t))}


def test_every_question_is_present(imported):
    assert question_numbers(imported["all"]) == set(range(1, 43))
    assert question_numbers(imported["default"]) == set(range(1, 43)) - {20, 26}


def test_type_counts_and_atomic_parts(imported):
    default = notes(imported["default"])
    types = Counter(t.split("::")[1] for n in default for t in n.tags if t.startswith("type::"))
    assert types["mcq"] == 12 and types["truefalse"] == 18
    ids = {n["Id"] for n in default}
    assert {"q33a", "q33b", "q33c", "q34a", "q34b", "q34c"} <= ids
    for q in ("q33", "q34"):
        parts = [n for n in default if n["Id"].startswith(q)]
        assert len(parts) == 3
        assert all(f"exam::cs433-2024::{q}" in n.tags for n in parts)


def test_nullified_questions_are_tagged(imported):
    nullified = {n["Id"] for n in notes(imported["all"]) if "status::nullified" in n.tags}
    assert nullified == {"q20", "q26"}


def test_every_mcq_has_one_correct_choice_matching_its_answer(deck, imported):
    by_id = {n["Id"]: n for n in notes(imported["default"])}
    for card in (c for c in deck.cards if c.type == "mcq"):
        assert sum(c.correct for c in card.choices) == 1, card.id
        note = by_id[card.id]
        assert not re.search(r'(class|data-[a-z]+)="[^"]*correct', note["Choices"]), "the front's field never tells the answer"
        n = [c.correct for c in card.choices].index(True) + 1
        assert note["Correct"] == str(n)  # the back's key
        correct = re.findall(rf'<li data-n="{n}"[^>]*>(.*?)</li>', note["Choices"], re.DOTALL)
        assert len(correct) == 1
        letter = "ABCDEFGHIJ"[n - 1]
        assert note["Answer"] == f'<span class="mcq-letter" data-n="{n}">{letter}</span>. {correct[0]}'


def test_every_card_renders_without_template_errors(imported):
    col = imported["all"]
    for note in notes(col):
        for card in note.cards():
            output = card.render_output(reload=True)
            for side in (output.question_text, output.answer_text):
                assert "{{" not in side
                assert not re.search(r"(?<!\\)\$", side), f"{note['Id']}: a $ reached the card"
            assert note["Question"] in output.answer_text


def test_every_card_has_topic_source_and_points(deck):
    for card in deck.cards:
        assert card.topics
        assert card.source is not None and card.source.question is not None
        if card.type != "open":
            assert card.source.points == (2 if card.type == "mcq" else 1.5), card.id
    q8 = next(c for c in deck.cards if c.id == "q08")
    assert {"gmm-em", "kmeans"} <= set(q8.topics)


def test_figures_are_on_the_cards_they_illustrate(imported):
    by_id = {n["Id"]: n for n in notes(imported["default"])}
    for card_id in ("q01", "q02"):
        assert "examdeck-loss-datasets-" in by_id[card_id]["Figure"]
    assert "examdeck-gmm-datasets-" in by_id["q08"]["Figure"]
    for card_id, figure in EXPLANATORY_FIGURES.items():
        note = by_id[card_id]
        assert f"examdeck-{figure}-" in note["Explanation"] + note["Answer"], card_id


def test_every_formula_passes_the_mathjax_check():
    report = check(CARDS)
    formulas = sum(len(r.formulas) for d in report.decks for r in d.rendered.values())
    assert formulas > 500
