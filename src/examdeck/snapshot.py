"""What a deck looked like at one point: from a cards directory, a built .apkg or a git ref.

Every side is reduced to the same plain values (the note fields as shipped, topics, status),
so releases can be compared whatever form each one is kept in.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

_MEDIA_NAME = re.compile(r'src="examdeck-([a-z0-9-]+?)-[0-9a-f]{16}\.\w+"')


@dataclass(frozen=True)
class CardSnapshot:
    id: str
    type: str
    topics: tuple[str, ...]  # slugs, sorted
    primary_topic: str  # the topic's title: the subdeck the card ships in
    status: str
    fields: dict[str, str]  # note fields as HTML, figures as src="figure:NAME"


@dataclass(frozen=True)
class DeckSnapshot:
    key: str
    label: str
    cards: dict[str, CardSnapshot]


def load_snapshot(spec: str, *, deck_key: str | None = None, cards_path: str = "cards") -> DeckSnapshot:
    """`spec` is an .apkg file, a cards directory, or a git ref (its `cards_path` is read)."""
    path = Path(spec)
    if path.is_file() and path.suffix == ".apkg":
        return from_package(path, deck_key)
    if path.is_dir():
        return from_cards_dir(path, deck_key, label=spec)
    return from_git_ref(spec, cards_path, deck_key)


def from_cards_dir(cards_dir: Path, deck_key: str | None, *, label: str) -> DeckSnapshot:
    from .pipeline import check

    report = check(cards_dir, math_check=False)
    decks = [d for d in report.decks if deck_key in (None, d.deck.key)]
    checked = _one_deck(decks, [d.deck.key for d in report.decks], deck_key, label)
    deck = checked.deck
    cards = {}
    for card in deck.cards:
        fields = dict(checked.rendered[card.id].fields)
        fields.pop("Id")
        cards[card.id] = CardSnapshot(
            card.id, card.type, tuple(sorted(card.topics)), deck.topic(card.primary_topic).title, card.status, fields
        )
    return DeckSnapshot(deck.key, label, cards)


def from_package(path: Path, deck_key: str | None) -> DeckSnapshot:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with zipfile.ZipFile(path) as archive:
                archive.extract("collection.anki2", tmp)
        except (zipfile.BadZipFile, KeyError) as exc:
            raise UsageError(f"{path} is not an Anki package ({exc})") from None
        conn = sqlite3.connect(Path(tmp) / "collection.anki2")
        try:
            models = json.loads(conn.execute("select models from col").fetchone()[0])
            decks = json.loads(conn.execute("select decks from col").fetchone()[0])
            rows = conn.execute("select n.id, n.mid, n.flds, n.tags, min(c.did) from notes n "
                                "left join cards c on c.nid = n.id group by n.id").fetchall()
        finally:
            conn.close()
    by_key: dict[str, dict[str, CardSnapshot]] = {}
    for _, mid, flds, tags, did in rows:
        names = [f["name"] for f in models[str(mid)]["flds"]]
        fields = {n: _MEDIA_NAME.sub(r'src="figure:\1"', v) for n, v in zip(names, flds.split("\x1f"))}
        tag_list = tags.split()
        key = next((t.split("::")[1] for t in tag_list if t.count("::") == 1 and t.startswith("exam::")), "")
        card_id = fields.pop("Id", "")
        topics = tuple(sorted(t.split("::", 1)[1] for t in tag_list if t.startswith("topic::")))
        status = next((t.split("::", 1)[1] for t in tag_list if t.startswith("status::")), "active")
        card_type = next((t.split("::", 1)[1] for t in tag_list if t.startswith("type::")), "")
        primary = decks[str(did)]["name"].split("::")[-1] if did is not None and str(did) in decks else ""
        by_key.setdefault(key, {})[card_id] = CardSnapshot(card_id, card_type, topics, primary, status, fields)
    keys = sorted(by_key)
    chosen = [k for k in keys if deck_key in (None, k)]
    if len(chosen) != 1:
        _one_deck([], keys, deck_key, str(path))
    return DeckSnapshot(chosen[0], str(path), by_key[chosen[0]])


def from_git_ref(ref: str, cards_path: str, deck_key: str | None) -> DeckSnapshot:
    """Export `cards_path` at `ref` with `git archive` and read it as a cards directory."""
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True).stdout.strip()
        archive = subprocess.run(["git", "-C", top, "archive", "--format=tar", ref, "--", cards_path],
                                 capture_output=True, check=True).stdout
    except FileNotFoundError:
        raise UsageError(f"{ref!r} is not a file or directory, and git is not installed to read it as a ref") from None
    except subprocess.CalledProcessError as exc:
        message = (exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or "").strip().splitlines()
        raise UsageError(
            f"{ref!r} is not an .apkg, a cards directory or a git ref with {cards_path}/ ({message[-1] if message else 'git failed'})"
        ) from None
    with tempfile.TemporaryDirectory() as tmp:
        tar_path = Path(tmp) / "cards.tar"
        tar_path.write_bytes(archive)
        with tarfile.open(tar_path) as tar:
            tar.extractall(tmp, filter="data")
        return from_cards_dir(Path(tmp) / cards_path, deck_key, label=f"{ref}:{cards_path}")


def _one_deck(decks: list, keys: list[str], deck_key: str | None, label: str):
    if len(decks) == 1:
        return decks[0]
    if deck_key is not None:
        raise UsageError(f"no deck {deck_key!r} in {label} (decks: {', '.join(keys) or 'none'})")
    raise UsageError(f"{label} holds several decks ({', '.join(keys)}): choose one with --deck")
