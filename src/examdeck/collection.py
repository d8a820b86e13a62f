"""Write assembled decks into a collection database: genanki's rows, without its per-note costs.

``genanki.Package.write_to_db`` runs, for every note, a regular-expression scan of every field
for malformed HTML (a warning we never need: our fields are escaped HTML by construction) and
two single-row INSERTs. This writes the same rows, in the same order and with the same ids, from
the notes that ``examdeck.assemble`` built as genanki's rows, with one ``executemany`` per table;
decks and note types still go through genanki. genanki is a version range (pyproject.toml):
tests/test_collection.py compares the two writers' databases table by table against whatever
genanki is installed, and benchmarks/README.md gives the measurements behind the mirror.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

if TYPE_CHECKING:
    from .assemble import DeckNotes
    from .model import NoteRow

__all__ = ["guid_for", "write_decks"]

_BASE91 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"


# Base-91 digit pairs: half the divisions of genanki's loop.
_PAIRS = [a + b for a in _BASE91 for b in _BASE91]


def guid_for(*values: Any) -> str:
    """``genanki.guid_for``: the first 8 bytes of a SHA-256 in Anki's base 91, two digits at a time."""
    number = int.from_bytes(hashlib.sha256("__".join(map(str, values)).encode("utf-8")).digest()[:8], "big")
    # Five pairs of digits hold any 64-bit number (91**10 > 2**64); genanki writes no leading
    # zero digit ("a"), so they are stripped (a number 0 gives "", as in genanki).
    number, e = divmod(number, 8281)
    number, d = divmod(number, 8281)
    number, c = divmod(number, 8281)
    a, b = divmod(number, 8281)
    return (_PAIRS[a] + _PAIRS[b] + _PAIRS[c] + _PAIRS[d] + _PAIRS[e]).lstrip("a")


def write_decks(cursor: Any, decks: Sequence[DeckNotes], timestamp: float, id_gen: Iterator[int]) -> None:
    """What ``genanki.Package(...).write_to_db(cursor, timestamp, id_gen)`` writes for these decks and notes."""
    cursor.executescript(APKG_SCHEMA)
    cursor.executescript(APKG_COL)
    mod = int(timestamp)
    for group in decks:
        group.deck.write_to_db(cursor, timestamp, id_gen)  # the deck and its note types (it holds no genanki notes)
        # genanki's ids: each note's, then its cards', from one counter. Drawn up front (into
        # compact arrays) so that notes and cards can both be streamed to SQLite by generators.
        note_ids, card_ids = array("q"), array("q")
        for note in group.notes:
            note_ids.append(next(id_gen))
            card_ids.extend(next(id_gen) for _ in note.card_ords)
        cursor.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);", _note_rows(group.notes, note_ids, mod))
        cursor.executemany("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);",
                           _card_rows(group.notes, note_ids, iter(card_ids), mod, group.deck.deck_id))


def _note_rows(notes: Sequence[NoteRow], note_ids: array[int], mod: int) -> Iterator[tuple[Any, ...]]:
    # A generator: each note's joined fields exist only while SQLite copies them.
    for note, note_id in zip(notes, note_ids):
        yield (note_id, note.guid, note.model_id, mod, -1, note.tags, "\x1f".join(note.fields), note.sort_field, 0, 0, "")


def _card_rows(
    notes: Sequence[NoteRow], note_ids: array[int], card_ids: Iterator[int], mod: int, deck_id: int
) -> Iterator[tuple[Any, ...]]:
    # genanki's defaults: cards not suspended (queue 0), due 0.
    for note, note_id in zip(notes, note_ids):
        for ord_ in note.card_ords:
            yield (next(card_ids), note_id, deck_id, ord_, mod, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "")
