"""Subsets of a deck: filters by topic, type, tag and question, and a boolean query language.

Query grammar (case-insensitive keywords, `and` binds tighter than `or`):

    query := or ;  or := and ("or" and)* ;  and := not ("and" not)* ;
    not := "not" not | "(" query ")" | term ;  term := topic:SLUG | type:TYPE | tag:TAG | question:RANGES
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .assemble import card_tags
from .errors import UsageError
from .model import CARD_TYPES, Card, Deck

Predicate = Callable[[Deck, Card], bool]
FIELDS = ("topic", "type", "tag", "question")
_TOKEN = re.compile(r"\s*(?:(\()|(\))|([^\s()]+))")


class QueryError(UsageError):
    """A malformed query or filter, reported with what was expected."""


@dataclass(frozen=True)
class Selection:
    """Filters that combine with AND; values within one filter combine with OR."""

    topics: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    exclude_topics: tuple[str, ...] = ()
    questions: str | None = None
    query: str | None = None

    def is_empty(self) -> bool:
        return self == Selection()

    def describe(self) -> str:
        """A short human title of what was selected, e.g. `topic gmm-em, type mcq`."""
        parts = []
        if self.topics:
            parts.append("topic " + " or ".join(self.topics))
        if self.types:
            parts.append("type " + " or ".join(self.types))
        if self.tags:
            parts.append("tag " + " or ".join(self.tags))
        if self.exclude_topics:
            parts.append("without " + ", ".join(self.exclude_topics))
        if self.questions:
            parts.append(f"questions {self.questions}")
        if self.query:
            parts.append(self.query)
        return "; ".join(parts) or "all cards"


def compile_selection(selection: Selection, deck: Deck) -> Predicate:
    """One predicate for the whole selection, with every topic and type checked against `deck`."""
    checks: list[Predicate] = []
    if selection.topics:
        checks.append(_any_of([_term("topic", t, deck) for t in selection.topics]))
    if selection.types:
        checks.append(_any_of([_term("type", t, deck) for t in selection.types]))
    if selection.tags:
        checks.append(_any_of([_term("tag", t, deck) for t in selection.tags]))
    for slug in selection.exclude_topics:
        excluded = _term("topic", slug, deck)
        checks.append(lambda d, c, excluded=excluded: not excluded(d, c))
    if selection.questions:
        checks.append(_term("question", selection.questions, deck))
    if selection.query is not None:
        checks.append(parse_query(selection.query, deck))
    return lambda d, c: all(check(d, c) for check in checks)


def select(deck: Deck, cards: Sequence[Card], selection: Selection) -> list[Card]:
    """The cards of `deck` that the selection keeps; an empty result is an error listing the topics."""
    predicate = compile_selection(selection, deck)
    chosen = [c for c in cards if predicate(deck, c)]
    if not chosen:
        raise QueryError(f"no card matches {selection.describe()!r} in deck {deck.key}; topics: {_topic_list(deck)}")
    return chosen


def parse_query(text: str, deck: Deck) -> Predicate:
    tokens = _tokenize(text)
    position, predicate = _parse_or(tokens, 0, deck, text)
    if position != len(tokens):
        raise QueryError(f"query {text!r}: unexpected {tokens[position]!r} (expected 'and', 'or' or the end)")
    return predicate


def _tokenize(text: str) -> list[str]:
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            break
        tokens.append(match.group(1) or match.group(2) or match.group(3))
        position = match.end()
    if not tokens:
        raise QueryError("empty query: write terms like 'topic:gmm-em or type:open'")
    return tokens


def _parse_or(tokens: list[str], i: int, deck: Deck, text: str) -> tuple[int, Predicate]:
    i, left = _parse_and(tokens, i, deck, text)
    alternatives = [left]
    while i < len(tokens) and tokens[i].lower() == "or":
        i, right = _parse_and(tokens, i + 1, deck, text)
        alternatives.append(right)
    return i, _any_of(alternatives)


def _parse_and(tokens: list[str], i: int, deck: Deck, text: str) -> tuple[int, Predicate]:
    i, left = _parse_not(tokens, i, deck, text)
    conjuncts = [left]
    while i < len(tokens) and tokens[i].lower() == "and":
        i, right = _parse_not(tokens, i + 1, deck, text)
        conjuncts.append(right)
    return i, lambda d, c: all(p(d, c) for p in conjuncts)


def _parse_not(tokens: list[str], i: int, deck: Deck, text: str) -> tuple[int, Predicate]:
    if i >= len(tokens):
        raise QueryError(f"query {text!r} ends too early (expected a term like topic:SLUG)")
    token = tokens[i]
    if token.lower() == "not":
        i, inner = _parse_not(tokens, i + 1, deck, text)
        return i, lambda d, c: not inner(d, c)
    if token == "(":
        i, inner = _parse_or(tokens, i + 1, deck, text)
        if i >= len(tokens) or tokens[i] != ")":
            raise QueryError(f"query {text!r}: missing ')'")
        return i + 1, inner
    if token == ")" or token.lower() in ("and", "or"):
        raise QueryError(f"query {text!r}: unexpected {token!r} (expected a term like topic:SLUG)")
    field, sep, value = token.partition(":")
    if not sep or not value:
        raise QueryError(f"query {text!r}: {token!r} is not a term (write {' / '.join(f + ':...' for f in FIELDS)})")
    return i + 1, _term(field.lower(), value, deck)


def _term(field: str, value: str, deck: Deck) -> Predicate:
    if field == "topic":
        if value not in {t.slug for t in deck.topics}:
            raise QueryError(f"unknown topic {value!r}; topics of {deck.key}: {_topic_list(deck)}")
        return lambda d, c: value in c.topics
    if field == "type":
        if value not in CARD_TYPES:
            raise QueryError(f"unknown type {value!r} (expected one of: {', '.join(CARD_TYPES)})")
        return lambda d, c: c.type == value
    if field == "tag":
        wanted = value.lower()
        return lambda d, c: any(t.lower() == wanted or t.lower().startswith(wanted + "::") for t in card_tags(d, c))
    if field in ("question", "q"):
        numbers = parse_ranges(value)
        return lambda d, c: c.source is not None and c.source.question in numbers
    raise QueryError(f"unknown field {field!r} in {field}:{value} (expected one of: {', '.join(FIELDS)})")


def parse_ranges(text: str) -> frozenset[int]:
    """`1-12,33` -> {1, ..., 12, 33}."""
    numbers: set[int] = set()
    for part in text.split(","):
        match = re.fullmatch(r"\s*q?(\d+)\s*(?:-\s*q?(\d+)\s*)?", part, re.IGNORECASE)
        if not match:
            raise QueryError(f"question range {text!r}: {part!r} is not a number or a range like 1-12")
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        if high < low:
            raise QueryError(f"question range {text!r}: {part!r} goes backwards")
        numbers.update(range(low, high + 1))
    return frozenset(numbers)


def _any_of(predicates: list[Predicate]) -> Predicate:
    return lambda d, c: any(p(d, c) for p in predicates)


def _topic_list(deck: Deck) -> str:
    return ", ".join(t.slug for t in deck.topics)
