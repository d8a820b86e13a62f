"""Validate parsed sources into typed decks and cards, collecting every problem at once."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any, NamedTuple

from .errors import Problem
from .model import CARD_TYPES, MAX_CHOICES, STATUSES, Card, Choice, Deck, Retirement, SourceRef, TextField, Topic, choice_name
from .sources import KeyPath, SourceFile, field_name

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CARD_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SLUG_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
DECK_KEYS = {"key", "title", "description", "source", "topics", "version"}
CARD_KEYS = {
    "id", "type", "topics", "question", "choices", "multiple", "answer", "explanation",
    "figure", "source", "status", "notes", "retired_in", "reason", "shuffle",
}
SOURCE_KEYS = {"question", "part", "points"}
CHOICE_KEYS = {"text", "correct", "pin"}


class _Collector:
    """Problems of one file, each located by the key path of the offending value."""

    def __init__(self, source: SourceFile, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems

    def add(self, key_path: KeyPath, field: str, message: str) -> None:
        self.problems.append(Problem(self.source.path, self.source.line(key_path), field, message))


class DeckHeader(NamedTuple):
    """A valid deck.yaml: everything of a deck but its cards."""

    key: str
    title: str
    description: str
    source: str
    topics: tuple[Topic, ...]
    version: str

    @property
    def topic_slugs(self) -> frozenset[str]:
        return frozenset(t.slug for t in self.topics)


def merge_deck(
    header: DeckHeader, directory: str, deck_file: str, card_lists: Iterable[Sequence[Card]], problems: list[Problem]
) -> Deck:
    """The deck of `header` with the cards of its files, in order; the checks across files (duplicate
    ids, an empty deck) append their problems. `problems` must already hold the files' own ones."""
    cards: list[Card] = []
    first_seen: dict[str, Card] = {}
    for file_cards in card_lists:
        for card in file_cards:
            first = first_seen.setdefault(card.id, card)
            if first is not card:
                where = f"{first.path}:{first.line}"
                problems.append(Problem(card.path, card.line, "id", f"duplicate id {card.id!r} (first defined at {where})"))
                continue
            cards.append(card)
    if not cards and not any(p.path.startswith(directory) for p in problems):
        problems.append(Problem(deck_file, 1, "", "the deck has no cards (add a card file next to deck.yaml)"))
    return Deck(header.key, header.title, header.description, header.source, header.topics, tuple(cards), directory,
                header.version)


def validate_deck_file(source: SourceFile, problems: list[Problem]) -> DeckHeader | None:
    """deck.yaml's key, title, description, source, topics and version; None (with problems) when invalid."""
    out = _Collector(source, problems)
    data = source.data
    if not isinstance(data, dict):
        out.add((), "", "deck.yaml must be a mapping with key, title and topics")
        return None
    _unknown_keys(out, (), data, DECK_KEYS, "")
    key = _required_str(out, (), data, "key")
    if key is not None and not SLUG.match(key):
        out.add(("key",), "key", f"deck key {key!r} must be lowercase letters, digits and dashes")
        key = None
    title = _required_str(out, (), data, "title")
    description = _optional_str(out, (), data, "description") or ""
    deck_source = _optional_str(out, (), data, "source") or ""
    version = data.get("version")
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        version = str(version)
    if version is not None and (not isinstance(version, str) or not SLUG_VERSION.match(version)):
        out.add(("version",), "version", "must be text like 2025-spring (letters, digits, '.', '-', '_')")
        version = None
    topics: list[Topic] = []
    raw_topics = data.get("topics")
    if not isinstance(raw_topics, list) or not raw_topics:
        out.add(("topics",), "topics", "must be a non-empty list of {slug, title}")
    else:
        seen: set[str] = set()
        for i, item in enumerate(raw_topics):
            path = ("topics", i)
            if not isinstance(item, dict):
                out.add(path, f"topics[{i}]", "must be a mapping with slug and title")
                continue
            _unknown_keys(out, path, item, {"slug", "title"}, f"topics[{i}].")
            slug = _required_str(out, path, item, "slug", f"topics[{i}].slug")
            topic_title = _required_str(out, path, item, "title", f"topics[{i}].title")
            if slug is not None and not SLUG.match(slug):
                out.add(path + ("slug",), f"topics[{i}].slug", f"{slug!r} must be lowercase letters, digits and dashes")
            elif slug is not None and slug in seen:
                out.add(path + ("slug",), f"topics[{i}].slug", f"duplicate topic {slug!r}")
            elif slug is not None and topic_title is not None:
                seen.add(slug)
                topics.append(Topic(slug, topic_title))
    if key is None or title is None or not topics:
        return None
    return DeckHeader(key, title, description, deck_source, tuple(topics), version or "")


