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
from .fastmd import escape_html
from .figures import FigureFiles
from .model import Card, Deck, NoteHead, NoteRow, TextField
from .notetypes import SPECS, genanki_model, stable_id
from .render import IMAGE_SCHEME, RenderedCard, figure_src, render_text


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


def figure_media(figure_files: Mapping[str, FigureFiles]) -> dict[tuple[str, str], MediaFile]:
    """One media file per figure and variant, keyed by (figure, variant), sorted."""
    return {
        (name, variant): MediaFile(media_name(f"{name}-{variant}", path), path)
        for name, files in sorted(figure_files.items())
        for variant, path in files.images.items()
    }


def link_figures(fields: Mapping[str, str], figures: Sequence[str], names: Mapping[tuple[str, str], str]) -> dict[str, str]:
    """`fields` with each figure variant's placeholder `src` replaced by its file's name in `names`."""
    linked = dict(fields)
    for (figure, variant), name in names.items():
        if figure in figures:
            placeholder = f'src="{escape_html(figure_src(figure, variant))}"'
            for key, value in linked.items():
                linked[key] = value.replace(placeholder, f'src="{escape_html(name)}"')
    return linked


def note_row(
    deck: Deck, card: Card, rendered: RenderedCard, media: Mapping[tuple[str, str] | str, MediaFile], head: NoteHead | None = None
) -> NoteRow:
    """The note of one card, its figures referring to their media files; `head`: its ``note_head``, when known."""
    fields = rendered.fields
    if rendered.figures:
        fields = link_figures(fields, rendered.figures, {key: m.name for key, m in media.items() if isinstance(key, tuple)})
    if rendered.images:
        fields = dict(fields)
        for path in dict.fromkeys(image.path for image in rendered.images):
            reference = f'src="{escape_html(IMAGE_SCHEME + path)}"'
            for key, value in fields.items():
                fields[key] = value.replace(reference, f'src="{media[IMAGE_SCHEME + path].name}"')
    guid, tags, ords = head or note_head(deck.key, card, rendered)
    values = tuple([fields[name] for name in SPECS[card.type].fields])
    # The sort field is the first field, the question (Anki's browser column and duplicate check), as genanki writes it.
    return NoteRow(guid, genanki_model(card.type).model_id, tags, values, values[0], ords)


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
    figure_files: Mapping[str, FigureFiles],
    *,
    deck_title: str | None = None,
    description: str | None = None,
    heads: Mapping[str, NoteHead] | None = None,
) -> AssembledDeck:
    """The decks and notes of `cards`; `figure_files` maps each referenced figure to its files; `heads`:
    the ``note_head`` of cards by id, where known (the build cache keeps them)."""
    heads = heads or {}
    media = figure_media(figure_files)
    media.update(user_images(deck, cards, rendered))
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


def user_images(deck: Deck, cards: Sequence[Card], rendered: Mapping[str, RenderedCard]) -> dict[str, MediaFile]:
    """The media files of the deck folder's images that `cards` show, keyed `examdeck-image:PATH`:
    named by a hash of their bytes (``images.media_name``), so the same file ships once."""
    from . import images

    paths = sorted({image.path for card in cards for image in rendered[card.id].images})
    found = {}
    for path in paths:
        file = images.resolve(Path(deck.path), path)
        found[IMAGE_SCHEME + path] = MediaFile(images.media_name(file), file)
    return found


def _deck_description(markdown: str) -> str:
    return render_text(TextField("description", markdown, 1)).html if markdown else ""
