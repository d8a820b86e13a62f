"""Cards, rendered cards and note heads as JSON for the build cache, column by column, checked on the way back.

A column per field rather than an object per card: a rebuild decodes every unchanged card of a
deck, and with columns the type checks and the construction of the records run over whole lists
in C (``set(map(type, column))``, ``map(Card, ...)``) instead of a Python loop per card. What comes
back has exactly the types the pipeline makes; anything else raises ``ValueError`` or
``TypeError`` (the cache then treats the entry as missing: it is never trusted).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from itertools import chain, islice, repeat
from typing import Any, TypeVar

from .model import Card, Choice, NoteHead, Retirement, SourceRef, TextField
from .render import FormulaRef, RenderedCard, TextProblem

R = TypeVar("R", bound=tuple)

__all__ = ["decode_cards", "decode_heads", "decode_rendered", "encode_cards", "encode_heads", "encode_rendered",
           "join_rendered"]


def encode_cards(cards: Sequence[Card]) -> dict[str, list[Any]]:
    """A card file's validated cards, without their path (the file's, given back to ``decode_cards``)."""
    return {
        "id": [c.id for c in cards],
        "type": [c.type for c in cards],
        "topics": [list(c.topics) for c in cards],
        "question": [_text(c.question) for c in cards],
        "choices": [[[choice.text, choice.correct, choice.line, choice.pin_last] for choice in c.choices] for c in cards],
        "multiple": [c.multiple for c in cards],
        "answer": [c.answer if c.answer is None or isinstance(c.answer, bool) else _text(c.answer) for c in cards],
        "explanation": [None if c.explanation is None else _text(c.explanation) for c in cards],
        "figure": [c.figure for c in cards],
        "source": [None if c.source is None else [c.source.question, c.source.part, c.source.points] for c in cards],
        "status": [c.status for c in cards],
        "notes": [c.notes for c in cards],
        "line": [c.line for c in cards],
        "retirement": [None if c.retirement is None else [c.retirement.version, c.retirement.reason] for c in cards],
        "shuffle": [c.shuffle for c in cards],
    }


def decode_cards(raw: Any, path: str) -> list[Card]:
    """The cards of ``encode_cards``, with `path` as their file."""
    (ids, types, topics, questions, choices, multiple, answers, explanations, figures, sources, statuses, notes,
     lines, retirements, shuffles) = _columns(raw, ("id", "type", "topics", "question", "choices", "multiple", "answer",
                                                    "explanation", "figure", "source", "status", "notes", "line", "retirement",
                                                    "shuffle"))
    _require(_all(str, ids) and _all(str, types) and _all(list, topics) and _all(str, chain.from_iterable(topics))
             and _all(list, choices) and _all(bool, multiple) and _all(str, statuses) and _all(str, notes)
             and _all(int, lines) and _all((str, type(None)), figures) and _all(bool, shuffles))
    choice_lists = _regroup(_choices(list(chain.from_iterable(choices))), map(len, choices))
    return list(map(
        Card, ids, types, map(tuple, topics), _texts(questions, optional=False), choice_lists, multiple,
        _texts(answers, optional=True), _texts(explanations, optional=True), figures, map(_source, sources),
        statuses, notes, repeat(path, len(ids)), lines, map(_retirement, retirements), shuffles,
    ))


def encode_rendered(rendered: Sequence[RenderedCard]) -> dict[str, list[Any]]:
    formulas = [f for r in rendered for f in r.formulas]
    return {
        "card_id": [r.card_id for r in rendered],
        "fields": [r.fields for r in rendered],
        "formula_count": [len(r.formulas) for r in rendered],
        "tex": [f.tex for f in formulas],
        "display": [f.display for f in formulas],
        "formula_line": [f.line for f in formulas],
        "formula_field": [f.field for f in formulas],
        "figures": [list(r.figures) for r in rendered],
        "problems": [[[p.line, p.field, p.message] for p in r.problems] for r in rendered],
    }


_CARD_COLUMNS = ("card_id", "fields", "formula_count", "figures", "problems")  # a value per card
_FORMULA_COLUMNS = ("tex", "display", "formula_line", "formula_field")  # a value per formula


def decode_rendered(raw: Any) -> list[RenderedCard]:
    """The rendered cards of ``encode_rendered``."""
    card_ids, fields, counts, figures, problems, texs, displays, formula_lines, formula_fields = _rendered_columns(raw)
    _require(_all(str, card_ids) and _all(dict, fields) and _all(str, chain.from_iterable(map(dict.values, fields)))
             and _all(str, texs) and _all(bool, displays)
             and _all(int, formula_lines) and _all(str, formula_fields) and _all(list, figures)
             and _all(str, chain.from_iterable(figures)) and _all(list, problems))
    formulas = _regroup(_records(FormulaRef, zip(texs, displays, formula_lines, formula_fields)), counts)
    found = [_problem(*p) for p in chain.from_iterable(problems)]
    return list(map(RenderedCard, card_ids, fields, formulas, map(tuple, figures), _regroup(found, map(len, problems))))


def join_rendered(entries: Sequence[Any]) -> dict[str, list[Any]]:
    """Several ``encode_rendered`` values of one card each as one value, which decodes at once:
    each checked to be whole on its own, so that no card can take another's place or formulas."""
    joined: dict[str, list[Any]] = {name: [] for name in _CARD_COLUMNS + _FORMULA_COLUMNS}
    for entry in entries:
        columns = _rendered_columns(entry)
        _require(len(columns[0]) == 1)
        for name, column in zip(joined, columns):
            joined[name] += column
    return joined


