"""What a deck looked like at one point: from a cards directory, a built .apkg or a git ref.

Every side is reduced to the same plain values (the note fields as shipped, topics, status),
so releases can be compared whatever form each one is kept in. A cards directory or git ref also
gives each field's Markdown source and where each card is written; a package has only the HTML
(see examdeck.htmltext for how a diff shows it).
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UsageError

if TYPE_CHECKING:
    from .model import Card
    from .pipeline import CheckedDeck

# render.retirement_banner: the reason follows the version; unmatched (another wording), the reason is left unknown.
_BANNER = re.compile(r'<div class="retired-banner"><strong>Retired in [^<]*:</strong> (.*?) This card is no longer', re.DOTALL)
# notetypes.genanki_model: "examdeck multiple choice (v2)".
_NOTETYPE_NAME = re.compile(r"^examdeck .* \(v(\d+)\)$")
# assemble.figure_media: a figure variant's media file, back to the reference render.figure_src gives it.
_MEDIA_NAME = re.compile(r'src="examdeck-([a-z0-9-]+?)-(desktop|phone)-(light|dark)-[0-9a-f]{16}\.\w+"')


@dataclass(frozen=True)
class CardSnapshot:
    id: str
    type: str  # mcq, truefalse or open: which note type the card's note has
    topics: tuple[str, ...]  # slugs in the card's order: the primary topic first
    primary_topic: str  # the topic's title: the subdeck the card ships in ('' for a package's card-less note)
    status: str
    fields: dict[str, str]  # note fields as HTML, figures as src="figure:NAME"
    sources: dict[str, str] | None = None  # the same fields as Markdown source (None: a package, HTML only)
    path: str = ""  # where the card is written, e.g. `v2025-spring:cards/ml/part1.yaml` ('' when unknown)
    line: int = 0  # the line where the card starts there (0 when unknown)
    retired_reason: str = ""  # why it was retired, where known

    @property
    def location(self) -> str:
        """`path:line`, or '' when the snapshot came from a package."""
        return f"{self.path}:{self.line}" if self.path else ""


@dataclass(frozen=True)
class DeckSnapshot:
    key: str
    label: str
    cards: dict[str, CardSnapshot]
    # The examdeck note-type versions (NOTETYPE_VERSION) of its notes, where known: a package's; empty
    # for sources, whose note types are whatever examdeck builds them with.
    notetype_versions: frozenset[int] = frozenset()

    @property
    def has_sources(self) -> bool:
        """True when every card's Markdown source is known (a cards directory or git ref, not a package)."""
        return all(c.sources is not None for c in self.cards.values())


def load_snapshot(spec: str, *, deck_key: str | None = None, cards_path: str = "cards") -> DeckSnapshot:
    """`spec` is an .apkg file, a cards directory, or a git ref (its `cards_path` is read)."""
    path = Path(spec)
    if path.is_file() and path.suffix == ".apkg":
        return from_package(path, deck_key)
    if path.is_dir():
        return from_cards_dir(path, deck_key, label=spec)
    return from_git_ref(spec, cards_path, deck_key)


def from_cards_dir(cards_dir: Path, deck_key: str | None, *, label: str, shown_as: str | None = None) -> DeckSnapshot:
    """The deck `deck_key` (or the only one) of a cards directory; `shown_as` replaces `cards_dir` in card paths."""
    from .errors import InvalidSources
    from .pipeline import check

    try:
        report = check(cards_dir, math_check=False)
    except InvalidSources as exc:
        if shown_as is None:
            raise
        first = str(exc.problems[0]).replace(str(cards_dir), shown_as)
        raise UsageError(
            f"the cards of {label} do not load with this examdeck ({len(exc.problems)} problems; the first: {first}): "
            "compare with that release's .apkg instead"
        ) from None
    decks = [d for d in report.decks if deck_key in (None, d.deck.key)]
    checked = _one_deck(decks, [d.deck.key for d in report.decks], deck_key, label)
    return from_checked(checked, label, cards_dir=cards_dir, shown_as=shown_as)


def from_checked(checked: CheckedDeck, label: str, *, cards_dir: Path | None = None, shown_as: str | None = None) -> DeckSnapshot:
    """A snapshot of a deck already checked, with its sources and card locations."""
    deck = checked.deck
    cards = {}
    for card in deck.cards:
        fields = _with_image_media(checked, dict(checked.rendered[card.id].fields))
        fields.pop("Id")
        path = card.path
        if shown_as is not None and cards_dir is not None:
            try:
                relative = Path(card.path).relative_to(cards_dir).as_posix()
                path = f"{shown_as}{relative}" if shown_as.endswith(":") else f"{shown_as}/{relative}"
            except ValueError:  # not under cards_dir: keep the path as loaded
                pass
        cards[card.id] = CardSnapshot(
            card.id, card.type, tuple(card.topics), deck.topic(card.primary_topic).title, card.status, fields,
            source_texts(card, fields), path, card.line, card.retirement.reason if card.retirement else "",
        )
    return DeckSnapshot(deck.key, label, cards)


