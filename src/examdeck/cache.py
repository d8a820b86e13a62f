"""The build cache: what earlier builds computed, reused only when its inputs are unchanged.

One SQLite file, ``<cache dir>/examdeck-cache.sqlite3``, holds six tables:

- ``sources``: a YAML file's parsed data and line numbers, keyed by the SHA-256 of its bytes: deck
  files, and card files that did not validate (the others' cards are in ``files``);
- ``files``: a card file's validated cards, keyed by its bytes and what else validation reads (the
  deck's topics, the known figures); only files that validated without any problem are kept, so
  problems are always found and reported afresh;
- ``renders``: the rendered cards of such a file, keyed by its ``files`` key and the deck's source
  line: an unchanged file costs one look-up, not one per card;
- ``heads``: the guids, tags and card ords of those cards' notes, keyed by the ``renders`` key
  and the deck's key (what a note row holds besides the fields, which come from ``renders``);
- ``cards``: a card's rendered fields, formulas, figures and text problems, keyed by a hash of
  the card's source data (every field but its file path) and the deck's source line (the cards
  of a changed file are looked up here, so that only the edited ones are rendered);
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
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .codec import decode_cards, decode_heads, decode_rendered, encode_cards, encode_heads, encode_rendered, join_rendered
from .sources import SourceFile, file_key

if TYPE_CHECKING:
    from .model import Card, NoteHead
    from .render import RenderedCard

__all__ = ["CACHE_FILE", "BuildCache", "VerdictCache", "card_file_key", "card_key", "file_key", "fingerprint",
           "math_namespace", "open_cache"]

CACHE_FILE = "examdeck-cache.sqlite3"
FORMAT = 4
_TABLES = ("sources", "files", "renders", "heads", "cards", "math")
# Stale entries kept beyond twice the live ones before pruning (see _prune): few for the
# per-file tables, whose entries are large (a whole file), many for the per-card ones.
_PRUNE_SLACK = {"sources": 50, "files": 50, "renders": 50, "heads": 50, "cards": 1000, "math": 1000}
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


def card_file_key(digest: str, topic_slugs: Iterable[str], known_figures: Iterable[str]) -> str:
    """The validated cards' key: what validating a card file reads besides examdeck's code (the
    fingerprint): its bytes (their `file_key` digest), its deck's topics and the known figures. Not
    its path, which only names the file in cards and problems, so the cache works from any
    working directory."""
    context = json.dumps([digest, sorted(topic_slugs), sorted(known_figures)])
    return hashlib.sha256(context.encode()).hexdigest()


def _renders_key(files_key: str, deck_source: str) -> str:
    # A file's rendered cards depend on its cards (its `files` key) and the deck's source line.
    return hashlib.sha256(f"{files_key}\0{deck_source}".encode()).hexdigest()


def _heads_key(files_key: str, deck_source: str, deck_key: str) -> str:
    # Note heads depend on the rendered cards (which fields are filled) and the deck's key (guids, tags).
    return hashlib.sha256(f"{_renders_key(files_key, deck_source)}\0{deck_key}".encode()).hexdigest()


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

    # -- validated card files --------------------------------------------------------------

    def card_file(self, key: str, shown: str) -> tuple[Card, ...] | None:
        """The validated cards of the card file `shown` stored under `key`, or None."""
        raw = self._get("files", [key]).get(key)
        if raw is None:
            return None
        try:
            return tuple(decode_cards(json.loads(raw), shown))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def store_card_file(self, key: str, cards: Iterable[Card]) -> None:
        """Keep the cards of a card file that validated without any problem."""
        if self._conn is not None:
            self._put("files", key, json.dumps(encode_cards(list(cards)), ensure_ascii=False))

    # -- rendered cards --------------------------------------------------------------------

    def rendered_file(self, files_key: str, deck_source: str, cards: Sequence[Card]) -> list[RenderedCard] | None:
        """The rendered `cards` of the card file whose validated cards are under `files_key`, or None."""
        key = _renders_key(files_key, deck_source)
        raw = self._get("renders", [key]).get(key)
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            card_keys, rendered = entry["keys"], decode_rendered(entry["cards"])
            if len(rendered) != len(cards) or any(r.card_id != c.id for r, c in zip(rendered, cards)):
                return None
            if type(card_keys) is not list:
                raise TypeError("card keys")
            # The per-card entries of these cards stay current too: kept for the file's next edit.
            self._used["cards"].update(card_keys)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return rendered

    def store_rendered_file(
        self, files_key: str, deck_source: str, rendered: Sequence[RenderedCard], card_keys: Sequence[str]
    ) -> None:
        """Keep a card file's rendered cards, with the per-card keys they are also stored under."""
        if self._conn is not None:
            value = {"keys": list(card_keys), "cards": encode_rendered(rendered)}
            self._put("renders", _renders_key(files_key, deck_source), json.dumps(value, ensure_ascii=False))

    def rendered_cards(self, keys: Iterable[str]) -> dict[str, RenderedCard]:
        """The rendered cards found under `keys`; malformed entries are left out."""
        entries = self._get("cards", list(keys))
        try:  # all at once: a changed card file has hundreds of cards
            joined = join_rendered(json.loads("[" + ",".join(entries.values()) + "]"))
            return dict(zip(entries, decode_rendered(joined), strict=True))
        except (ValueError, TypeError, KeyError, AttributeError):
            pass  # some entry is malformed: find which, one by one
        found = {}
        for key, raw in entries.items():
            try:
                (found[key],) = decode_rendered(json.loads(raw))
            except (ValueError, TypeError, KeyError, AttributeError):
                continue
        return found

    def store_rendered(self, key: str, rendered: RenderedCard) -> None:
        if self._conn is not None:
            self._put("cards", key, json.dumps(encode_rendered([rendered]), ensure_ascii=False))

    # -- note heads ------------------------------------------------------------------------

    def note_heads(self, files_key: str, deck_source: str, deck_key: str, count: int) -> list[NoteHead] | None:
        """The note heads of the `count` cards of the card file whose validated cards are under `files_key`."""
        key = _heads_key(files_key, deck_source, deck_key)
        raw = self._get("heads", [key]).get(key)
        if raw is None:
            return None
        try:
            heads = decode_heads(json.loads(raw))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return heads if len(heads) == count else None

    def store_note_heads(self, files_key: str, deck_source: str, deck_key: str, heads: Sequence[NoteHead]) -> None:
        if self._conn is not None:
            self._put("heads", _heads_key(files_key, deck_source, deck_key), json.dumps(encode_heads(heads)))

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
        except (sqlite3.Error, ValueError) as exc:  # ValueError: text SQLite cannot store (a lone surrogate)
            self._disable(f"cannot write {self.path}: {exc}")

    def _prune(self, table: str) -> None:
        # Entries of edited cards pile up; once they outnumber the live ones, keep only what
        # this run used (a `check` of every deck, or a build, uses everything that is current).
        if not self._used[table]:
            return  # e.g. no formulas looked up (--no-math-check): keep them all
        (count,) = self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[union-attr]
        if count <= 2 * len(self._used[table]) + _PRUNE_SLACK[table]:
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


# -- parsed files as plain JSON, checked on the way back (cards: see examdeck.codec) -----------


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
        "written": [[list(path), text] for path, text in source.written.items()],
        "comments": [[list(path), text] for path, text in source.comments.items()],
    }


def _decode_source(raw: Any, shown: str) -> SourceFile:
    # JSON gives only JSON types, and the schema validates the data as it would fresh YAML;
    # key paths must be hashable (a nested list raises TypeError) and lines whole numbers.
    lines = {tuple(p): n for p, n in raw["lines"]}
    offsets = {tuple(p): n for p, n in raw["offsets"]}
    if not all(type(n) is int for n in lines.values()) or not all(type(n) is int for n in offsets.values()):
        raise TypeError("line numbers")
    written = {tuple(p): str(t) for p, t in raw["written"]}
    comments = {tuple(p): str(t) for p, t in raw["comments"]}
    return SourceFile(shown, raw["data"], lines, offsets, written, comments)
