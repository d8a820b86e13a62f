"""The collection writer: genanki's rows, written leaner; the guard that keeps it equal to genanki's own writer.

examdeck.collection mirrors genanki's ``Package.write_to_db`` (schema, row layout, id sequence,
``guid_for``) for speed, so genanki is a version range, not a pin: these tests run against whatever
genanki the range resolves to, and compare the two writers' databases table by table.
"""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import replace

import genanki
import pytest

from conftest import REPO
from examdeck import figures as figure_registry
from examdeck.assemble import assemble, card_tags, media_name
from examdeck.collection import guid_for, write_decks
from examdeck.model import Retirement
from examdeck.notetypes import SPECS, genanki_model
from examdeck.pipeline import load_decks
from examdeck.render import figure_src, render_card

TIMESTAMP, FIRST_ID = 1.7e9, 1_700_000_000_000


def genanki_decks(deck, cards, rendered, figures, assembled) -> list[genanki.Deck]:
    """The decks as genanki objects, one genanki.Note per card: genanki's public API, the reference."""
    media = {(name, variant): media_name(f"{name}-{variant}", path) for name, kept in figures.items()
             for variant, path in kept.images.items()}
    by_guid = {genanki.guid_for(deck.key, card.id): card for card in cards}
    decks = []
    for group in assembled.decks:
        reference = genanki.Deck(group.deck.deck_id, group.deck.name, group.deck.description)
        for row in group.notes:
            card = by_guid[row.guid]
            fields = dict(rendered[card.id].fields)
            for (figure, variant), name in media.items():
                for key, value in fields.items():
                    fields[key] = value.replace(f'src="{figure_src(figure, variant)}"', f'src="{name}"')
            note = genanki.Note(model=genanki_model(card.type), fields=[fields[n] for n in SPECS[card.type].fields],
                                tags=card_tags(deck, card), guid=genanki.guid_for(deck.key, card.id))
            if card.status == "retired":
                note.cards = []
            reference.add_note(note)
        decks.append(reference)
    return decks


def database(conn: sqlite3.Connection) -> dict[str, object]:
    """Everything in a collection database: its schema (tables, indexes) and every table's rows."""
    schema = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    tables = [name for kind, name, _, _ in schema if kind == "table"]
    return {"schema": schema, **{t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}}


def test_lean_writer_writes_genankis_database_table_by_table(tmp_path):
    deck = load_decks(REPO / "cards")[0]
    # One retired card too: a note without cards.
    cards = [replace(deck.cards[0], status="retired", retirement=Retirement("r2", "Ambiguous.")), *deck.cards[1:]]
    rendered = {c.id: render_card(c, deck.source) for c in cards}
    figures = {name: figure_registry.files(name, REPO / "figures") for r in rendered.values() for name in r.figures}
    assembled = assemble(deck, cards, rendered, figures)
    written = {}
    for writer in ("genanki", "examdeck"):
        conn = sqlite3.connect(tmp_path / f"{writer}.anki2")
        if writer == "genanki":
            reference = genanki_decks(deck, cards, rendered, figures, assembled)
            genanki.Package(reference).write_to_db(conn.cursor(), TIMESTAMP, itertools.count(FIRST_ID))
        else:
            write_decks(conn.cursor(), list(assembled.decks), TIMESTAMP, itertools.count(FIRST_ID))
        conn.commit()
        written[writer] = database(conn)
        conn.close()
    reference, lean = written["genanki"], written["examdeck"]
    assert {"col", "notes", "cards", "revlog", "graves"} <= set(reference)
    for table in reference:
        assert lean[table] == reference[table], f"{table} differs from what genanki {genanki.__version__} writes"
    assert set(lean) == set(reference)
    assert len(lean["notes"]) == len(cards) and len(lean["cards"]) == len(cards) - 1
    assert len({row[2] for row in lean["cards"]}) == len(assembled.decks) - 1  # every topic deck has cards
    assert figures and "figure:" not in str(lean["notes"])  # the figures' media names were filled in


@pytest.mark.parametrize("values", [("cs433-2024", "q1"), ("bench", "c00001"), ("", ""), ("é", 12), ("a",)])
def test_guid_for_matches_genanki(values):
    assert guid_for(*values) == genanki.guid_for(*values)


def test_guid_for_matches_genanki_on_many_ids():
    for i in range(2000):
        assert guid_for("deck", f"c{i:05d}") == genanki.guid_for("deck", f"c{i:05d}")
