"""Rendered cards to genanki notes: stable GUIDs, tags, one subdeck per primary topic, media."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import genanki

from .model import Card, Deck, TextField
from .notetypes import SPECS, genanki_model, stable_id
from .render import FIGURE_SCHEME, RenderedCard, render_text


@dataclass(frozen=True)
class MediaFile:
    """A file shipped in the package under a content-hashed name, so versions and decks never clash."""

    name: str
    source: Path


@dataclass(frozen=True)
class AssembledDeck:
    deck_key: str
    decks: tuple[genanki.Deck, ...]
    media: tuple[MediaFile, ...]
    note_count: int


def media_name(figure: str, path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"examdeck-{figure}-{digest}{path.suffix}"


def note_guid(deck_key: str, card_id: str) -> str:
    """The note's identity: from the deck key and the card's stable id, never from its text."""
    from .collection import guid_for  # genanki.guid_for's value, faster

    return guid_for(deck_key, card_id)


def card_tags(deck: Deck, card: Card) -> list[str]:
    tags = [f"topic::{slug}" for slug in card.topics]
    tags += [f"type::{card.type}", f"exam::{deck.key}"]
    if card.source and card.source.question is not None:
        tags.append(f"exam::{deck.key}::q{card.source.question:02d}")
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
) -> AssembledDeck:
    """Build the genanki decks for `cards`; `figure_files` maps each referenced figure to its image."""
    media = {name: MediaFile(media_name(name, path), path) for name, path in sorted(figure_files.items())}
    title = deck_title or deck.title
    parent = genanki.Deck(stable_id("examdeck-deck", deck.key), title, _deck_description(description or deck.description))
    subdecks: dict[str, genanki.Deck] = {}
    for card in cards:
        slug = card.primary_topic
        if slug not in subdecks:
            subdecks[slug] = genanki.Deck(stable_id("examdeck-deck", deck.key, slug), topic_deck_name(deck, slug, title))
        fields = dict(rendered[card.id].fields)
        for figure in rendered[card.id].figures:
            for key, value in fields.items():
                fields[key] = value.replace(f'src="{FIGURE_SCHEME}{figure}"', f'src="{media[figure].name}"')
        spec = SPECS[card.type]
        note = genanki.Note(
            model=genanki_model(card.type),
            fields=[fields[name] for name in spec.fields],
            tags=card_tags(deck, card),
            guid=note_guid(deck.key, card.id),
            sort_field=card.id,
        )
        if card.status == "retired":
            # A note without cards: students who have the card get the banner and tag;
            # new students get no card, so a retired card is never due for them.
            note.cards = []
        subdecks[slug].add_note(note)
    ordered = [parent] + [subdecks[t.slug] for t in deck.topics if t.slug in subdecks]
    return AssembledDeck(deck.key, tuple(ordered), tuple(media.values()), len(cards))


def _deck_description(markdown: str) -> str:
    return render_text(TextField("description", markdown, 1)).html if markdown else ""
