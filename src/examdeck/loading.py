"""Deck directories to validated decks, reusing the validated cards of card files that did not change.

Validating a card file reads only its bytes, its deck's topics and the known figures (and examdeck's
code, which the cache's fingerprint covers); its path only names it in cards and problems. So with a
cache, a card file validated before *without any problem* is neither parsed nor validated again: its
cards come back from the cache under its path. A file with a problem is never kept, so it is parsed and
validated on every run and its problems are reported exactly as without a cache. The checks across
files (duplicate ids, an empty deck) and deck.yaml's own run every time.

Without a cache, the cards of each valid file can be rendered in the same pass (``render=True``),
and their notes' heads made (guids, tags, cards: all of a note but its fields): a large deck then
goes through every per-card step on two cores, with one second process.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import sources
from .codec import decode_cards, decode_heads, decode_rendered, encode_cards, encode_heads, encode_rendered
from .errors import Problem
from .model import Card, Deck, NoteHead
from .render import RenderedCard, render_card
from .schema import DeckHeader, merge_deck, validate_card_file, validate_deck_file
from .sources import DECK_FILE, RawFile, SourceFile, card_file_paths, parse_file, parse_files, parse_text, read_source

if TYPE_CHECKING:
    from .cache import BuildCache

__all__ = ["CardFile", "LoadedDeck", "load_deck_dir"]


class CardFile(NamedTuple):
    """One card file's valid cards, the cache key they are kept under (None: not kept), and the
    cards rendered and their note heads when loading was asked to render them (else None)."""

    path: str
    key: str | None
    cards: tuple[Card, ...]
    rendered: tuple[RenderedCard, ...] | None = None
    heads: tuple[NoteHead, ...] | None = None


class LoadedDeck(NamedTuple):
    """A deck and the card files its cards come from, in order."""

    deck: Deck
    files: tuple[CardFile, ...]


class _Checked(NamedTuple):
    """A card file parsed and validated: its path as shown, its cards, its problems, its parsed YAML
    when that is to be cached, and its rendered cards and their note heads when asked for."""

    path: str
    cards: list[Card]
    problems: list[Problem]
    parsed: SourceFile | None
    rendered: tuple[RenderedCard, ...] | None
    heads: tuple[NoteHead, ...] | None


class _How(NamedTuple):
    """What checking a card file needs besides the file."""

    topic_slugs: Collection[str]
    known_figures: Collection[str]
    keep_parsed: bool  # return the parse of a file that did not validate, to be cached
    render_for: DeckHeader | None  # also render the cards of a valid file, and make their note heads


def load_deck_dir(
    deck_dir: Path, known_figures: Collection[str], problems: list[Problem], *, cache: BuildCache | None = None,
    render: bool = False,
) -> LoadedDeck | None:
    """Parse and validate one deck directory; None (with problems appended) when deck.yaml is invalid.
    `render` (without a cache only): also render the cards of each valid file."""
    deck_source = parse_file(deck_dir / DECK_FILE, problems, cache=cache)
    header = validate_deck_file(deck_source, problems) if deck_source is not None else None
    paths = card_file_paths(deck_dir)
    if deck_source is None or header is None:
        # Without valid topics the cards cannot be validated; their files' own problems are still reported.
        parse_files(paths, problems, cache=cache)
        return None
    with_cache = cache is not None and cache.enabled
    raw_files = [f for f in (read_source(path, problems, digest=with_cache) for path in paths) if f is not None]
    how = _How(header.topic_slugs, known_figures, with_cache, header if render and not with_cache else None)
    files = _card_files(raw_files, how, problems, cache if with_cache else None)
    deck = merge_deck(header, str(deck_dir), deck_source.path, [f.cards for f in files], problems)
    return LoadedDeck(deck, tuple(files))


def _card_files(raw_files: Sequence[RawFile], how: _How, problems: list[Problem], cache: BuildCache | None) -> list[CardFile]:
    """Each file's valid cards: from the cache when its validated cards are there, else parsed and validated."""
    if cache is None:
        checked = _check_files([(f, None) for f in raw_files], how)
        problems += [p for result in checked for p in result.problems]
        return [CardFile(f.shown, None, tuple(r.cards), r.rendered, r.heads) for f, r in zip(raw_files, checked)]
    from .cache import card_file_key

    keys = [card_file_key(f.digest, how.topic_slugs, how.known_figures) for f in raw_files]
    cached = [cache.card_file(key, f.shown) for f, key in zip(raw_files, keys)]
    todo = [index for index, cards in enumerate(cached) if cards is None]
    items = [(raw_files[i], cache.source(raw_files[i].digest, raw_files[i].shown)) for i in todo]
    results = dict(zip(todo, _check_files(items, how)))
    files = []
    for index, (raw_file, key, cards) in enumerate(zip(raw_files, keys, cached)):
        if cards is not None:
            files.append(CardFile(raw_file.shown, key, cards))
            continue
        result = results[index]
        problems += result.problems
        if result.parsed is not None:
            cache.store_source(raw_file.digest, result.parsed)
        if not result.problems:
            cache.store_card_file(key, result.cards)
        files.append(CardFile(raw_file.shown, None if result.problems else key, tuple(result.cards)))
    return files