def _with_image_media(checked: CheckedDeck, fields: dict[str, str]) -> dict[str, str]:
    """`fields` with the deck folder's images under the media names a package gives them, so that a
    package and its sources compare equal."""
    if "examdeck-image:" not in "".join(fields.values()):
        return fields
    from . import images
    from .fastmd import escape_html
    from .render import IMAGE_SCHEME

    for found in re.findall(r'src="(examdeck-image:[^"]*)"', "".join(fields.values())):
        path = html.unescape(found)[len(IMAGE_SCHEME):]
        try:
            name = images.media_name(images.resolve(Path(checked.deck.path), path))
        except Exception:  # noqa: BLE001 - a checked deck's images exist; if not, compare as written
            continue
        fields = {k: v.replace(f'src="{found}"', f'src="{escape_html(name)}"') for k, v in fields.items()}
    return fields


def source_texts(card: Card, fields: dict[str, str]) -> dict[str, str]:
    """Each note field of `card` as its author wrote it: the Markdown of the question, choices
    (`- [x] ` for a correct one), answer and explanation; fields with no Markdown source (a true/false
    answer, the figure, the exam reference) as the text recovered from their HTML."""
    from .htmltext import html_to_text
    from .model import TextField

    texts = {name: html_to_text(value) for name, value in fields.items()}
    if "Question" in texts:
        texts["Question"] = card.question.text.rstrip()
    if "Choices" in texts and card.choices:
        texts["Choices"] = "\n".join(
            ("- [x] " if c.correct else "- [ ] ") + c.text.strip().replace("\n", "\n      ") for c in card.choices
        )
    if "Answer" in texts and isinstance(card.answer, TextField):
        texts["Answer"] = card.answer.text.rstrip()
    if "Explanation" in texts:
        texts["Explanation"] = card.explanation.text.rstrip() if card.explanation else ""
    return texts


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
    versions: dict[str, set[int]] = {}
    for _, mid, flds, tags, did in rows:
        names = [f["name"] for f in models[str(mid)]["flds"]]
        fields = {n: _MEDIA_NAME.sub(r'src="figure:\1/\2-\3"', v) for n, v in zip(names, flds.split("\x1f"))}
        tag_list = tags.split()
        key = next((t.split("::")[1] for t in tag_list if t.count("::") == 1 and t.startswith("exam::")), "")
        card_id = fields.pop("Id", "")
        topics = tuple(t.split("::", 1)[1] for t in tag_list if t.startswith("topic::"))  # written in the card's order
        status = next((t.split("::", 1)[1] for t in tag_list if t.startswith("status::")), "active")
        card_type = next((t.split("::", 1)[1] for t in tag_list if t.startswith("type::")), "")
        primary = decks[str(did)]["name"].split("::")[-1] if did is not None and str(did) in decks else ""
        banner = _BANNER.search(fields.get("Question", ""))
        reason = html.unescape(banner.group(1)) if banner else ""
        by_key.setdefault(key, {})[card_id] = CardSnapshot(card_id, card_type, topics, primary, status, fields, retired_reason=reason)
        version = _NOTETYPE_NAME.search(models[str(mid)]["name"])
        if version:
            versions.setdefault(key, set()).add(int(version.group(1)))
    keys = sorted(by_key)
    chosen = [k for k in keys if deck_key in (None, k)]
    if len(chosen) != 1:
        _one_deck([], keys, deck_key, str(path))
    return DeckSnapshot(chosen[0], str(path), by_key[chosen[0]], frozenset(versions.get(chosen[0], ())))


def from_git_ref(ref: str, cards_path: str, deck_key: str | None, *, repo_dir: Path | None = None) -> DeckSnapshot:
    """Export `cards_path` (relative to the repository's top; '' for all of it) at `ref` with `git archive`
    and read it as a cards directory; the repository is the one of `repo_dir` (default: the current directory).
    Card paths read `REF:PATH`, as `git show` takes them."""
    cwd = ["-C", str(repo_dir)] if repo_dir is not None else []
    try:
        top = subprocess.run(["git", *cwd, "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True).stdout.strip()
        archive = subprocess.run(["git", "-C", top, "archive", "--format=tar", ref, *(["--", cards_path] if cards_path else [])],
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
        inner = cards_path.strip("/")
        return from_cards_dir(Path(tmp) / inner if inner else Path(tmp), deck_key, label=f"{ref}:{inner}", shown_as=f"{ref}:{inner}")


class MissingDeck(UsageError):
    """The side compared has no deck of the key asked for (e.g. a release tag older than the deck)."""


def _one_deck(decks: list, keys: list[str], deck_key: str | None, label: str):
    if len(decks) == 1:
        return decks[0]
    if deck_key is not None:
        raise MissingDeck(f"no deck {deck_key!r} in {label} (decks: {', '.join(keys) or 'none'})")
    raise UsageError(f"{label} holds several decks ({', '.join(keys)}): choose one with --deck")
