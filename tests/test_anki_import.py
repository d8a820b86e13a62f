"""End to end: build packages and import them with the official Anki library, as a student would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import import_package
from examdeck.pipeline import BuildOptions, build

pytest.importorskip("anki")


@pytest.fixture
def build_basic(figures_dir):
    """Build a cards directory holding one deck; return the package's path."""

    def build_one(cards: Path, out: Path, **options) -> Path:
        built, _ = build(cards, BuildOptions(out_dir=out, figures_dir=figures_dir, **options))
        assert len(built) == 1
        return built[0].path

    return build_one


def notes_by_id(col) -> dict[str, object]:
    return {col.get_note(nid)["Id"]: col.get_note(nid) for nid in col.find_notes("")}


def test_imported_cards_render_with_mathjax_tags_decks_and_media(basic_deck, tmp_path, collection, build_basic):
    apkg = build_basic(basic_deck, tmp_path / "build")
    log = import_package(collection, apkg)
    assert len(log.log.new) == 3  # the nullified card stays out of the default build

    notes = notes_by_id(collection)
    assert set(notes) == {"mse", "trace", "det"}
    for note in notes.values():
        for card in note.cards():
            output = card.render_output(reload=True)
            for side in (output.question_text, output.answer_text):
                assert "$" not in side.replace("$5", "").replace("$10", "")
                assert "{{" not in side and "unknown field" not in side.lower()
                assert "\\(" in side or "\\[" in side

    mse = notes["mse"]
    assert "\\(\\frac{1}{N}\\sum_{n=1}^N (y_n - \\mathbf{x}_n^\\top \\mathbf{w})^2\\)" in mse["Question"]
    assert "a_{i*} = \\{1, 2\\}" in mse["Explanation"]
    assert "&lt;script&gt;" in mse["Explanation"] and "<script>" not in mse["Explanation"]
    assert "editor-only" not in " ".join(mse.fields)
    assert mse["Answer"].startswith('<span class="mcq-letter" data-n="1">A</span>. Dataset A')
    assert mse["Correct"] == "1"
    assert sorted(mse.tags) == sorted(
        ["topic::losses", "type::mcq", "exam::fixture-basic", "exam::fixture-basic::q01"]
    )
    assert sorted(notes["trace"].tags) == sorted(
        ["topic::linalg", "topic::losses", "type::truefalse", "exam::fixture-basic", "exam::fixture-basic::q13"]
    )
    assert notes["trace"]["Answer"] == "True"
    assert "\\begin{pmatrix} 1 &amp; 2 \\\\ 3 &amp; 4 \\end{pmatrix}" in notes["det"]["Question"]

    decks = {collection.decks.name(card.did) for n in notes.values() for card in n.cards()}
    assert decks == {"Fixture deck::Loss functions", "Fixture deck::Linear algebra"}

    referenced = re.findall(r'src="([^"]+)"', mse["Figure"])
    assert referenced and referenced[0].startswith("examdeck-loss-datasets-")
    media_dir = Path(collection.media.dir())
    assert all((media_dir / name).is_file() for name in referenced)
    output = mse.cards()[0].render_output(reload=True)
    assert 'data-correct="1"' in output.answer_text  # the back's key: CSS marks the correct choice without scripts
    front_html = output.question_text.split("<script>")[0]
    assert "data-correct" not in front_html and "correct" not in front_html


def test_include_nullified_ships_the_nullified_card_tagged(basic_deck, tmp_path, collection, build_basic):
    apkg = build_basic(basic_deck, tmp_path / "build", include_nullified=True)
    import_package(collection, apkg)
    notes = notes_by_id(collection)
    assert "status::nullified" in notes["old"].tags


def answer_every_card(col) -> int:
    return answer_every_card_in(col, col.decks.id_for_name("Fixture deck"))


def answer_every_card_in(col, deck_id: int) -> int:
    """Review every due card of a deck once with 'Good', as a student would; return how many."""
    from anki.scheduler.v3 import CardAnswer

    col.decks.select(deck_id)
    answered = 0
    while True:
        queued = col.sched.get_queued_cards(fetch_limit=1)
        if not queued.cards:
            return answered
        answered += 1
        top = queued.cards[0]
        card = col.get_card(top.card.id)
        card.start_timer()
        answer = col.sched.build_answer(card=card, states=top.states, rating=CardAnswer.GOOD)
        col.sched.answer_card(answer)


def test_reimport_after_edit_updates_in_place_and_keeps_reviews(basic_deck, tmp_path, collection, build_basic, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    v1 = build_basic(basic_deck, tmp_path / "v1")
    import_package(collection, v1)
    answer_every_card(collection)
    before = notes_by_id(collection)
    reviews_before = collection.db.scalar("select count() from revlog")
    assert reviews_before >= 3
    due_before = {cid: collection.get_card(cid).due for cid in collection.find_cards("")}

    cards_file = basic_deck / "basic" / "cards.yaml"
    text = cards_file.read_text().replace("counted with multiplicity", "counted with their multiplicity")
    text += """
  - id: rank
    type: truefalse
    topics: [linalg]
    question: A new card added in the second release.
    answer: true
"""
    cards_file.write_text(text)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700086400")
    v2 = build_basic(basic_deck, tmp_path / "v2")
    log = import_package(collection, v2)

    after = notes_by_id(collection)
    assert set(after) == set(before) | {"rank"}
    assert len(log.log.new) == 1
    assert after["trace"].id == before["trace"].id
    assert "counted with their multiplicity" in after["trace"]["Explanation"]
    assert collection.note_count() == 4
    assert collection.db.scalar("select count() from revlog") == reviews_before
    for cid, due in due_before.items():
        assert collection.get_card(cid).due == due


def test_same_timestamp_rebuild_does_not_update(basic_deck, tmp_path, collection, build_basic, monkeypatch):
    """Why releases need a newer SOURCE_DATE_EPOCH: Anki skips notes that are not newer."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    import_package(collection, build_basic(basic_deck, tmp_path / "v1"))
    cards_file = basic_deck / "basic" / "cards.yaml"
    cards_file.write_text(cards_file.read_text().replace("counted with multiplicity", "EDITED"))
    import_package(collection, build_basic(basic_deck, tmp_path / "v2"))
    assert "EDITED" not in notes_by_id(collection)["trace"]["Explanation"]
