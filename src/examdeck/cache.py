"""The build cache: what earlier builds computed, reused only when its inputs are unchanged.

One SQLite file, ``<cache dir>/examdeck-cache.sqlite3``, holds three tables:

- ``sources``: a card file's parsed YAML (data and line numbers), keyed by the SHA-256 of its bytes;
- ``cards``: a card's rendered fields, formulas, figures and text problems, keyed by a hash of
  the card's source data (every field but its file path) and the deck's source line;
- ``math``: MathJax's verdict per formula, keyed like ``mathcheck.cache_key`` under the runner's
  identity (MathJax version, ``check.mjs``, the npm lock file).

Everything is stamped with a fingerprint of examdeck (its version and the source of its
modules) and of the libraries that shape the output (PyYAML, markdown-it-py,
mdit-py-plugins): a cache from another version is dropped whole. The cache is never trusted:
an unreadable or corrupt file is replaced by an empty one, an entry that does not have the
expected structure is a miss, and no error in the cache ever fails a build. New entries are
written in one transaction at the end (atomic: a crash leaves the previous cache).
Figures have their own cache: ``figures/<name>.hash`` (see ``examdeck.figures``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:
    from .model import Card
    from .render import RenderedCard
    from .sources import SourceFile

__all__ = ["CACHE_FILE", "BuildCache", "VerdictCache", "card_key", "file_key", "fingerprint", "math_namespace",
           "open_cache"]

CACHE_FILE = "examdeck-cache.sqlite3"
FORMAT = 2
_TABLES = ("sources", "cards", "math")
_CHUNK = 500  # keys per SELECT ... IN (...): below SQLite's variable limit


@cache
def fingerprint() -> str:
    """Identifies the code that produced a cache: examdeck's version and module sources, and the
    libraries that shape parsed and rendered output (their `__init__.py`, which holds the version)."""
    import importlib.util

    digest = hashlib.sha256(f"examdeck-cache {FORMAT} {__version__}".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for module in ("yaml", "markdown_it", "mdit_py_plugins"):
        # find_spec locates the package without importing it.
        spec = importlib.util.find_spec(module)
        origin = spec.origin if spec is not None else None
        digest.update(module.encode() + b"\0" + (Path(origin).read_bytes() if origin else b"absent") + b"\0")
    return digest.hexdigest()


def card_key(card: Card, deck_source: str) -> str:
    """The rendered card's key: all of the card's source data but its path, and the deck's source."""
    # A dataclass's __dict__ lists its fields in order, nested values by their (deterministic)
    # repr; the path is left out so that the same card is found from any working directory.
    try:
        data = dict(card.__dict__)
    except AttributeError:  # a dataclass with slots
        data = {f.name: getattr(card, f.name) for f in dataclasses.fields(card)}
    data.pop("path", None)
    return hashlib.sha256(repr((deck_source, data)).encode()).hexdigest()


def file_key(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class VerdictCache(MutableMapping[str, "str | None"]):
    """MathJax verdicts by ``mathcheck.cache_key``, as ``check_formulas(cache=...)`` wants them:
    the known ones fetched in one query, new ones remembered for ``BuildCache.save``."""

    def __init__(self, known: dict[str, str | None]) -> None:
        self._known = known
        self.new: dict[str, str | None] = {}

    def __getitem__(self, key: str) -> str | None:
        return self._known[key]

    def __setitem__(self, key: str, value: str | None) -> None:
        self._known[key] = value
        self.new[key] = value

    def __delitem__(self, key: str) -> None:
        del self._known[key]
        self.new.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)


