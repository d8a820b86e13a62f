"""The build, stage by stage: load -> validate -> render -> check math -> figures -> assemble -> write."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import figures as figure_registry
from .errors import InvalidSources, Problem, UsageError
from .model import Card, Deck
from .render import FormulaRef, RenderedCard, render_card
from .sources import find_deck_dirs

if TYPE_CHECKING:
    from .cache import BuildCache
    from .loading import CardFile, LoadedDeck
    from .model import NoteHead

Progress = Callable[[str], None]
# Below this many cards to render, a second process costs more than it saves.
PARALLEL_RENDER_MIN = 2000


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path = Path("build")
    figures_dir: Path = Path("figures")
    include_nullified: bool = False
    include_drafts: bool = False
    math_check: bool = True
    cache_dir: Path | None = None  # the build cache (see examdeck.cache); None: no cache
    strict: bool = False  # formulas too wide for a phone are errors, not warnings


@dataclass(frozen=True)
class CheckedDeck:
    """A valid deck and its rendered cards, keyed by card id."""

    deck: Deck
    rendered: dict[str, RenderedCard]
    files: tuple[CardFile, ...] = ()  # the card files of the cards: how the build cache finds them


@dataclass(frozen=True)
class CheckReport:
    decks: tuple[CheckedDeck, ...]
    warnings: tuple[str, ...] = ()
    # Located warnings (path:line: field: message): formulas too wide for a phone card, unless strict.
    notices: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class BuiltPackage:
    deck_key: str
    path: Path
    note_count: int
    media_count: int


@dataclass
class _Log:
    progress: Progress | None = None
    warnings: list[str] = field(default_factory=list)

    def step(self, message: str) -> None:
        if self.progress:
            self.progress(message)


def load_decks(cards_dir: Path, *, cache: BuildCache | None = None) -> list[Deck]:
    """Parse and validate every deck under `cards_dir`; raise InvalidSources with all problems."""
    return [loaded.deck for loaded in _load_decks(cards_dir, cache=cache)]


def _load_decks(cards_dir: Path, *, cache: BuildCache | None = None, render: bool = False) -> list[LoadedDeck]:
    """``load_decks``, with the card files each deck's cards come from; `render`: see ``load_deck_dir``."""
    if not cards_dir.is_dir():
        raise UsageError(f"cards directory not found: {cards_dir}")
    deck_dirs = find_deck_dirs(cards_dir)
    if not deck_dirs:
        raise UsageError(f"no deck found in {cards_dir}: expected {cards_dir}/<deck>/deck.yaml or {cards_dir}/deck.yaml")
    from .loading import load_deck_dir

    problems: list[Problem] = []
    known_figures = figure_registry.figure_names()
    loaded = [load_deck_dir(deck_dir, known_figures, problems, cache=cache, render=render) for deck_dir in deck_dirs]
    decks = [d for d in loaded if d is not None]
    keys = [d.deck.key for d in decks]
    for deck in (d.deck for d in decks):
        if keys.count(deck.key) > 1:
            problems.append(Problem(f"{deck.path}/deck.yaml", 1, "key", f"deck key {deck.key!r} is used by two decks"))
    if problems:
        raise InvalidSources(problems)
    return decks


def check(
    cards_dir: Path,
    *,
    math_check: bool = True,
    progress: Progress | None = None,
    cache_dir: Path | None = None,
    cache: BuildCache | None = None,
    strict: bool = False,
) -> CheckReport:
    """Validate and render every card (all statuses) and check every formula; raise InvalidSources.

    A formula too wide for a phone card (``mathcheck.width_problem``) is a located warning in
    ``CheckReport.notices``, or with `strict` a problem like any other.
    With `cache_dir` (or an open `cache`), unchanged files, cards and formulas are not parsed,
    rendered or checked again; the results are the same as without.
    """
    if cache is None and cache_dir is not None:
        from .cache import open_cache

        with _saving(open_cache(cache_dir)) as opened:
            report = check(cards_dir, math_check=math_check, progress=progress, cache=opened, strict=strict)
        from dataclasses import replace

        return replace(report, warnings=report.warnings + tuple(opened.warnings))
    with _without_gc():
        return _check(cards_dir, math_check=math_check, progress=progress, cache=cache, strict=strict)


def _check(cards_dir: Path, *, math_check: bool, progress: Progress | None, cache: BuildCache | None,
           strict: bool = False) -> CheckReport:
    log = _Log(progress)
    # Without a cache, loading renders too: one pass over the card files, on two cores for a large deck.
    loaded_decks = _load_decks(cards_dir, cache=cache, render=cache is None or not cache.enabled)
    checked = [_render_deck(loaded, log, cache=cache) for loaded in loaded_decks]
    problems = [p for c in checked for p in _render_problems(c)]
    too_wide: list[Problem] = []
    if math_check:
        log.step("checking formulas")
        math_problems, warnings, too_wide = _check_math(checked, cache=cache)
        problems += math_problems
        log.warnings += warnings
    if strict:
        problems += too_wide
    if problems:
        raise InvalidSources(problems)
    return CheckReport(tuple(checked), tuple(log.warnings), () if strict else tuple(sorted(set(too_wide))))


