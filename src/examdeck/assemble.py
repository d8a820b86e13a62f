"""Rendered cards to Anki notes: stable GUIDs, tags, one subdeck per primary topic, media.

Notes are built as the rows genanki would write for them (``NoteRow``), not as ``genanki.Note``
objects: the same values, without genanki's per-note costs (its tag list class, a cached property
per note, an HTML scan per field). Decks and note types remain genanki's own objects.
tests/test_collection.py checks the rows against genanki's writer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import genanki

from .collection import guid_for
from .model import Card, Deck, NoteHead, NoteRow, TextField
from .notetypes import SPECS, genanki_model, stable_id
from .render import FIGURE_SCHEME, RenderedCard, render_text


@dataclass(frozen=True)
class MediaFile:
    """A file shipped in the package under a content-hashed name, so versions and decks never clash."""

    name: str
    source: Path


class DeckNotes(NamedTuple):
    """An Anki deck, with the note types of its notes (in order of first use), and its notes."""

    deck: genanki.Deck
    notes: tuple[NoteRow, ...]


@dataclass(frozen=True)
class AssembledDeck:
    deck_key: str
    decks: tuple[DeckNotes, ...]
    media: tuple[MediaFile, ...]
    note_count: int


def media_name(figure: str, path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"examdeck-{figure}-{digest}{path.suffix}"


def note_guid(deck_key: str, card_id: str) -> str:
    """The note's identity: from the deck key and the card's stable id, never from its text."""
    return guid_for(deck_key, card_id)  # genanki.guid_for's value, faster


def format_tags(tags: Sequence[str]) -> str:
    """genanki's tags column; like genanki, refuse a tag with a space (Anki would split it)."""
    for tag in tags:
        if " " in tag:
            raise ValueError(f'Tag "{tag}" contains a space; this is not allowed!')
    return " " + " ".join(tags) + " "


def card_ords(model: genanki.Model, fields: Sequence[str]) -> tuple[int, ...]:
    """genanki's cards of a front/back note: the templates whose required fields (``Model._req``,
    computed by genanki from the templates) are filled."""
    return tuple(
        ord_ for ord_, any_or_all, required in model._req
        if (any if any_or_all == "any" else all)(map(fields.__getitem__, required))
    )


def note_head(deck_key: str, card: Card, rendered: RenderedCard) -> NoteHead:
    """The guid, tags and cards of the note of a card of deck `deck_key`."""
    # A retired card ships as a note without cards: students who have the card get the banner
    # and tag; new students get no card, so a retired card is never due for them.
    if card.status == "retired":
        ords: tuple[int, ...] = ()
    else:  # which fields are filled does not depend on the figures' media names
        ords = card_ords(genanki_model(card.type), [rendered.fields[name] for name in SPECS[card.type].fields])
    return NoteHead(note_guid(deck_key, card.id), format_tags(deck_card_tags(deck_key, card)), ords)


def note_row(
    deck: Deck, card: Card, rendered: RenderedCard, media: Mapping[str, MediaFile], head: NoteHead | None = None
) -> NoteRow:
    """The note of one card, its figures referring to their media files; `head`: its ``note_head``, when known."""
    fields = rendered.fields
    if rendered.figures:
        fields = dict(fields)
        for figure in rendered.figures:
            for key, value in fields.items():
                fields[key] = value.replace(f'src="{FIGURE_SCHEME}{figure}"', f'src="{media[figure].name}"')
    guid, tags, ords = head or note_head(deck.key, card, rendered)
    values = tuple([fields[name] for name in SPECS[card.type].fields])
    return NoteRow(guid, genanki_model(card.type).model_id, tags, values, card.id, ords)


def card_tags(deck: Deck, card: Card) -> list[str]:
    """The Anki tags of a card of `deck`."""
    return deck_card_tags(deck.key, card)


def deck_card_tags(deck_key: str, card: Card) -> list[str]:
    """A card's tags: they name its deck by its key only."""
    tags = [f"topic::{slug}" for slug in card.topics]
    tags += [f"type::{card.type}", f"exam::{deck_key}"]
    if card.source and card.source.question is not None:
        tags.append(f"exam::{deck_key}::q{card.source.question:02d}")
    if card.status != "active":
        tags.append(f"status::{card.status}")
    return tags


def topic_deck_name(deck: Deck, slug: str, deck_title: str | None = None) -> str:
    return f"{deck_title or deck.title}::{deck.topic(slug).title}"


def assemble(
    deck: Deck,
    cards: Sequence[Card],
    rendered: Mapping[str, RenderedCard],
    figure_files: Mapping[str, Path],
    *,
    deck_title: str | None = None,
    description: str | None = None,
    heads: Mapping[str, NoteHead] | None = None,
) -> AssembledDeck:
    """The decks and notes of `cards`; `figure_files` maps each referenced figure to its image; `heads`:
    the ``note_head`` of cards by id, where known (the build cache keeps them)."""
    heads = heads or {}
    media = {name: MediaFile(media_name(name, path), path) for name, path in sorted(figure_files.items())}
    title = deck_title or deck.title
    parent = genanki.Deck(stable_id("examdeck-deck", deck.key), title, _deck_description(description or deck.description))
    subdecks: dict[str, genanki.Deck] = {}
    notes: dict[str, list[NoteRow]] = {}
    for card in cards:
        slug = card.primary_topic
        if slug not in subdecks:
            subdecks[slug] = genanki.Deck(stable_id("examdeck-deck", deck.key, slug), topic_deck_name(deck, slug, title))
            notes[slug] = []
        subdecks[slug].add_model(genanki_model(card.type))  # genanki writes a deck's note types in order of first use
        notes[slug].append(note_row(deck, card, rendered[card.id], media, heads.get(card.id)))
    ordered = [DeckNotes(parent, ())]
    ordered += [DeckNotes(subdecks[t.slug], tuple(notes[t.slug])) for t in deck.topics if t.slug in subdecks]
    return AssembledDeck(deck.key, tuple(ordered), tuple(media.values()), len(cards))


def _deck_description(markdown: str) -> str:
    return render_text(TextField("description", markdown, 1)).html if markdown else ""
