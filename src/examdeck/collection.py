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
from array import array
from collections.abc import Iterator, Sequence
from typing import Any

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

__all__ = ["guid_for", "write_decks"]

_BASE91 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"


# Base-91 digit pairs: half the divisions of genanki's loop.
_PAIRS = [a + b for a in _BASE91 for b in _BASE91]


def guid_for(*values: Any) -> str:
    """``genanki.guid_for``: the first 8 bytes of a SHA-256 in Anki's base 91, two digits at a time."""
    number = int.from_bytes(hashlib.sha256("__".join(map(str, values)).encode("utf-8")).digest()[:8], "big")
    pairs = []
    while number > 0:
        number, pair = divmod(number, 8281)
        pairs.append(_PAIRS[pair])
    # genanki writes no leading zero digit ("a"); a pair may start with one.
    return "".join(reversed(pairs)).lstrip("a")


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
        # genanki's ids: each note's, then its cards', from one counter. Drawn up front (into
        # compact arrays) so that notes and cards can both be streamed to SQLite by generators.
        note_ids, card_ids = array("q"), array("q")
        for note in notes:
            note_ids.append(next(id_gen))
            card_ids.extend(next(id_gen) for _ in note.cards)
        cursor.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);", _note_rows(notes, note_ids, mod))
        cursor.executemany("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);",
                           _card_rows(notes, note_ids, iter(card_ids), mod, deck.deck_id))


def _note_rows(notes: Sequence[genanki.Note], note_ids: array[int], mod: int) -> Iterator[tuple[Any, ...]]:
    # A generator: each note's joined fields exist only while SQLite copies them.
    for note, note_id in zip(notes, note_ids):
        if len(note.fields) != len(note.model.fields):
            note._check_number_model_fields_matches_num_fields()  # raises genanki's error
        yield (note_id, note.guid, note.model.model_id, mod, -1, note._format_tags(), note._format_fields(),
               note.sort_field, 0, 0, "")


def _card_rows(
    notes: Sequence[genanki.Note], note_ids: array[int], card_ids: Iterator[int], mod: int, deck_id: int
) -> Iterator[tuple[Any, ...]]:
    for note, note_id in zip(notes, note_ids):
        for card in note.cards:
            yield (next(card_ids), note_id, deck_id, card.ord, mod, -1, 0, -1 if card.suspend else 0, note.due,
                   0, 0, 0, 0, 0, 0, 0, 0, "")
