"""What an importer produces: plain cards in our format, the deck they belong to, and warnings."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..model import CardType, SourceRef, Status, Topic


@dataclass(frozen=True)
class ImportWarning:
    """Something the importer could not carry over faithfully: `path:line: warning: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        location = f"{self.path}:{self.line}" if self.line else self.path
        return f"{location}: warning: {self.message}"


@dataclass(frozen=True)
class ImportedChoice:
    text: str
    correct: bool
    pin_last: bool = False  # stays last when choices are shuffled (`pin: last`), e.g. after AMC's \lastchoices


@dataclass(frozen=True)
class ImportedCard:
    """One card as it will be written; `file` is the card file (e.g. `part1-mcq.yaml`) it goes to."""

    id: str
    type: CardType
    topics: tuple[str, ...]
    question: str
    file: str
    choices: tuple[ImportedChoice, ...] = ()
    multiple: bool = False
    answer: bool | str | None = None
    explanation: str = ""
    source: SourceRef | None = None
    status: Status = "active"
    notes: str = ""
    line: int = 0  # where the question starts in the imported exam, for messages

    def to_data(self) -> dict[str, Any]:
        """The card as card-file data, keys in the order they are written; text fields end with a newline."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.status != "active":
            data["status"] = self.status
        data["topics"] = list(self.topics)
        source = source_data(self.source)
        if source:
            data["source"] = source
        data["question"] = block_text(self.question)
        notes = self.notes
        if self.type == "mcq":
            if self.multiple:
                data["multiple"] = True
            pins, shuffle, why = choice_order(self)
            if not shuffle:
                data["shuffle"] = False
                notes = (notes.rstrip() + "\n" if notes.strip() else "") + why
            data["choices"] = [{"text": clean_text(c.text).strip(), "correct": c.correct, **({"pin": "last"} if pin else {})}
                               for c, pin in zip(self.choices, pins)]
        elif isinstance(self.answer, str):
            data["answer"] = block_text(self.answer)
        elif self.answer is not None:
            data["answer"] = self.answer
        if self.explanation:
            data["explanation"] = block_text(self.explanation)
        if notes:
            data["notes"] = block_text(notes)
        return data


def choice_order(card: ImportedCard) -> tuple[list[bool], bool, str]:
    """Which choices to pin last, whether to shuffle, and why not, so that the imported card validates
    and means what the exam meant: "none of the above" at the end of the exam's list is pinned there;
    elsewhere, or with an explanation naming choices by their place ("option B"), the card keeps the
    exam's order (``shuffle: false``), said in its notes. Rule: ``schema.shuffled_choice_problems``."""
    from ..model import Choice, TextField
    from ..schema import shuffled_choice_problems

    pins = [c.pin_last for c in card.choices]
    for i in reversed(range(len(pins))):  # the exam's trailing "none of the above" choices
        if pins[i] or shuffled_choice_problems((Choice(card.choices[i].text, False, 0),), None):
            pins[i] = True
        else:
            break
    choices = tuple(Choice(c.text, c.correct, 0, pin) for c, pin in zip(card.choices, pins))
    explanation = TextField("explanation", card.explanation, 1) if card.explanation else None
    if not shuffled_choice_problems(choices, explanation):
        return pins, True, ""
    return pins, False, ("Kept in the exam's order (shuffle: false): the explanation or a choice refers to a choice by its "
                         "place. Name choices by their content, then remove shuffle: false to shuffle them at each review.")


@dataclass(frozen=True)
class DeckMeta:
    """The deck.yaml of an imported deck."""

    key: str
    title: str
    topics: tuple[Topic, ...]
    description: str = ""
    source: str = ""

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "title": self.title}
        if self.description:
            data["description"] = block_text(self.description)
        if self.source:
            data["source"] = self.source
        data["topics"] = [{"slug": t.slug, "title": t.title} for t in self.topics]
        return data


@dataclass(frozen=True)
class ImportResult:
    """An imported exam: its cards, the topics they use (in order of appearance), and warnings."""

    cards: tuple[ImportedCard, ...]
    topics: tuple[Topic, ...]
    warnings: tuple[ImportWarning, ...] = field(default=())
    images: tuple[tuple[str, bytes], ...] = field(default=())  # (file name in the deck's images/, content)


def clean_text(text: str) -> str:
    """Text YAML can hold: unified line ends, no control characters, no trailing blanks."""
    text = re.sub(r"\r\n?|[\u2028\u2029\x85]", "\n", text)
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs", "Co"))
    return "\n".join(line.rstrip() for line in text.split("\n"))


def block_text(text: str) -> str:
    """A text field as written in a `|` block: clean, one final newline (empty stays empty)."""
    text = clean_text(text).strip("\n")
    return text + "\n" if text.strip() else ""


def source_data(source: SourceRef | None) -> dict[str, Any]:
    if source is None:
        return {}
    data: dict[str, Any] = {}
    if source.question is not None:
        data["question"] = source.question
    if source.part is not None:
        data["part"] = source.part
    if source.points is not None:
        data["points"] = int(source.points) if float(source.points).is_integer() else source.points
    return data


def ascii_fold(text: str) -> str:
    """`Édit` -> `Edit`: drop accents so that names become valid slugs."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def slugify(name: str, *, keep_underscore: bool = False) -> str:
    """`Linear regression / Loss` -> `linear-regression-loss`; empty when nothing is left.

    Latin letters lose their accents (`Édit` -> `edit`, as before 0.2, so ids stay stable); a name
    with letters of another script is transliterated by python-slugify (`Άλγεβρα` -> `algebra`,
    `Физика` -> `fizika`, Thai and CJK too) instead of losing them.
    """
    allowed = "a-z0-9_" if keep_underscore else "a-z0-9"
    folded = ascii_fold(name)
    if sum(c.isalnum() for c in folded) < sum(c.isalnum() for c in unicodedata.normalize("NFKD", name) if c.isascii() or
                                              unicodedata.category(c)[0] in "LN"):
        from slugify import slugify as transliterate

        folded = transliterate(name, regex_pattern=f"[^-{allowed}]+", lowercase=True)
    slug = re.sub(f"[^{allowed}]+", "-", folded.lower())
    return re.sub(r"-{2,}", "-", slug).strip("-_")


def unique_slug(slug: str, used: set[str], fallback: str) -> str:
    """`slug`, or `slug-2`, `slug-3`... when taken (`fallback` when empty); the result is added to `used`."""
    base = slug or fallback
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}-{n}", n + 1
    used.add(candidate)
    return candidate
def topic_title(name: str) -> str:
    """A readable title from a group name: `linear_regression` -> `Linear regression`."""
    words = re.sub(r"[_\s]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name