def validate_card_file(
    source: SourceFile, topic_slugs: Collection[str], known_figures: Collection[str], problems: list[Problem]
) -> list[Card]:
    """The valid cards of one card file; every problem of the file is appended to `problems`."""
    out = _Collector(source, problems)
    data = source.data
    if not isinstance(data, dict) or "cards" not in data:
        out.add((), "cards", "a card file must be a mapping with a 'cards' list")
        return []
    _unknown_keys(out, (), data, {"cards"}, "")
    raw_cards = data["cards"]
    if not isinstance(raw_cards, list):
        out.add(("cards",), "cards", "must be a list of cards")
        return []
    cards = []
    for index, raw in enumerate(raw_cards):
        card = _validate_card(out, ("cards", index), raw, topic_slugs, known_figures)
        if card is not None:
            cards.append(card)
    return cards


def _validate_card(
    out: _Collector, path: KeyPath, raw: Any, topic_slugs: Collection[str], known_figures: Collection[str]
) -> Card | None:
    before = len(out.problems)
    if not isinstance(raw, dict):
        out.add(path, "", "a card must be a mapping (id, type, topics, question, ...)")
        return None
    _keys_in_block_scalars(out, path, raw, CARD_KEYS)
    if isinstance(raw.get("choices"), list):
        for i, item in enumerate(raw["choices"]):
            if isinstance(item, dict):
                _keys_in_block_scalars(out, path + ("choices", i), item, CHOICE_KEYS)
    _unknown_keys(out, path, raw, CARD_KEYS, "")
    card_id = _required_str(out, path, raw, "id")
    if card_id is not None and not CARD_ID.match(card_id):
        out.add(path + ("id",), "id", f"{card_id!r} must be lowercase letters, digits, '-' or '_'")
    card_type = _required_str(out, path, raw, "type")
    if card_type is not None and card_type not in CARD_TYPES:
        out.add(path + ("type",), "type", f"unknown type {card_type!r} (expected one of: {', '.join(CARD_TYPES)})")
        card_type = None
    topics = _topics(out, path, raw, topic_slugs)
    question = _text_field(out, path, raw, "question", required=True)
    explanation = _text_field(out, path, raw, "explanation", required=False)
    status = _optional_str(out, path, raw, "status") or "active"
    if status not in STATUSES:
        out.add(path + ("status",), "status", f"unknown status {status!r} (expected one of: {', '.join(STATUSES)})")
    notes = _optional_str(out, path, raw, "notes") or ""
    retirement = _retirement(out, path, raw, status)
    figure = _optional_str(out, path, raw, "figure")
    if figure is not None and figure not in known_figures:
        out.add(path + ("figure",), "figure", f"unknown figure {figure!r} (known: {', '.join(sorted(known_figures)) or 'none'})")
    source = _source(out, path, raw)
    multiple = raw.get("multiple", False)
    if not isinstance(multiple, bool):
        out.add(path + ("multiple",), "multiple", "must be true or false")
        multiple = False
    shuffle = raw.get("shuffle", True)
    if not isinstance(shuffle, bool):
        out.add(path + ("shuffle",), "shuffle", "must be true or false")
        shuffle = True
    choices: tuple[Choice, ...] = ()
    answer: bool | TextField | None = None
    if card_type == "mcq":
        choices = _choices(out, path, raw, multiple, draft=status == "draft")
        if "answer" in raw:
            out.add(path + ("answer",), "answer", "an mcq's answer is its correct choice: mark it with 'correct: true'")
        if shuffle and choices:
            for line, field, message in shuffled_choice_problems(choices, explanation):
                out.problems.append(Problem(out.source.path, line, field, message))
    else:
        for key in ("choices", "multiple", "shuffle"):
            if key in raw and card_type is not None:
                out.add(path + (key,), key, f"only mcq cards have {key} (this card is {card_type})")
    if card_type == "truefalse":
        answer = raw.get("answer")
        if answer is None and status == "draft" and "answer" not in raw:
            pass  # a draft whose answer is not known yet: never built (see pipeline.answer_unknown)
        elif not isinstance(answer, bool):
            out.add(path + ("answer",), "answer", "a truefalse card needs 'answer: true' or 'answer: false'")
    elif card_type == "open":
        answer = _text_field(out, path, raw, "answer", required=True)
    if len(out.problems) > before or card_id is None or card_type is None or question is None or not topics:
        return None
    return Card(
        id=card_id,
        type=card_type,  # type: ignore[arg-type]
        topics=topics,
        question=question,
        choices=choices,
        multiple=multiple,
        answer=answer,
        explanation=explanation,
        figure=figure,
        source=source,
        status=status,  # type: ignore[arg-type]
        notes=notes,
        path=out.source.path,
        line=out.source.line(path),
        retirement=retirement,
        shuffle=shuffle,
    )