@dataclass
class BuildCache:
    """An open build cache; ``None`` connection means a disabled (or unusable) cache."""

    path: Path | None
    _conn: sqlite3.Connection | None = None
    warnings: list[str] = field(default_factory=list)
    _new: dict[str, dict[str, str]] = field(default_factory=lambda: {t: {} for t in _TABLES})
    _used: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in _TABLES})

    @property
    def enabled(self) -> bool:
        return self._conn is not None

    # -- sources ---------------------------------------------------------------------------

    def source(self, key: str, shown: str) -> SourceFile | None:
        """The parsed file with these bytes, or None."""
        raw = self._get("sources", [key]).get(key)
        if raw is None:
            return None
        try:
            return _decode_source(json.loads(raw), shown)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def store_source(self, key: str, source: SourceFile) -> None:
        if self._conn is None or not _json_exact(source.data):
            return  # dates, binary values or aliases cycles do not survive JSON: parse again
        self._put("sources", key, json.dumps(_encode_source(source), ensure_ascii=False))

    # -- rendered cards --------------------------------------------------------------------

    def rendered_cards(self, keys: Iterable[str]) -> dict[str, RenderedCard]:
        """The rendered cards found under `keys`; malformed entries are left out."""
        found = {}
        for key, raw in self._get("cards", list(keys)).items():
            try:
                found[key] = _decode_rendered(json.loads(raw))
            except (ValueError, TypeError, KeyError, AttributeError):
                continue
        return found

    def store_rendered(self, key: str, rendered: RenderedCard) -> None:
        if self._conn is not None:
            self._put("cards", key, json.dumps(_encode_rendered(rendered), ensure_ascii=False))

    # -- math verdicts ---------------------------------------------------------------------

    def verdicts(self, keys: Iterable[str], namespace: str) -> VerdictCache:
        """A mapping for ``check_formulas(cache=...)`` holding the known verdicts of `keys`."""
        wanted = {f"{namespace}\0{key}": key for key in keys}
        known: dict[str, str | None] = {}
        for stored, raw in self._get("math", list(wanted)).items():
            try:
                verdict = json.loads(raw)
            except ValueError:
                continue
            if verdict is None or isinstance(verdict, str):
                known[wanted[stored]] = verdict
        return VerdictCache(known)

    def store_verdicts(self, verdicts: VerdictCache, namespace: str) -> None:
        for key, verdict in verdicts.new.items():
            self._put("math", f"{namespace}\0{key}", json.dumps(verdict))

    # -- storage ---------------------------------------------------------------------------

    def _get(self, table: str, keys: list[str]) -> dict[str, str]:
        self._used[table].update(keys)
        new = self._new[table]
        found = {k: new[k] for k in keys if k in new}
        missing = [k for k in keys if k not in found]
        if self._conn is None or not missing:
            return found
        try:
            for start in range(0, len(missing), _CHUNK):
                chunk = missing[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(f"SELECT key, value FROM {table} WHERE key IN ({marks})", chunk)
                found.update((k, v) for k, v in rows if isinstance(k, str) and isinstance(v, str))
        except sqlite3.Error as exc:
            self._disable(f"cannot read {self.path}: {exc}")
        return found

    def _put(self, table: str, key: str, value: str) -> None:
        self._used[table].add(key)
        self._new[table][key] = value

    def save(self) -> None:
        """Write the new entries in one transaction and drop long-unused ones; never raises."""
        if self._conn is None or not any(self._new.values()):
            return
        try:
            with self._conn:
                for table in _TABLES:
                    self._conn.executemany(
                        f"INSERT OR REPLACE INTO {table} (key, value) VALUES (?, ?)", self._new[table].items()
                    )
                    self._prune(table)
            for table in _TABLES:
                self._new[table].clear()
        except sqlite3.Error as exc:
            self._disable(f"cannot write {self.path}: {exc}")

    def _prune(self, table: str) -> None:
        # Entries of edited cards pile up; once they outnumber the live ones, keep only what
        # this run used (a `check` of every deck, or a build, uses everything that is current).
        if not self._used[table]:
            return  # e.g. no formulas looked up (--no-math-check): keep them all
        (count,) = self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[union-attr]
        if count <= 2 * len(self._used[table]) + 1000:
            return
        assert self._conn is not None
        self._conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key TEXT PRIMARY KEY)")
        self._conn.execute("DELETE FROM keep")
        self._conn.executemany("INSERT OR IGNORE INTO keep VALUES (?)", ((k,) for k in self._used[table]))
        self._conn.execute(f"DELETE FROM {table} WHERE key NOT IN (SELECT key FROM keep)")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _disable(self, reason: str) -> None:
        self.warnings.append(f"build cache ignored: {reason}")
        self.close()