def select_cards(deck: Deck, options: BuildOptions) -> list[Card]:
    """The cards a build ships: active and retired ones, plus nullified or draft ones when asked."""
    wanted = {"active", "retired"}  # retired cards ship as card-less notes: see assemble
    if options.include_nullified:
        wanted.add("nullified")
    if options.include_drafts:
        wanted.add("draft")
    return [c for c in deck.cards if c.status in wanted]


def build(
    cards_dir: Path,
    options: BuildOptions,
    *,
    progress: Progress | None = None,
    choose: Callable[[Deck, list[Card]], list[Card]] | None = None,
    deck_title: str | None = None,
    out_path: Path | None = None,
    _cache: BuildCache | None = None,
) -> tuple[list[BuiltPackage], tuple[str, ...]]:
    """Build one package per deck (or the single `out_path`); `choose` narrows the cards of each deck."""
    if options.cache_dir is not None:
        from dataclasses import replace

        from .cache import open_cache

        with _saving(open_cache(options.cache_dir)) as cache:
            built, warnings = build(cards_dir, replace(options, cache_dir=None), progress=progress, choose=choose,
                                    deck_title=deck_title, out_path=out_path, _cache=cache)
        return built, warnings + tuple(cache.warnings)
    with _without_gc():
        return _build(cards_dir, options, progress=progress, choose=choose, deck_title=deck_title,
                      out_path=out_path, cache=_cache)


def _build(
    cards_dir: Path,
    options: BuildOptions,
    *,
    progress: Progress | None,
    choose: Callable[[Deck, list[Card]], list[Card]] | None,
    deck_title: str | None,
    out_path: Path | None,
    cache: BuildCache | None,
) -> tuple[list[BuiltPackage], tuple[str, ...]]:
    from .package import build_timestamp

    log = _Log(progress)
    report = check(cards_dir, math_check=options.math_check, progress=progress, cache=cache, strict=options.strict)
    timestamp = build_timestamp()
    built = []
    left_out: list[Problem] = []  # decks with nothing to ship: each card and why it was left out
    for checked in report.decks:
        deck = checked.deck
        cards = select_cards(deck, options)
        unknown = [c for c in cards if answer_unknown(c)]
        if unknown:
            cards = [c for c in cards if not answer_unknown(c)]
            log.warnings.append(f"deck {deck.key}: left out {len(unknown)} draft(s) whose answer is unknown "
                                f"({', '.join(c.id for c in unknown)}): mark the answer, then remove status: draft")
        if not cards and deck.cards and (choose is None or choose(deck, list(deck.cards))):
            left_out += [Problem(c.path, c.line, "status", _left_out_reason(c, options)) for c in deck.cards]
            log.warnings.append(f"deck {deck.key}: nothing to ship, all its {len(deck.cards)} cards were left out "
                                "(drafts, nullified or retired): no package written")
        if choose is not None:
            cards = choose(deck, cards)
        if not cards:
            continue
        path = out_path or options.out_dir / f"{deck.key}.apkg"
        built.append(package_deck(checked, cards, options.figures_dir, path, timestamp, deck_title=deck_title, log=log,
                                  cache=cache))
    if not built and left_out:
        raise InvalidSources([*left_out, Problem(str(cards_dir), 0, "", "nothing shippable: every card was left out, "
                                                 "as listed below; no package was written")])
    too_wide = (f"{len(report.notices)} formula{'s are' if len(report.notices) != 1 else ' is'} too wide for a phone "
                "card (run `examdeck check` to see where; --strict makes it an error)",) if report.notices else ()
    return built, report.warnings + tuple(log.warnings) + too_wide


def answer_unknown(card: Card) -> bool:
    """A draft whose answer is not known yet (no choice marked correct, no true/false answer, e.g.
    from `import text`): never shipped, so that no card looks answered when it is not."""
    return card.status == "draft" and (
        (card.type == "mcq" and not any(c.correct for c in card.choices)) or (card.type == "truefalse" and card.answer is None)
    )


def _left_out_reason(card: Card, options: BuildOptions) -> str:
    if answer_unknown(card):
        return f"card {card.id!r} left out: a draft whose answer is unknown (mark the answer, then remove status: draft)"
    if card.status == "draft":
        return (f"card {card.id!r} left out: a draft (review it and remove status: draft, "
                "or build with --include-drafts to ship it tagged status::draft)")
    if card.status == "nullified":
        return f"card {card.id!r} left out: nullified in the exam (build with --include-nullified to ship it)"
    return f"card {card.id!r} left out: {card.status}"