def _retirement(out: _Collector, path: KeyPath, raw: dict, status: str) -> Retirement | None:
    version = raw.get("retired_in")
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        version = str(version)
    reason = _optional_str(out, path, raw, "reason")
    if status != "retired":
        for key in ("retired_in", "reason"):
            if key in raw:
                out.add(path + (key,), key, "only retired cards have this (set 'status: retired')")
        return None
    if not isinstance(version, str) or not version.strip():
        out.add(path + ("retired_in",), "retired_in", "a retired card needs 'retired_in: <release version>'")
    if reason is None and "reason" not in raw:
        out.add(path, "reason", "a retired card needs a 'reason' that students will see")
    if not isinstance(version, str) or not version.strip() or reason is None:
        return None
    return Retirement(version.strip(), reason)


def _topics(out: _Collector, path: KeyPath, raw: dict, topic_slugs: Collection[str]) -> tuple[str, ...]:
    value = raw.get("topics")
    if value is None:
        out.add(path, "topics", "missing required field")
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        out.add(path + ("topics",), "topics", "must be a non-empty list of topic slugs")
        return ()
    for i, slug in enumerate(value):
        if slug not in topic_slugs:
            out.add(path + ("topics", i), "topics", f"unknown topic {slug!r} (deck.yaml lists: {', '.join(sorted(topic_slugs))})")
    if len(set(value)) != len(value):
        out.add(path + ("topics",), "topics", "a topic is listed twice")
    return tuple(dict.fromkeys(value))


def _choices(out: _Collector, path: KeyPath, raw: dict, multiple: bool, draft: bool = False) -> tuple[Choice, ...]:
    value = raw.get("choices")
    if not isinstance(value, list) or len(value) < 2:
        out.add(path + ("choices",), "choices", "an mcq needs a list of at least two choices ({text, correct})")
        return ()
    if len(value) > MAX_CHOICES:
        out.add(path + ("choices",), "choices", f"{len(value)} choices: an mcq has at most {MAX_CHOICES} (split the question)")
        return ()
    choices = []
    for i, item in enumerate(value):
        item_path = path + ("choices", i)
        field = field_name(("choices", i))  # by letter, as students see it: choices[B]
        if not isinstance(item, dict):
            out.add(item_path, field, "a choice must be a mapping with text and correct")
            continue
        _unknown_keys(out, item_path, item, CHOICE_KEYS, f"{field}.")
        text = _text_field(out, item_path, item, "text", required=True, field=f"{field}.text")
        correct = item.get("correct")
        if not isinstance(correct, bool):
            out.add(item_path + ("correct",), f"{field}.correct", "must be true or false")
            continue
        pin = item.get("pin")
        if pin is not None and pin != "last":
            out.add(item_path + ("pin",), f"{field}.pin", "the only pin is 'pin: last' (the choice stays at the end when choices are shuffled)")
            continue
        if pin is None and choices and choices[-1].pin_last:
            out.add(item_path, field, "comes after a choice pinned last: move the pinned choices to the end of the list")
            continue
        if text is not None:
            choices.append(Choice(text.text, correct, text.line, pin_last=pin == "last"))
    if len(choices) == len(value):
        n_correct = sum(c.correct for c in choices)
        if draft and n_correct == 0:
            pass  # a draft whose answer is not known yet: never built (see pipeline.answer_unknown)
        elif multiple and n_correct == 0:
            out.add(path + ("choices",), "choices", "at least one choice must be correct")
        elif not multiple and n_correct != 1:
            out.add(
                path + ("choices",), "choices",
                f"exactly one choice must be correct (found {n_correct}); set 'multiple: true' for several",
            )
    return tuple(choices)


