"""Deck directories to validated decks, reusing the validated cards of card files that did not change.

Validating a card file reads only its bytes, its deck's topics and the known figures (and examdeck's
code, which the cache's fingerprint covers); its path only names it in cards and problems. So with a
cache, a card file validated before *without any problem* is neither parsed nor validated again: its
cards come back from the cache under its path. A file with a problem is never kept, so it is parsed and
validated on every run and its problems are reported exactly as without a cache. The checks across
files (duplicate ids, an empty deck) and deck.yaml's own run every time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import sources
from .errors import Problem
from .model import Card, Deck
from .schema import merge_deck, validate_card_file, validate_deck_file
from .sources import DECK_FILE, RawFile, SourceFile, card_file_paths, parse_file, parse_files, parse_text, read_source

if TYPE_CHECKING:
    from .cache import BuildCache

__all__ = ["CardFile", "LoadedDeck", "load_deck_dir"]


@dataclass(frozen=True)
class CardFile:
    """One card file's valid cards, and the cache key they are kept under (None: not kept)."""

    path: str
    key: str | None
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class LoadedDeck:
    """A deck and the card files its cards come from, in order."""

    deck: Deck
    files: tuple[CardFile, ...]


class _Checked(NamedTuple):
    """A card file parsed and validated: its cards, its problems, and its parsed YAML when that is to be cached."""

    cards: list[Card]
    problems: list[Problem]
    parsed: SourceFile | None


def load_deck_dir(
    deck_dir: Path, known_figures: Collection[str], problems: list[Problem], *, cache: BuildCache | None = None
) -> LoadedDeck | None:
    """Parse and validate one deck directory; None (with problems appended) when deck.yaml is invalid."""
    deck_source = parse_file(deck_dir / DECK_FILE, problems, cache=cache)
    header = validate_deck_file(deck_source, problems) if deck_source is not None else None
    paths = card_file_paths(deck_dir)
    if deck_source is None or header is None:
        # Without valid topics the cards cannot be validated; their files' own problems are still reported.
        parse_files(paths, problems, cache=cache)
        return None
    raw_files = [f for f in (read_source(path, problems) for path in paths) if f is not None]
    files = _card_files(raw_files, header.topic_slugs, known_figures, problems, cache)
    deck = merge_deck(header, str(deck_dir), deck_source.path, [f.cards for f in files], problems)
    return LoadedDeck(deck, tuple(files))


def _card_files(
    raw_files: Sequence[RawFile],
    topic_slugs: Collection[str],
    known_figures: Collection[str],
    problems: list[Problem],
    cache: BuildCache | None,
) -> list[CardFile]:
    """Each file's valid cards: from the cache when its validated cards are there, else parsed and validated."""
    if cache is None or not cache.enabled:
        checked = _check_files([(f, None) for f in raw_files], topic_slugs, known_figures, keep_parsed=False)
        problems += [p for result in checked for p in result.problems]
        return [CardFile(f.shown, None, tuple(result.cards)) for f, result in zip(raw_files, checked)]
    from .cache import card_file_key, file_key

    digests = [file_key(f.raw) for f in raw_files]
    keys = [card_file_key(digest, topic_slugs, known_figures) for digest in digests]
    found: list[CardFile | None] = [None] * len(raw_files)
    todo: list[int] = []
    for index, (raw_file, key) in enumerate(zip(raw_files, keys)):
        cards = cache.card_file(key, raw_file.shown)
        if cards is None:
            todo.append(index)
            continue
        found[index] = CardFile(raw_file.shown, key, cards)
    items = [(raw_files[i], cache.source(digests[i], raw_files[i].shown)) for i in todo]
    for index, result in zip(todo, _check_files(items, topic_slugs, known_figures, keep_parsed=True)):
        problems += result.problems
        if result.parsed is not None:
            cache.store_source(digests[index], result.parsed)
        if not result.problems:
            cache.store_card_file(keys[index], result.cards)
        found[index] = CardFile(raw_files[index].shown, None if result.problems else keys[index], tuple(result.cards))
    return found  # type: ignore[return-value]


def _check_files(
    items: list[tuple[RawFile, SourceFile | None]], topic_slugs: Collection[str], known_figures: Collection[str], *,
    keep_parsed: bool,
) -> list[_Checked]:
    """``_check_file`` for each item, in order; a large batch to parse on two cores."""
    to_parse = sum(len(f.text) for f, parsed in items if parsed is None)
    if len(items) >= 4 and to_parse >= sources.PARALLEL_PARSE_MIN_BYTES:
        from .parallel import map_halves

        results = map_halves(_check_all, items, topic_slugs, known_figures, keep_parsed)
        if results is not None:
            return results
    return _check_all(items, topic_slugs, known_figures, keep_parsed)


def _check_all(
    items: list[tuple[RawFile, SourceFile | None]], topic_slugs: Collection[str], known_figures: Collection[str],
    keep_parsed: bool,
) -> list[_Checked]:
    return [_check_file(raw_file, parsed, topic_slugs, known_figures, keep_parsed) for raw_file, parsed in items]


def _check_file(
    raw_file: RawFile, parsed: SourceFile | None, topic_slugs: Collection[str], known_figures: Collection[str],
    keep_parsed: bool,
) -> _Checked:
    """Parse a file unless `parsed` is given, then validate it; `keep_parsed`: return a fresh parse
    without problems of a file that did not validate, to be cached (a valid file's cards are cached instead)."""
    problems: list[Problem] = []
    fresh = parsed is None
    source = parse_text(raw_file.text, raw_file.shown, problems) if fresh else parsed
    if source is None:
        return _Checked([], problems, None)
    parsed_cleanly = fresh and keep_parsed and not problems
    cards = validate_card_file(source, topic_slugs, known_figures, problems)
    return _Checked(cards, problems, source if parsed_cleanly and problems else None)
