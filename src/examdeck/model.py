"""The plain typed values that flow through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

CardType = Literal["mcq", "truefalse", "open"]
Status = Literal["active", "nullified", "draft", "retired"]
CARD_TYPES: tuple[CardType, ...] = ("mcq", "truefalse", "open")
STATUSES: tuple[Status, ...] = ("active", "nullified", "draft", "retired")
MAX_CHOICES = 40  # an mcq's choices: the note type's CSS marks the correct one among this many without scripts


@dataclass(frozen=True)
class Topic:
    slug: str
    title: str


@dataclass(frozen=True)
class Choice:
    text: str
    correct: bool
    line: int
    pin_last: bool = False  # `pin: last`: stays at the end, in source order, when the choices are shuffled


@dataclass(frozen=True)
class SourceRef:
    """Where in the exam a card comes from."""

    question: int | None = None
    part: str | None = None
    points: float | None = None


@dataclass(frozen=True)
class Retirement:
    """Why and when a published card was withdrawn; it keeps shipping so students' copies are marked."""

    version: str
    reason: str


@dataclass(frozen=True)
class TextField:
    """A Markdown field and the line where its text starts in the source file."""

    name: str
    text: str
    line: int


@dataclass(frozen=True)
class Card:
    id: str
    type: CardType
    topics: tuple[str, ...]
    question: TextField
    choices: tuple[Choice, ...]
    multiple: bool
    answer: bool | TextField | None
    explanation: TextField | None
    figure: str | None
    source: SourceRef | None
    status: Status
    notes: str
    path: str
    line: int
    retirement: Retirement | None = None
    shuffle: bool = True  # mcq: choices in a new order at each review (pinned ones stay last)

    @property
    def primary_topic(self) -> str:
        return self.topics[0]

    def text_fields(self) -> list[TextField]:
        """Every Markdown field of the card, choices included, in display order."""
        fields = [self.question]
        fields += [TextField(f"{choice_name(i)}.text", c.text, c.line) for i, c in enumerate(self.choices)]
        if isinstance(self.answer, TextField):
            fields.append(self.answer)
        if self.explanation is not None:
            fields.append(self.explanation)
        return fields


@dataclass(frozen=True)
class Deck:
    key: str
    title: str
    description: str
    source: str
    topics: tuple[Topic, ...]
    cards: tuple[Card, ...]
    path: str
    version: str = ""

    def topic(self, slug: str) -> Topic:
        return next(t for t in self.topics if t.slug == slug)


class NoteHead(NamedTuple):
    """What a card's note row holds besides its fields: its identity, tags and cards."""

    guid: str
    tags: str  # genanki's format: the tags joined by spaces, with a space at both ends
    card_ords: tuple[int, ...]  # the note type's templates that give this note a card


class NoteRow(NamedTuple):
    """A note as genanki writes it: its columns of the notes table, and the ords of its cards."""

    guid: str
    model_id: int
    tags: str
    fields: tuple[str, ...]  # in the note type's order; the writer joins them by \x1f
    sort_field: str
    card_ords: tuple[int, ...]


def choice_name(index: int) -> str:
    """A choice as students and messages name it, by its letter in the source order: `choices[B]`
    for the second (`choices[27]` past Z)."""
    return f"choices[{chr(ord('A') + index)}]" if index < 26 else f"choices[{index + 1}]"