def _source(out: _Collector, path: KeyPath, raw: dict) -> SourceRef | None:
    value = raw.get("source")
    if value is None:
        return None
    src_path = path + ("source",)
    if not isinstance(value, dict):
        out.add(src_path, "source", "must be a mapping like {question: 3, points: 2}")
        return None
    _unknown_keys(out, src_path, value, SOURCE_KEYS, "source.")
    question = value.get("question")
    if question is not None and (isinstance(question, bool) or not isinstance(question, int) or question < 1):
        out.add(src_path + ("question",), "source.question", "must be a positive whole number")
        question = None
    part = value.get("part")
    if part is not None and not isinstance(part, (str, int)) or isinstance(part, bool):
        out.add(src_path + ("part",), "source.part", "must be text like 'a'")
        part = None
    points = value.get("points")
    if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0):
        out.add(src_path + ("points",), "source.points", "must be a non-negative number")
        points = None
    return SourceRef(question, None if part is None else str(part), points)


def _shorten(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _text_field(
    out: _Collector, path: KeyPath, raw: dict, key: str, *, required: bool, field: str | None = None
) -> TextField | None:
    field = field or key
    value = raw.get(key)
    if value is None:
        if required:
            out.add(path, field, "missing required field")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # As written (`0.50`, `010`), not as YAML's number (`0.5`, `8`).
        value = out.source.written.get(path + (key,), str(value))
    if not isinstance(value, str):
        hint = ": YAML reads an unquoted yes/no/true/false/on/off as true/false, so quote the text" if isinstance(value, bool) else ""
        out.add(path + (key,), field, f"must be text (got {_type_name(value)}){hint}")
        return None
    comment = out.source.comments.get(path + (key,))
    if comment is not None:
        out.add(path + (key,), field, (
            f"YAML reads the end of this line, {_shorten(comment)!r}, as a comment and drops it from the text: put the "
            "text in quotes or a block scalar (key: | and the text on the next lines); a real comment goes on a line of its own"
        ))
        return None
    if required and not value.strip():
        out.add(path + (key,), field, "must not be empty")
        return None
    line = out.source.line(path + (key,)) + out.source.text_offsets.get(path + (key,), 0)
    return TextField(field, value, line)


def _required_str(out: _Collector, path: KeyPath, raw: dict, key: str, field: str | None = None) -> str | None:
    field = field or key
    if key not in raw or raw[key] is None:
        out.add(path, field, "missing required field")
        return None
    return _optional_str(out, path, raw, key, field)


def _optional_str(out: _Collector, path: KeyPath, raw: dict, key: str, field: str | None = None) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        out.add(path + (key,), field or key, f"must be non-empty text (got {_type_name(value)})")
        return None
    return value.strip() if key != "description" else value


_KEY_LINE = re.compile(r"^[ \t]*([a-z_]+):(?:[ \t]|$)")


def _keys_in_block_scalars(out: _Collector, path: KeyPath, raw: dict, keys: set[str]) -> None:
    """A key indented into the block scalar above it (`answer:` indented like the question's text)
    is text to YAML: name it, rather than only reporting the key as missing."""
    for key, value in raw.items():
        if not isinstance(value, str) or (path + (key,)) not in out.source.text_offsets:
            continue
        first = out.source.line(path + (key,)) + 1
        for index, text_line in enumerate(value.split("\n")):
            match = _KEY_LINE.match(text_line)
            if match and match.group(1) in keys and match.group(1) not in raw:
                name = match.group(1)
                field = field_name(path[2:] + (name,)) if path[:1] == ("cards",) else name
                out.problems.append(Problem(
                    out.source.path, first + index, field,
                    f"'{name}:' is indented into the block scalar of '{key}' (the text under '{key}: |'), so YAML reads "
                    f"it as text: indent '{name}:' like '{key}:'",
                ))


def _unknown_keys(out: _Collector, path: KeyPath, raw: dict, allowed: set[str], prefix: str) -> None:
    for key in raw:
        if key not in allowed:
            name = key if isinstance(key, str) else repr(key)
            message = f"unknown key (allowed: {', '.join(sorted(allowed))})"
            close = difflib.get_close_matches(name, sorted(allowed), n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
            elif any(c in name for c in "$\\()[] "):
                # `{text: $f(a, b)$, correct: true}`: the comma ended the text inside { ... }.
                message += "; it looks like the rest of a text that a ',' cut short inside { ... }: put that text in quotes"
            out.add(path + (key,), f"{prefix}{name}", message)


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "a mapping"}.get(
        type(value), type(value).__name__
    )


# --- choices that move: a shuffled card must not point at a choice by its place ----------------

_MATH_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$|`[^`\n]*`", re.DOTALL)
_CHOICE_WORD = r"(?i:options?|choices?|answers?|alternatives?|items?)"
_PLACE_REFERENCES = (
    # "option B", "answer (C)", "choices A and D", "the answer is B"
    re.compile(_CHOICE_WORD + r"\s+(?:(?i:is|are)\s+)?\(?[A-H]\)?(?![\w'])"),
    # "option c", "choice (b)" (a lowercase letter only after option or choice: "answer a question" is English)
    re.compile(r"\b(?i:options?|choices?)\s+\(?[a-h]\)?(?![\w'])"),
    # "(c)" on its own ("(A)" is as often a named dataset or statement), "(B) is wrong"
    re.compile(r"(?<![\w\\])\([a-h]\)(?!\w)"),
    re.compile(r"(?<![\w\\])\([A-H]\)\s+(?i:is|are)\s+(?i:correct|wrong|incorrect|true|false|right)\b"),
    # "the answer is the last one"
    re.compile(r"(?i)\banswer\s+is\s+the\s+(?:first|second|third|fourth|fifth|sixth|seventh|eighth|last)\b"),
    # "the second option", "the last choice"
    re.compile(r"(?i)\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|last)\s+(?:options?|choices?|answers?|alternatives?)\b"),
)
_POSITIONAL_CHOICE = re.compile(
    r"(?i)\b(?:none|all|both|neither|either|any|each)\s+of\s+(?:the\s+)?(?:above|previous|preceding|former|latter|following)\b"
)


def shuffled_choice_problems(choices: Sequence[Choice], explanation: TextField | None) -> list[tuple[int, str, str]]:
    """What breaks when an mcq's choices are shown in a new order at each review, as (line, field, message).

    A letter or place named in the explanation ("option B", "(c)", "the second answer") points at
    another choice once the choices move; a choice such as "none of the above" means something
    else when it is not last. Formulas and code are not searched. Rule: issue 17 (shuffled choices).
    """
    found = []
    if explanation is not None:
        text = _MATH_OR_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), explanation.text)
        for pattern in _PLACE_REFERENCES:
            for match in pattern.finditer(text):
                line = explanation.line + text.count("\n", 0, match.start())
                found.append((line, explanation.name, (
                    f"{match.group().strip()!r} names a choice by its place, but the choices are shuffled at every review: "
                    "name the choice by its content, or set 'shuffle: false' on the card"
                )))
    for i, choice in enumerate(choices):
        match = _POSITIONAL_CHOICE.search(_MATH_OR_CODE.sub(" ", choice.text))
        if match and not choice.pin_last:
            found.append((choice.line, f"{choice_name(i)}.text", (
                f"{match.group()!r} depends on the choice's place, but the choices are shuffled at every review: "
                "add 'pin: last' to the choice (pinned choices stay at the end), or set 'shuffle: false' on the card"
            )))
    return sorted(found)
