"""Subsets of a deck: filters by topic, type, tag and question, and a query language like Anki's search.

Queries follow Anki's search syntax where the two overlap (checked against Anki 26.9.3's own search):
terms next to each other must all match (`topic:gmm-em type:mcq`), `or` between terms matches
either, `-term` or `not term` excludes, and parentheses group. As in Anki, AND binds tighter than
OR: `topic:a or topic:b type:mcq` is `topic:a or (topic:b type:mcq)`. Keywords are case-insensitive.

    query := or ;  or := and ("or" and)* ;  and := unary (["and"] unary)* ;
    unary := ("not" | "-") unary | "(" query ")" | term ;
    term  := topic:SLUG | type:TYPE | tag:TAG | question:RANGES  (q:RANGES for short)

A query is parsed into plain values (Term, Not, AllOf, AnyOf) that both select the cards and
describe the selection in words, for the title of a subset deck.
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
TYPE_WORDS = {"mcq": "multiple choice", "truefalse": "true/false", "open": "open questions"}
# A leading '-' negates what follows it, as in Anki; elsewhere it is part of the term (topic:gmm-em, question:1-12).
_TOKEN = re.compile(r"\s*(?:(\()|(\))|(-)(?=[^\s)])|([^\s()]+))")


class QueryError(UsageError):
    """A malformed query or filter, reported with what was expected."""


@dataclass(frozen=True)
class Term:
    """One `field:value` term; `field` is one of FIELDS."""

    field: str
    value: str


@dataclass(frozen=True)
class Not:
    inner: Query


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Query, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Query, ...]


Query = Term | Not | AllOf | AnyOf


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
        """The selection as the user wrote it, e.g. `topic gmm-em; type mcq` (for error messages)."""
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

    def as_query(self) -> Query | None:
        """The whole selection as one query (None: everything); raises QueryError for a malformed --query."""
        parts: list[Query] = []
        for field, values in (("topic", self.topics), ("type", self.types), ("tag", self.tags)):
            if values:
                parts.append(_any([Term(field, v) for v in values]))
        parts += [Not(Term("topic", slug)) for slug in self.exclude_topics]
        if self.questions:
            parts.append(Term("question", self.questions))
        if self.query is not None:
            parts.append(parse_query_text(self.query))
        return _all(parts) if parts else None


def compile_selection(selection: Selection, deck: Deck) -> Predicate:
    """One predicate for the whole selection, with every topic and type checked against `deck`."""
    query = selection.as_query()
    return (lambda d, c: True) if query is None else compile_query(query, deck)


def select(deck: Deck, cards: Sequence[Card], selection: Selection) -> list[Card]:
    """The cards of `deck` that the selection keeps; an empty result is an error listing the topics."""
    predicate = compile_selection(selection, deck)
    chosen = [c for c in cards if predicate(deck, c)]
    if not chosen:
        raise QueryError(f"no card matches {selection.describe()!r} in deck {deck.key}; topics: {_topic_list(deck)}")
    return chosen


def subset_title(deck: Deck, selection: Selection) -> str:
    """The default title of a subset deck: the deck's title and, in words, what was selected.

    E.g. `ML exam ((K-means or GMM), without open questions)`, never the raw query; `::` (Anki's
    subdeck separator, found in tags) is written `/`, so the title stays one deck.
    """
    query = selection.as_query()
    if query is None:
        return deck.title
    return f"{deck.title} ({describe_query(query, deck).replace('::', '/')})"


def describe_query(query: Query, deck: Deck) -> str:
    """A query in words: topic titles and type names; AND as `, `, OR as ` or `, NOT as `without`,
    parentheses where a group is nested in the other kind."""
    if isinstance(query, Term):
        if query.field == "topic":
            return next((t.title for t in deck.topics if t.slug == query.value), query.value)
        if query.field == "type":
            return TYPE_WORDS.get(query.value, query.value)
        if query.field == "tag":
            return f"tag {query.value}"
        numbers = parse_ranges(query.value)
        return f"question {min(numbers)}" if len(numbers) == 1 else f"questions {query.value}"
    if isinstance(query, Not):
        inner = describe_query(query.inner, deck)
        return f"without ({inner})" if isinstance(query.inner, (AllOf, AnyOf)) else f"without {inner}"
    # AND as ', ' and OR as ' or ': topic titles may say "and" themselves (e.g. "Gaussian mixtures and EM").
    if isinstance(query, AllOf):
        return ", ".join(f"({describe_query(p, deck)})" if isinstance(p, AnyOf) else describe_query(p, deck) for p in query.parts)
    return " or ".join(f"({describe_query(p, deck)})" if isinstance(p, AllOf) else describe_query(p, deck) for p in query.parts)


def parse_query(text: str, deck: Deck) -> Predicate:
    """`text` as one predicate over the cards of `deck`; raises QueryError."""
    return compile_query(parse_query_text(text), deck)


def parse_query_text(text: str) -> Query:
    """Parse a query (see the module's grammar) into plain values; raises QueryError saying what was expected."""
    tokens = _tokenize(text)
    position, query = _parse_or(tokens, 0, text)
    if position != len(tokens):
        raise QueryError(f"query {text!r}: unexpected {tokens[position]!r} (expected a term, 'or' or the end)")
    return query


def compile_query(query: Query, deck: Deck) -> Predicate:
    """A predicate for `query`, with every topic and type checked against `deck` first."""
    if isinstance(query, Term):
        return _term(query.field, query.value, deck)
    if isinstance(query, Not):
        inner = compile_query(query.inner, deck)
        return lambda d, c: not inner(d, c)
    parts = [compile_query(p, deck) for p in query.parts]
    if isinstance(query, AllOf):
        return lambda d, c: all(p(d, c) for p in parts)
    return lambda d, c: any(p(d, c) for p in parts)


def _tokenize(text: str) -> list[str]:
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            break
        tokens.append(next(g for g in match.groups() if g))
        position = match.end()
    if not tokens:
        raise QueryError("empty query: write terms like '(topic:gmm-em or topic:kmeans) -type:open'")
    return tokens


def _parse_or(tokens: list[str], i: int, text: str) -> tuple[int, Query]:
    i, left = _parse_and(tokens, i, text)
    alternatives = [left]
    while i < len(tokens) and tokens[i].lower() == "or":
        i, right = _parse_and(tokens, i + 1, text)
        alternatives.append(right)
    return i, _any(alternatives)


def _parse_and(tokens: list[str], i: int, text: str) -> tuple[int, Query]:
    i, left = _parse_unary(tokens, i, text)
    conjuncts = [left]
    while i < len(tokens) and tokens[i] != ")" and tokens[i].lower() != "or":
        if tokens[i].lower() == "and":  # explicit AND; two terms side by side are an implicit one
            i += 1
        i, right = _parse_unary(tokens, i, text)
        conjuncts.append(right)
    return i, _all(conjuncts)


def _parse_unary(tokens: list[str], i: int, text: str) -> tuple[int, Query]:
    if i >= len(tokens):
        raise QueryError(f"query {text!r} ends too early (expected a term like topic:SLUG)")
    token = tokens[i]
    if token.lower() == "not" or token == "-":
        i, inner = _parse_unary(tokens, i + 1, text)
        return i, Not(inner)
    if token == "(":
        i, inner = _parse_or(tokens, i + 1, text)
        if i >= len(tokens) or tokens[i] != ")":
            raise QueryError(f"query {text!r}: missing ')'")
        return i + 1, inner
    if token == ")" or token.lower() in ("and", "or"):
        raise QueryError(f"query {text!r}: unexpected {token!r} (expected a term like topic:SLUG)")
    field, sep, value = token.partition(":")
    if not sep or not value:
        raise QueryError(f"query {text!r}: {token!r} is not a term (write {' / '.join(f + ':...' for f in FIELDS)})")
    field = field.lower()
    return i + 1, Term("question" if field == "q" else field, value)


def _all(parts: list[Query]) -> Query:
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _any(parts: list[Query]) -> Query:
    return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))


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
    if field == "question":
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


def _topic_list(deck: Deck) -> str:
    return ", ".join(t.slug for t in deck.topics)
