"""Read card sources: a sorted walk of a cards directory, YAML parsed safely with line numbers.

The output is plain data plus a map from each value's path (e.g. ``("cards", 2, "choices", 0,
"text")``) to the 1-based line where it starts, so later stages can name file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

    def line(self, key_path: KeyPath) -> int:
        """The line of a value, or of its nearest located parent."""
        while key_path:
            if key_path in self.lines:
                return self.lines[key_path]
            key_path = key_path[:-1]
        return self.lines.get((), 1)


@dataclass(frozen=True)
class DeckSources:
    """A deck directory: its deck.yaml and its card files, in sorted order."""

    directory: str
    deck: SourceFile | None
    card_files: tuple[SourceFile, ...]


def find_deck_dirs(cards_dir: Path) -> list[Path]:
    """Deck directories: `cards_dir` itself if it holds a deck.yaml, else its subdirectories that do."""
    if (cards_dir / DECK_FILE).is_file():
        return [cards_dir]
    return sorted(p for p in cards_dir.iterdir() if (p / DECK_FILE).is_file())


def read_deck_dir(deck_dir: Path, problems: list[Problem], *, cache: BuildCache | None = None) -> DeckSources:
    """Parse deck.yaml and every other *.yaml / *.yml file under `deck_dir`, sorted by path."""
    deck = parse_file(deck_dir / DECK_FILE, problems, cache=cache)
    card_paths = sorted(
        p for p in deck_dir.rglob("*") if p.suffix in (".yaml", ".yml") and p.name != DECK_FILE and p.is_file()
    )
    card_files = tuple(f for f in parse_files(card_paths, problems, cache=cache) if f is not None)
    return DeckSources(directory=str(deck_dir), deck=deck, card_files=card_files)


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
        read = _read_text(path, found[index])
        if read is None:
            continue
        shown, raw, text = read
        key = ""
        if use_cache:
            from .cache import file_key

            key = file_key(raw)
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


def _read_text(path: Path, problems: list[Problem]) -> tuple[str, bytes, str] | None:
    """The shown path, bytes and text of a source file, or None with a located problem."""
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
    return shown, raw, text


def parse_text(text: str, shown: str, problems: list[Problem]) -> SourceFile | None:
    """Parse YAML text; duplicate keys are problems (PyYAML would silently keep the last)."""
    import yaml  # here, not at the top: a build whose sources all come from the cache never needs it

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        # libyaml is ten times faster; on any error, parse again with the pure-Python
        # loader so that messages and their lines stay exactly the same.
        attempt: list[Problem] = []
        parsed = _parse_with(fast, text, shown, attempt)
        if parsed is not None and not attempt:
            return parsed
    return _parse_with(yaml.SafeLoader, text, shown, problems)


def _parse_with(loader_class: type, text: str, shown: str, problems: list[Problem]) -> SourceFile | None:
    import yaml

    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return SourceFile(shown, None, {(): 1})
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
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
    _record_lines(node, (), lines, text_offsets, shown, problems, set())
    return SourceFile(shown, data, lines, text_offsets)


def _record_lines(
    node: yaml.Node,
    key_path: KeyPath,
    lines: dict[KeyPath, int],
    text_offsets: dict[KeyPath, int],
    shown: str,
    problems: list[Problem],
    visited: set[int],
) -> None:
    lines[key_path] = node.start_mark.line + 1
    if id(node) in visited:  # an alias seen before (possibly a cycle): its lines are recorded
        return
    visited.add(id(node))
    # Node kinds by their `id` ("scalar", "sequence", "mapping"): no yaml import needed here.
    if node.id == "scalar" and node.style in ("|", ">"):
        text_offsets[key_path] = 1
    elif node.id == "sequence":
        for index, item in enumerate(node.value):
            _record_lines(item, key_path + (index,), lines, text_offsets, shown, problems, visited)
    elif node.id == "mapping":
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if key_node.id == "scalar" else None
            if key is None:
                continue
            if key in seen:
                problems.append(Problem(shown, key_node.start_mark.line + 1, key, "duplicate key"))
            seen.add(key)
            _record_lines(value_node, key_path + (key,), lines, text_offsets, shown, problems, visited)
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