def package_deck(
    checked: CheckedDeck,
    cards: list[Card],
    figures_dir: Path,
    path: Path,
    timestamp: float,
    *,
    deck_title: str | None = None,
    description: str | None = None,
    log: _Log | None = None,
    cache: BuildCache | None = None,
) -> BuiltPackage:
    """Draw the figures the cards use, assemble the notes and write the package atomically."""
    from .assemble import assemble
    from .package import write_package

    log = log or _Log()
    names = sorted({f for c in cards for f in checked.rendered[c.id].figures})
    for name in names:
        log.step(f"figure {name}")
    figure_files = figure_registry.ensure_figures(names, figures_dir)  # stale ones drawn on two cores
    heads = _note_heads(checked, cache)
    assembled = assemble(
        checked.deck, cards, checked.rendered, figure_files, deck_title=deck_title, description=description,
        heads=heads,
    )
    log.step(f"writing {path}")
    write_package(assembled, path, timestamp)
    return BuiltPackage(checked.deck.key, path, assembled.note_count, len(assembled.media))


def _note_heads(checked: CheckedDeck, cache: BuildCache | None) -> dict[str, NoteHead]:
    """The note heads of the cards of `checked` known before assembling, by card id: made while
    loading, or from the cache for files built before (made and kept for the other files)."""
    from .assemble import note_head

    deck = checked.deck
    heads: dict[str, NoteHead] = {}
    for card_file in checked.files:
        found: Sequence[NoteHead] | None = card_file.heads
        if found is None and cache is not None and cache.enabled and card_file.key is not None:
            found = cache.note_heads(card_file.key, deck.source, deck.key, len(card_file.cards))
            if found is None:
                found = tuple(note_head(deck.key, card, checked.rendered[card.id]) for card in card_file.cards)
                cache.store_note_heads(card_file.key, deck.source, deck.key, found)
        if found is not None:
            heads.update(zip([card.id for card in card_file.cards], found))
    return heads


@contextmanager
def _without_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: a build allocates hundreds of thousands of objects
    that live until it ends and form no cycles, and CPython would otherwise rescan the growing
    heap again and again (a third of the time of a 10,000-card build). Reference counting still
    frees everything that is dropped."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _saving(cache: BuildCache) -> Iterator[BuildCache]:
    """Use `cache`, then save what was computed, even when the sources had problems."""
    try:
        yield cache
    except InvalidSources:
        cache.save()
        cache.close()
        raise
    except BaseException:
        cache.close()
        raise
    cache.save()
    cache.close()


def _render_deck(loaded: LoadedDeck, log: _Log, *, cache: BuildCache | None = None) -> CheckedDeck:
    deck = loaded.deck
    if cache is None or not cache.enabled:
        log.step(f"rendering {deck.key} ({len(deck.cards)} cards)")
        # Loading rendered the cards of valid files already (see loading.load_deck_dir), unless that failed.
        rendered = {r.card_id: r for f in loaded.files if f.rendered is not None for r in f.rendered}
        rendered.update(_render_cards([card for card in deck.cards if card.id not in rendered], deck.source))
    else:
        rendered = _render_with_cache(loaded, log, cache)
    return CheckedDeck(deck, {card.id: rendered[card.id] for card in deck.cards}, loaded.files)


def _render_with_cache(loaded: LoadedDeck, log: _Log, cache: BuildCache) -> dict[str, RenderedCard]:
    """The deck's rendered cards: an unchanged file's in one look-up, a changed file's card by card,
    so that only the edited cards are rendered again; what was rendered is kept for the next run."""
    from .cache import card_key

    deck = loaded.deck
    rendered: dict[str, RenderedCard] = {}
    changed_files = []
    for card_file in loaded.files:
        found = cache.rendered_file(card_file.key, deck.source, card_file.cards) if card_file.key else None
        if found is None:
            changed_files.append(card_file)
        else:
            rendered.update((r.card_id, r) for r in found)
    cards = [card for card_file in changed_files for card in card_file.cards]
    keys = {card.id: card_key(card, deck.source) for card in cards}
    found_cards = cache.rendered_cards(keys.values())
    missing = []
    for card in cards:
        hit = found_cards.get(keys[card.id])
        if hit is not None and hit.card_id == card.id:
            rendered[card.id] = hit
        else:
            missing.append(card)
    log.step(f"rendering {deck.key} ({len(missing)} of {len(deck.cards)} cards changed)")
    fresh = _render_cards(missing, deck.source)
    for card in missing:
        cache.store_rendered(keys[card.id], fresh[card.id])
    rendered.update(fresh)
    for card_file in changed_files:
        if card_file.key is not None:
            cache.store_rendered_file(card_file.key, deck.source, [rendered[c.id] for c in card_file.cards],
                                      [keys[c.id] for c in card_file.cards])
    return rendered


