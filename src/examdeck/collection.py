"""Write genanki decks into a collection database: genanki's rows, without its per-note costs.

``genanki.Package.write_to_db`` runs, for every note, a regular-expression scan of every field
for malformed HTML (a warning we never need: our fields are escaped HTML by construction) and
two single-row INSERTs. This writes the same rows, in the same order and with the same ids,
from the same genanki objects, with one ``executemany`` per table; decks and note types still
go through genanki. genanki is pinned (0.13.1); tests/test_cache.py compares the two writers
table by table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

__all__ = ["guid_for", "write_decks"]

_BASE91 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"


def guid_for(*values: Any) -> str:
    """``genanki.guid_for``, with its base-91 digits computed by divmod on one integer."""
    number = int.from_bytes(hashlib.sha256("__".join(str(v) for v in values).encode("utf-8")).digest()[:8], "big")
    digits = []
    while number > 0:
        number, digit = divmod(number, 91)
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))


def write_decks(cursor: Any, decks: Sequence[genanki.Deck], timestamp: float, id_gen: Iterator[int]) -> None:
    """What ``genanki.Package(decks).write_to_db(cursor, timestamp, id_gen)`` writes."""
    cursor.executescript(APKG_SCHEMA)
    cursor.executescript(APKG_COL)
    mod = int(timestamp)
    for deck in decks:
        notes = deck.notes
        for note in notes:  # the note types, in genanki's order (first use)
            deck.add_model(note.model)
        deck.notes = []
        try:
            deck.write_to_db(cursor, timestamp, id_gen)  # the deck and its note types, no notes
        finally:
            deck.notes = notes
        note_rows = []
        card_rows = []
        for note in notes:
            if len(note.fields) != len(note.model.fields):
                note._check_number_model_fields_matches_num_fields()  # raises genanki's error
            note_id = next(id_gen)
            note_rows.append((note_id, note.guid, note.model.model_id, mod, -1, note._format_tags(),
                              note._format_fields(), note.sort_field, 0, 0, ""))
            for card in note.cards:
                card_rows.append((next(id_gen), note_id, deck.deck_id, card.ord, mod, -1, 0,
                                  -1 if card.suspend else 0, note.due, 0, 0, 0, 0, 0, 0, 0, 0, ""))
        cursor.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);", note_rows)
        cursor.executemany("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);", card_rows)