def _rendered_columns(raw: Any) -> list[list[Any]]:
    columns = _columns(raw, _CARD_COLUMNS, _FORMULA_COLUMNS)
    counts, texs = columns[2], columns[5]
    _require(_all(int, counts) and sum(counts) == len(texs))
    return columns


def encode_heads(heads: Sequence[NoteHead]) -> dict[str, list[Any]]:
    return {"guid": [h.guid for h in heads], "tags": [h.tags for h in heads], "card_ords": [list(h.card_ords) for h in heads]}


def decode_heads(raw: Any) -> list[NoteHead]:
    """The note heads of ``encode_heads``."""
    guids, tags, ords = _columns(raw, ("guid", "tags", "card_ords"))
    _require(_all(str, guids) and _all(str, tags) and _all(list, ords) and _all(int, chain.from_iterable(ords)))
    return _records(NoteHead, zip(guids, tags, map(tuple, ords)))


def _records(kind: type[R], rows: Iterable[tuple[Any, ...]]) -> list[R]:
    """Named tuples of type `kind` from rows of its length: made by ``tuple.__new__`` without a
    Python call per row (which ``kind._make`` and ``kind(...)`` are)."""
    return list(map(partial(tuple.__new__, kind), rows))  # type: ignore[arg-type]


def _text(text: TextField) -> list[Any]:
    return [text.name, text.text, text.line]


def _all(kind: type | tuple[type, ...], values: Any) -> bool:
    """Every value of exactly this type (or types): True is not an int here, as in JSON."""
    kinds = set(kind) if isinstance(kind, tuple) else {kind}
    return set(map(type, values)) <= kinds


def _require(condition: bool) -> None:
    if not condition:
        raise TypeError("malformed cache entry")


def _columns(raw: Any, *groups: tuple[str, ...]) -> list[list[Any]]:
    """The named columns of `raw`, as lists; within each group, all of one length."""
    if type(raw) is not dict:
        raise TypeError("malformed cache entry")
    found = []
    for names in groups:
        group = [raw[name] for name in names]
        _require(_all(list, group) and len(set(map(len, group))) == 1)
        found += group
    return found


def _regroup(items: list[Any], counts: Any) -> list[tuple[Any, ...]]:
    """`items` cut into consecutive tuples of `counts` items each."""
    flat: Iterator[Any] = iter(items)
    return [tuple(islice(flat, count)) for count in counts]


def _texts(column: list[Any], *, optional: bool) -> list[Any]:
    """Text fields from [name, text, line]; `optional`: None and booleans (a truefalse answer) pass through."""
    kept = [x for x in column if type(x) is list] if optional else column
    passed = [x for x in column if type(x) is not list] if len(kept) < len(column) else []
    _require(_all(list, kept) and set(map(len, kept)) <= {3} and _all((type(None), bool), passed))
    names, texts, lines = zip(*kept) if kept else ((), (), ())
    _require(_all(str, names) and _all(str, texts) and _all(int, lines))
    decoded = list(map(TextField, names, texts, lines))
    if not passed:
        return decoded
    fields = iter(decoded)
    return [next(fields) if type(x) is list else x for x in column]


def _choices(items: list[Any]) -> list[Choice]:
    _require(_all(list, items) and set(map(len, items)) <= {4})
    texts, correct, lines, pinned = zip(*items) if items else ((), (), (), ())
    _require(_all(str, texts) and _all(bool, correct) and _all(int, lines) and _all(bool, pinned))
    return list(map(Choice, texts, correct, lines, pinned))


def _source(raw: Any) -> SourceRef | None:
    if raw is None:
        return None
    question, part, points = raw
    _require((question is None or type(question) is int) and (part is None or type(part) is str)
             and (points is None or type(points) in (int, float)))
    return SourceRef(question, part, points)


def _retirement(raw: Any) -> Retirement | None:
    if raw is None:
        return None
    version, reason = raw
    _require(type(version) is str and type(reason) is str)
    return Retirement(version, reason)


def _problem(line: Any, field: Any, message: Any) -> TextProblem:
    _require(type(line) is int and type(field) is str and type(message) is str)
    return TextProblem(line, field, message)