def open_cache(directory: Path | None) -> BuildCache:
    """Open (or create) the cache in `directory`; None, or any problem, gives a disabled cache."""
    if directory is None:
        return BuildCache(None)
    path = Path(directory) / CACHE_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return BuildCache(path, _connect(path))
    except (OSError, sqlite3.Error) as first:
        # Corrupt, truncated or from an incompatible SQLite: start again from an empty file.
        try:
            path.unlink(missing_ok=True)
            return BuildCache(path, _connect(path))
        except (OSError, sqlite3.Error):
            return BuildCache(path, None, [f"build cache ignored: cannot use {path}: {first}"])


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA temp_store=MEMORY")  # nothing of the build in $TMPDIR
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
        if row is None or row[0] != fingerprint():
            # Another version of examdeck (or of a library it renders with) wrote this cache.
            with conn:
                for table in _TABLES:
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fingerprint(),))
        for table in _TABLES:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.isolation_level = "DEFERRED"
        return conn
    except BaseException:
        conn.close()
        raise


def math_namespace(runner_dir: Path | None = None) -> str:
    """What a MathJax verdict depends on besides the formula: MathJax's version and the runner."""
    from .mathcheck import ENGINE_MATHJAX, RUNNER_SCRIPT, default_runner_dir

    runner = runner_dir or default_runner_dir()
    digest = hashlib.sha256(ENGINE_MATHJAX.encode())
    for name in (RUNNER_SCRIPT, "package-lock.json"):
        try:
            digest.update((runner / name).read_bytes())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()[:16]


# -- encoding: plain JSON, checked field by field on the way back -----------------------------


def _json_exact(value: Any, depth: int = 0) -> bool:
    """True when JSON gives `value` back unchanged (types included), e.g. no dates or int keys."""
    if depth > 100:
        return False
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, list):
        return all(_json_exact(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_exact(v, depth + 1) for k, v in value.items())
    return False


def _encode_source(source: SourceFile) -> dict[str, Any]:
    return {
        "data": source.data,
        "lines": [[list(path), line] for path, line in source.lines.items()],
        "offsets": [[list(path), offset] for path, offset in source.text_offsets.items()],
    }


def _int(raw: Any) -> int:
    if type(raw) is not int:
        raise TypeError("int")
    return raw


def _str(raw: Any) -> str:
    if type(raw) is not str:
        raise TypeError("str")
    return raw


def _decode_source(raw: Any, shown: str) -> SourceFile:
    from .sources import SourceFile

    # JSON gives only JSON types, and the schema validates the data as it would fresh YAML;
    # key paths must be hashable (a nested list raises TypeError) and lines whole numbers.
    lines = {tuple(p): n for p, n in raw["lines"]}
    offsets = {tuple(p): n for p, n in raw["offsets"]}
    if not all(type(n) is int for n in lines.values()) or not all(type(n) is int for n in offsets.values()):
        raise TypeError("line numbers")
    return SourceFile(shown, raw["data"], lines, offsets)


def _encode_rendered(rendered: RenderedCard) -> list[Any]:
    # Columns rather than one object per formula: shorter JSON, and decoded by C-level map().
    formulas = rendered.formulas
    return [
        rendered.card_id,
        rendered.fields,
        [f.tex for f in formulas],
        [f.display for f in formulas],
        [f.line for f in formulas],
        [f.field for f in formulas],
        list(rendered.figures),
        [[p.line, p.field, p.message] for p in rendered.problems],
    ]


def _only(kind: type, values: Any) -> bool:
    return type(values) is list and set(map(type, values)) <= {kind}


def _decode_rendered(raw: Any) -> RenderedCard:
    from .render import FormulaRef, RenderedCard, TextProblem

    card_id, fields, texs, displays, lines, names, figures, problems = raw
    if not (
        type(card_id) is str
        and type(fields) is dict
        and set(map(type, fields.values())) <= {str}
        and _only(str, texs) and _only(bool, displays) and _only(int, lines) and _only(str, names)
        and len(texs) == len(displays) == len(lines) == len(names)
        and _only(str, figures) and type(problems) is list
    ):
        raise TypeError("rendered entry")
    found = tuple(TextProblem(line, name, message) for line, name, message in problems)
    if not all(type(p.line) is int and type(p.field) is str and type(p.message) is str for p in found):
        raise TypeError("rendered entry")
    return RenderedCard(card_id=card_id, fields=fields, formulas=tuple(map(FormulaRef, texs, displays, lines, names)),
                        figures=tuple(figures), problems=found)
