"""Read card sources: a sorted walk of a cards directory, YAML parsed safely with line numbers.

The output is plain data plus a map from each value's path (e.g. ``("cards", 2, "choices", 0,
"text")``) to the 1-based line where it starts, so later stages can name file and line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import Problem

if TYPE_CHECKING:
    import yaml

    from .cache import BuildCache

DECK_FILE = "deck.yaml"
MAX_SOURCE_BYTES = 5 * 1024 * 1024

KeyPath = tuple[Any, ...]


@dataclass(frozen=True)
class SourceFile:
    """One parsed YAML file: its data and where each value starts."""

    path: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    # Block scalars (`|`, `>`) start their text on the line after the key.
    text_offsets: dict[KeyPath, int] = field(default_factory=dict)
    # Plain scalars that YAML reads as numbers, as written (`0.50`, `010`, `12:30`): a text field
    # takes them as written, never as Python's str() of the number (`0.5`, `8`, `750`).
    written: dict[KeyPath, str] = field(default_factory=dict)
    # A plain scalar followed by ` # ...` on its line: YAML drops that as a comment. Text fields refuse it.
    comments: dict[KeyPath, str] = field(default_factory=dict)

    def line(self, key_path: KeyPath) -> int:
        """The line of a value, or of its nearest located parent."""
        while key_path:
            if key_path in self.lines:
                return self.lines[key_path]
            key_path = key_path[:-1]
        return self.lines.get((), 1)


def find_deck_dirs(cards_dir: Path) -> list[Path]:
    """Deck directories: `cards_dir` itself if it holds a deck.yaml, else its subdirectories that do."""
    if (cards_dir / DECK_FILE).is_file():
        return [cards_dir]
    return sorted(p for p in cards_dir.iterdir() if (p / DECK_FILE).is_file())


def card_file_paths(deck_dir: Path) -> list[Path]:
    """Every *.yaml / *.yml file under `deck_dir` but deck.yaml, sorted by path."""
    return sorted(
        p for p in deck_dir.rglob("*") if p.suffix in (".yaml", ".yml") and p.name != DECK_FILE and p.is_file()
    )


def parse_file(path: Path, problems: list[Problem], *, cache: BuildCache | None = None) -> SourceFile | None:
    """Parse one YAML file with the safe loader; record a located problem instead of raising.

    With a `cache`, a file whose bytes were parsed before (without problems) is not parsed again.
    """
    return parse_files([path], problems, cache=cache)[0]


# Below this much YAML to parse, a second process costs more than it saves.
PARALLEL_PARSE_MIN_BYTES = 1_000_000


def parse_files(paths: list[Path], problems: list[Problem], *, cache: BuildCache | None = None) -> list[SourceFile | None]:
    """``parse_file`` for each path, in order (problems too); a large batch is parsed on two cores."""
    found: list[list[Problem]] = [[] for _ in paths]
    results: list[SourceFile | None] = [None] * len(paths)
    todo: list[tuple[int, str, str, str]] = []  # index, shown path, text, cache key
    use_cache = cache is not None and cache.enabled
    for index, path in enumerate(paths):
        read = read_source(path, found[index], digest=use_cache)
        if read is None:
            continue
        shown, text, key = read
        if key:
            cached = cache.source(key, shown)  # type: ignore[union-attr]
            if cached is not None:
                results[index] = cached
                continue
        todo.append((index, shown, text, key))
    items = [(shown, text) for _, shown, text, _ in todo]
    parsed = None
    if len(items) >= 4 and sum(len(text) for _, text in items) >= PARALLEL_PARSE_MIN_BYTES:
        from .parallel import map_halves

        parsed = map_halves(_parse_all, items)
    if parsed is None:
        parsed = _parse_all(items)
    for (index, _, _, key), (source, file_problems) in zip(todo, parsed):
        results[index] = source
        found[index] += file_problems
        if use_cache and source is not None and not file_problems:
            cache.store_source(key, source)  # type: ignore[union-attr]
    for file_problems in found:
        problems += file_problems
    return results


def _parse_all(items: list[tuple[str, str]]) -> list[tuple[SourceFile | None, list[Problem]]]:
    out = []
    for shown, text in items:
        file_problems: list[Problem] = []
        out.append((parse_text(text, shown, file_problems), file_problems))
    return out


class RawFile(NamedTuple):
    """A source file as read: the path as shown to the user, its text, and the ``file_key`` of its
    bytes when asked for (the bytes themselves are not kept: a large deck's are megabytes)."""

    shown: str
    text: str
    digest: str  # "" when not asked for


def file_key(raw: bytes) -> str:
    """A file's bytes as a cache key: their SHA-256."""
    return hashlib.sha256(raw).hexdigest()


def read_source(path: Path, problems: list[Problem], *, digest: bool = False) -> RawFile | None:
    """A source file's shown path, text and (`digest`) ``file_key``, or None with a located problem."""
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(shown, 0, "", f"cannot read file: {exc.strerror}"))
        return None
    if len(raw) > MAX_SOURCE_BYTES:
        problems.append(Problem(shown, 0, "", f"file is too large ({len(raw)} bytes, limit {MAX_SOURCE_BYTES})"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(shown, line, "", "file is not UTF-8 text"))
        return None
    return RawFile(shown, text, file_key(raw) if digest else "")


def parse_text(text: str, shown: str, problems: list[Problem]) -> SourceFile | None:
    """Parse YAML text; duplicate keys are problems (PyYAML would silently keep the last)."""
    import yaml  # here, not at the top: a build whose sources all come from the cache never needs it

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        # libyaml is ten times faster; on any error, parse again with the pure-Python
        # loader so that messages and their lines stay exactly the same.
        attempt: list[Problem] = []
        parsed = _parse_with(fast, text, shown, attempt, simple_first=True)
        if parsed is not None and not attempt:
            return parsed
    return _parse_with(yaml.SafeLoader, text, shown, problems)


def _parse_with(
    loader_class: type, text: str, shown: str, problems: list[Problem], *, simple_first: bool = False
) -> SourceFile | None:
    """Parse with `loader_class`; `simple_first`: try ``_construct_simple`` before PyYAML's constructor."""
    import yaml

    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return SourceFile(shown, None, {(): 1})
        simple = _construct_simple(node, loader, text) if simple_first else None
        if simple is not None:
            return SourceFile(shown, *simple)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        line, message = yaml_message(exc)
        problems.append(Problem(shown, line, "", f"invalid YAML: {message}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(shown, 0, "", f"invalid YAML: {exc}"))
        return None
    except RecursionError:
        problems.append(Problem(shown, 0, "", "invalid YAML: nesting too deep"))
        return None
    finally:
        loader.dispose()
    lines: dict[KeyPath, int] = {}
    text_offsets: dict[KeyPath, int] = {}
    scalars = _Scalars()
    _record_lines(node, (), lines, text_offsets, shown, problems, set(), text, scalars)
    return SourceFile(shown, data, lines, text_offsets, scalars.written, scalars.comments)


_QUOTE_ADVICE = ("write this text in single quotes ('...') or as a block scalar (key: | and the text indented on the "
                 "next lines), where a backslash stays a backslash")


def yaml_message(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """A PyYAML error in plain words, and the 1-based line it is about (0: unknown).

    PyYAML marks where it noticed the error, often the line after the cause; where its
    context mark (the construct it was reading) is the cause, that line is given."""
    problem = str(exc.problem or "")
    context = str(exc.context or "")
    problem_line = exc.problem_mark.line + 1 if exc.problem_mark else 0
    context_line = exc.context_mark.line + 1 if exc.context_mark else problem_line
    if "could not find expected ':'" in problem:
        return context_line, ("this line is not 'key: value' and does not continue the text above: write a text of "
                              "several lines as a block scalar (key: | and the text indented below), or indent the "
                              "line under its key")
    if "mapping values are not allowed here" in problem:
        return problem_line, ("': ' (a colon and a space) inside unquoted text, or a key indented deeper than the keys "
                              "above it: put the text in single quotes or a block scalar (key: |), or line the key up "
                              "with the others")
    if "unknown escape character" in problem or "escape sequence" in problem:
        escape = problem.rsplit(" ", 1)[-1].strip("'")
        if "escape sequence of" in problem:  # \x, \u or \U not followed by hexadecimal digits: \xi, \upsilon
            escape = {"2": "x", "4": "u", "8": "U"}.get(problem.split("sequence of ")[1][:1], "x") + escape
        return problem_line, f"the backslash was read as a YAML escape (in double quotes), and \\{escape} is not one: {_QUOTE_ADVICE}"
    if "cannot start any token" in problem:
        if "'\\t'" in problem:
            return problem_line, "a tab character: YAML indents with spaces only"
        char = problem.split("'")[1] if "'" in problem else "this character"
        return problem_line, f"a value cannot start with {char}: put the text in quotes or a block scalar (key: |)"
    if "scanning an alias" in context or "undefined alias" in problem:
        return problem_line, ("a value starting with * (like *emphasis*) is read as a YAML alias: put the text in quotes "
                              "or a block scalar (key: |)")
    if "quoted scalar" in context and "end of stream" in problem:
        return context_line, "a quoted text opened on this line is never closed: add the closing quote"
    if "flow sequence" in context or "flow mapping" in context:
        bracket = "[ ... ]" if "sequence" in context else "{ ... }"
        return context_line, (f"the {bracket} opened on this line is not closed where expected, or holds unquoted text "
                              "with ': ' or ',' in it: close it, or quote such text")
    if "block scalar" in context:
        return problem_line, "after | or > only - or + (or an indentation digit) may follow: start the text on the next line"
    if "expected <block end>" in problem or "expected key" in problem:
        return problem_line, ("this line is not indented like the lines above: the keys of one card line up, and so do "
                              "the '- ' items of a list (use spaces only)")
    return problem_line or context_line, problem or context


# Escapes of double-quoted YAML that give a control or invisible character (`"\theta"` is a tab
# and "heta"): what each gives.
_CONTROL_ESCAPES = {
    "0": "a null character", "a": "a bell character", "b": "a backspace", "t": "a tab", "\t": "a tab",
    "n": "a line break", "v": "a vertical tab", "f": "a form feed", "r": "a carriage return", "e": "an escape character",
    "N": "a next-line character", "_": "a no-break space", "L": "a line separator", "P": "a paragraph separator",
}
# Escapes that give a printable character, silently losing the backslash TeX needed (`"$a\ b$"`).
_PRINTABLE_ESCAPES = {" ": "a plain space", "/": "a plain slash"}
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_WORD_AFTER = re.compile(r"\\[A-Za-z]+")


def _escape_problem(node: yaml.Node, text: str) -> tuple[int, str] | None:
    """A double-quoted scalar whose escapes gave a control character: its line and what to do."""
    raw = text[node.start_mark.index : node.end_mark.index]
    for match in _ESCAPE.finditer(raw):
        code = match.group(1)
        what = _CONTROL_ESCAPES.get(code) or _PRINTABLE_ESCAPES.get(code)
        if what is None and code[0] in "xuU" and len(code) > 1:
            value = int(code[1:], 16)
            if value < 0x20 or 0x7F <= value < 0xA0:
                what = f"the control character U+{value:04X}"
        if what is None:
            continue
        line = node.start_mark.line + 1 + raw.count("\n", 0, match.start())
        word = _WORD_AFTER.match(raw, match.start())
        written = word.group() if word else match.group()
        shown = f'"{written}" became {what} followed by "{written[2:]}"' if len(written) > 2 else f'"{written}" became {what}'
        return line, (f"the backslash was read as a YAML escape: in double quotes {shown}; {_QUOTE_ADVICE}")
    return None


def field_name(key_path: KeyPath) -> str:
    """A value's field as messages name it: `question`, `choices[B].text`, `topics[0].slug`."""
    if len(key_path) >= 2 and key_path[0] == "cards" and isinstance(key_path[1], int):
        key_path = key_path[2:]
    name = ""
    previous = None
    for key in key_path:
        if isinstance(key, int):
            name += f"[{chr(ord('A') + key)}]" if previous == "choices" and key < 26 else f"[{key}]"
        else:
            name += f".{key}" if name else str(key)
        previous = key
    return name


_TAG = "tag:yaml.org,2002:"
# Scalar tags whose SafeConstructor methods are plain functions of the scalar's text.
_PLAIN_SCALAR_TAGS = frozenset(_TAG + name for name in ("null", "bool", "int", "float"))


class _NotSimple(Exception):
    """The document needs PyYAML's full constructor (or has a problem to report)."""


class _Scalars:
    """What a walk notes about plain scalars, for ``SourceFile.written`` and ``SourceFile.comments``."""

    def __init__(self) -> None:
        self.written: dict[KeyPath, str] = {}
        self.comments: dict[KeyPath, str] = {}

    def note(self, node: yaml.Node, key_path: KeyPath, text: str) -> None:
        if node.style or not text:  # None (PyYAML) or "" (libyaml) for a plain scalar
            return  # quoted and block scalars keep their text whole
        if node.tag in (_TAG + "int", _TAG + "float"):
            self.written[key_path] = node.value
        end = node.end_mark.index
        line_end = text.find("\n", end)
        rest = text[end : len(text) if line_end < 0 else line_end].strip()
        if rest.startswith("#"):
            self.comments[key_path] = rest


def _suspicious_escape(node: yaml.Node, text: str) -> bool:
    """A double-quoted scalar with an escape other than `\\` and `\"` (and a line continuation)."""
    if node.style != '"' or not text:
        return False
    raw = text[node.start_mark.index : node.end_mark.index]
    return "\\" in raw and any(m.group(1) not in ("\\", '"', "\n") for m in _ESCAPE.finditer(raw))


_Simple = tuple[Any, dict[KeyPath, int], dict[KeyPath, int], dict[KeyPath, str], dict[KeyPath, str]]


def _construct_simple(node: yaml.Node, loader: Any, text: str = "") -> _Simple | None:
    """What ``loader.construct_document(node)`` and ``_record_lines`` give, in one walk, for the
    documents card files are: mappings with string keys, sequences, and strings, numbers, booleans
    and nulls, each node once. None for anything else (aliases, merge keys, other tags, other keys,
    duplicate keys, a scalar its constructor refuses, deep nesting): the caller then takes the full
    path, which alone reports problems, so messages never change. The loader is only read.

    Why: PyYAML's constructor is pure Python and walks the document a second time after the
    line numbers are recorded; this is a third of the time of a cold build's parsing."""
    lines: dict[KeyPath, int] = {}
    text_offsets: dict[KeyPath, int] = {}
    scalars = _Scalars()
    try:
        data = _build_simple(node, (), lines, text_offsets, loader, set(), text, scalars)
    except Exception:  # noqa: BLE001 - whatever it is, the full path decides what to report
        return None
    return data, lines, text_offsets, scalars.written, scalars.comments


def _build_simple(
    node: yaml.Node, key_path: KeyPath, lines: dict[KeyPath, int], text_offsets: dict[KeyPath, int], loader: Any,
    visited: set[int], text: str, scalars: _Scalars,
) -> Any:
    # Records lines exactly as _record_lines does, and builds the data as SafeConstructor does.
    lines[key_path] = node.start_mark.line + 1
    if id(node) in visited:  # an alias
        raise _NotSimple
    visited.add(id(node))
    kind, tag = node.id, node.tag
    if kind == "scalar":
        if node.style in ("|", ">"):
            text_offsets[key_path] = 1
        elif node.style == '"' and (not node.value.isprintable() or _suspicious_escape(node, text)):
            raise _NotSimple  # an escape may have changed the text: the full path reports it
        scalars.note(node, key_path, text)
        if tag == _TAG + "str":
            return node.value  # SafeConstructor.construct_yaml_str
        if tag in _PLAIN_SCALAR_TAGS:
            # SafeConstructor's method itself, not construct_object: that would leave state in
            # the loader (its memo of objects) if the value were refused.
            return loader.yaml_constructors[tag](loader, node)
        raise _NotSimple
    if kind == "sequence" and tag == _TAG + "seq":
        return [
            _build_simple(item, key_path + (index,), lines, text_offsets, loader, visited, text, scalars)
            for index, item in enumerate(node.value)
        ]
    if kind == "mapping" and tag == _TAG + "map":
        data: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.id != "scalar" or key_node.tag != _TAG + "str" or key_node.value in data:
                raise _NotSimple
            key = key_node.value
            data[key] = _build_simple(value_node, key_path + (key,), lines, text_offsets, loader, visited, text, scalars)
            lines[key_path + (key,)] = key_node.start_mark.line + 1
        return data
    raise _NotSimple


def _record_lines(
    node: yaml.Node,
    key_path: KeyPath,
    lines: dict[KeyPath, int],
    text_offsets: dict[KeyPath, int],
    shown: str,
    problems: list[Problem],
    visited: set[int],
    text: str = "",
    scalars: _Scalars | None = None,
) -> None:
    lines[key_path] = node.start_mark.line + 1
    if id(node) in visited:  # an alias seen before (possibly a cycle): its lines are recorded
        return
    visited.add(id(node))
    # Node kinds by their `id` ("scalar", "sequence", "mapping"): no yaml import needed here.
    if node.id == "scalar" and scalars is not None:
        scalars.note(node, key_path, text)
    if node.id == "scalar" and node.style in ("|", ">"):
        text_offsets[key_path] = 1
    elif node.id == "scalar" and node.style == '"' and text and (not node.value.isprintable() or _suspicious_escape(node, text)):
        found = _escape_problem(node, text)
        if found is not None:
            problems.append(Problem(shown, found[0], field_name(key_path), found[1]))
    elif node.id == "sequence":
        for index, item in enumerate(node.value):
            _record_lines(item, key_path + (index,), lines, text_offsets, shown, problems, visited, text, scalars)
    elif node.id == "mapping":
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if key_node.id == "scalar" else None
            if key is None:
                continue
            if key in seen:
                problems.append(Problem(shown, key_node.start_mark.line + 1, key, "duplicate key"))
            seen.add(key)
            _record_lines(value_node, key_path + (key,), lines, text_offsets, shown, problems, visited, text, scalars)
            lines[key_path + (key,)] = key_node.start_mark.line + 1


def read_utf8(path: Path) -> tuple[str, str]:
    """(the path as shown to the user, the file's text); a non-UTF-8 file raises InvalidSources with its line."""
    from .errors import InvalidSources

    shown = display_path(path)
    raw = path.read_bytes()
    try:
        return shown, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidSources([Problem(shown, line, "", "file is not UTF-8 text")]) from None


def display_path(path: Path) -> str:
    """The path as the user knows it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