def _check_files(items: list[tuple[RawFile, SourceFile | None]], how: _How) -> list[_Checked]:
    """``_check_file`` for each item, in order; a large batch to parse on two cores."""
    to_parse = sum(len(f.text) for f, parsed in items if parsed is None)
    if len(items) >= 4 and to_parse >= sources.PARALLEL_PARSE_MIN_BYTES:
        from .parallel import map_halves

        results = map_halves(_check_all, items, how, pack=_pack, unpack=_unpack)
        if results is not None:
            return results
    return _check_all(items, how)


def _pack(results: list[_Checked]) -> list[tuple[Any, ...]]:
    """Results as plain data, to send between processes (see ``map_halves``)."""
    return [
        (r.path, encode_cards(r.cards), r.problems, r.parsed, None if r.rendered is None else encode_rendered(r.rendered),
         None if r.heads is None else encode_heads(r.heads))
        for r in results
    ]


def _unpack(packed: list[tuple[Any, ...]]) -> list[_Checked]:
    return [
        _Checked(path, decode_cards(cards, path), problems, parsed,
                 None if rendered is None else tuple(decode_rendered(rendered)),
                 None if heads is None else tuple(decode_heads(heads)))
        for path, cards, problems, parsed, rendered, heads in packed
    ]


def _check_all(items: list[tuple[RawFile, SourceFile | None]], how: _How) -> list[_Checked]:
    return [_check_file(raw_file, parsed, how) for raw_file, parsed in items]


def _check_file(raw_file: RawFile, parsed: SourceFile | None, how: _How) -> _Checked:
    """Parse a file unless `parsed` is given, then validate it, and render it if asked and valid."""
    problems: list[Problem] = []
    fresh = parsed is None
    source = parse_text(raw_file.text, raw_file.shown, problems) if fresh else parsed
    if source is None:
        return _Checked(raw_file.shown, [], problems, None, None, None)
    parsed_cleanly = fresh and not problems
    cards = validate_card_file(source, how.topic_slugs, how.known_figures, problems)
    # A valid file's cards are cached, not its parse: only a file that did not validate keeps it.
    keep = how.keep_parsed and parsed_cleanly and bool(problems)
    rendered = heads = None
    if how.render_for is not None and not problems:
        rendered, heads = _render_or_defer(cards, how.render_for)
    return _Checked(raw_file.shown, cards, problems, source if keep else None, rendered, heads)


def _render_or_defer(
    cards: list[Card], header: DeckHeader
) -> tuple[tuple[RenderedCard, ...], tuple[NoteHead, ...]] | tuple[None, None]:
    """The rendered cards and their note heads; (None, None) when that fails, so that the later stages
    do it again and the failure surfaces where it always has: after every problem of the sources."""
    from .assemble import note_head

    try:
        rendered = tuple(render_card(card, header.source) for card in cards)
        return rendered, tuple(note_head(header.key, card, r) for card, r in zip(cards, rendered))
    except Exception:  # noqa: BLE001 - deferred to the later stages, not swallowed
        return None, None