def _render_cards(cards: Sequence[Card], deck_source: str) -> dict[str, RenderedCard]:
    """Render `cards`, on two cores when there are thousands of them."""
    if len(cards) >= PARALLEL_RENDER_MIN:
        from .codec import decode_rendered, encode_rendered
        from .parallel import map_halves

        results = map_halves(_render_all, list(cards), deck_source, pack=encode_rendered, unpack=decode_rendered)
        if results is not None:
            return {r.card_id: r for r in results}
    return {card.id: render_card(card, deck_source) for card in cards}


def _render_all(cards: list[Card], deck_source: str) -> list[RenderedCard]:
    return [render_card(card, deck_source) for card in cards]


def _render_problems(checked: CheckedDeck) -> list[Problem]:
    known = set(figure_registry.figure_names())
    problems = []
    for card in checked.deck.cards:
        rendered = checked.rendered[card.id]
        problems += [Problem(card.path, p.line, p.field, p.message) for p in rendered.problems]
        if rendered.images:  # the deck folder's images: read on every check, never cached
            from .images import image_problems

            problems += image_problems(Path(checked.deck.path), card.path, rendered.images)
        for name in rendered.figures:
            if name not in known and name != card.figure:
                problems.append(Problem(card.path, card.line, "figure", f"unknown figure {name!r} in the text"))
    return problems


def _field_text(card: Card, field: str) -> str:
    """The source text of `field` (``question``, ``choices[1].text``, ...) of `card`, or ""."""
    for text_field in card.text_fields():
        if text_field.name == field:
            return text_field.text
    return ""


def _check_math(
    checked: Sequence[CheckedDeck], *, cache: BuildCache | None = None
) -> tuple[list[Problem], list[str], list[Problem]]:
    """Typeset every formula with Anki's MathJax (or check structure without Node) and lint it for Anki.

    :returns: the problems, the warnings, and the formulas too wide for a phone card (located).
    """
    from .mathcheck import (
        Formula,
        MathCheckUnavailable,
        cache_key,
        check_formulas,
        lint_formula,
        structural_errors,
        width_cache_key,
        width_problem,
    )

    located = [
        (card, formula)
        for c in checked
        for card in c.deck.cards
        for formula in c.rendered[card.id].formulas
    ]
    formulas = [Formula(f.tex, f.display) for _, f in located]
    warnings: list[str] = []
    verdicts = None
    if cache is not None and cache.enabled:
        from .cache import math_namespace

        namespace = math_namespace()
        verdicts = cache.verdicts({cache_key(f) for f in formulas} | {width_cache_key(f) for f in formulas}, namespace)
    widths: tuple[float | None, ...] = ()
    try:
        result = check_formulas(formulas, cache=verdicts, measure=True)
        if verdicts is not None:
            cache.store_verdicts(verdicts, namespace)  # type: ignore[union-attr]
        errors = list(result.errors)
        widths = result.widths
        if result.warning:
            warnings.append(f"{result.warning}; formula widths not checked")
    except MathCheckUnavailable as exc:
        warnings.append(f"MathJax check unavailable ({exc}): formulas checked structurally only, widths not checked")
        errors = ["; ".join(structural_errors(f.tex)) or None for f in formulas]
    problems = []
    for (card, formula), error in zip(located, errors):
        if error and "internal error" in error.lower():  # MathJax's own crash: never shown as such
            error = "MathJax cannot read this formula (it stops on it): look for a character that is not TeX"
        messages = ([error] if error else []) + lint_formula(formula.tex)
        problems += [Problem(card.path, formula.line, formula.field, f"formula {_formula_name(formula)}: {m}") for m in messages]
    too_wide = []
    for (card, formula), width in zip(located, widths):
        message = width_problem(formula.tex, formula.display, width, formula.field) if width is not None else None
        if message and not formula.display and _field_text(card, formula.field).strip() == f"${formula.tex}$":
            # The whole text of its field (a choice): it has the line to itself.
            message = width_problem(formula.tex, formula.display, width, formula.field, alone=True)  # type: ignore[arg-type]
        if message:
            too_wide.append(Problem(card.path, formula.line, formula.field, message))
    return problems, warnings, too_wide


def _formula_name(formula: FormulaRef) -> str:
    """A formula as written, shortened, to say which one of a line a message is about."""
    tex = " ".join(formula.tex.split())
    tex = tex if len(tex) <= 50 else tex[:49] + "…"
    return f"$${tex}$$" if formula.display else f"${tex}$"
