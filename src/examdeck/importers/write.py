"""Write imported cards as a deck folder, merging into one that exists without overwriting edits.

A card already in the folder (matched by id) is left exactly as the editor has it; new cards are
appended to their card file; deck.yaml gains the topics the new cards need. What was last
imported is recorded in `.examdeck-import.json` next to deck.yaml, so that a re-import can tell an
exam that changed upstream (reported, never applied) from a card the editor changed (kept).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import InvalidSources, Problem, UsageError
from ..model import Topic
from ..sources import DECK_FILE, parse_file
from .model import DeckMeta, ImportedCard

BASELINE_FILE = ".examdeck-import.json"
TEXT_KEYS = frozenset({"question", "answer", "explanation", "notes", "description"})
_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9(][^\n:#]*$")


@dataclass(frozen=True)
class MergeReport:
    """What an import did to the deck folder."""

    out_dir: Path
    added: tuple[str, ...]
    kept: tuple[str, ...]  # already in the folder: left exactly as they are (changed_upstream included)
    # Cards whose exam version changed since the last import, with the fields that differ.
    # The folder's version was kept: the editor decides.
    changed_upstream: tuple[tuple[str, tuple[str, ...]], ...]
    removed_upstream: tuple[str, ...]  # imported before, no longer in the exam (still in the folder)
    # Kept cards with no record of an earlier import (a hand-made deck): compared from the next import on.
    untracked: tuple[str, ...]
    topics_added: tuple[str, ...]
    files_written: tuple[str, ...]
    # Images of the exam already in images/ with other content: the folder's file was kept.
    images_kept: tuple[str, ...] = ()


# --- YAML text ---------------------------------------------------------------------------


def deck_yaml(meta: DeckMeta) -> str:
    """deck.yaml text: key, title, description, source, topics, in that order."""
    data = meta.to_data()
    lines = [f"key: {_scalar(data['key'])}", f"title: {_scalar(data['title'])}"]
    if "description" in data:
        lines += _block("description", data["description"], 0)
    if "source" in data:
        lines.append(f"source: {_scalar(data['source'])}")
    lines.append("topics:")
    lines += topic_lines(meta.topics, 2)
    return _checked("\n".join(lines) + "\n", data)


def topic_lines(topics: Iterable[Topic], indent: int) -> list[str]:
    pad = " " * indent
    return [line for t in topics for line in (f"{pad}- slug: {_scalar(t.slug)}", f"{pad}  title: {_scalar(t.title)}")]


def cards_yaml(cards: Iterable[ImportedCard]) -> str:
    """A card file: `cards:` then each card, separated by a blank line."""
    cards = list(cards)
    body = "\n\n".join(card_yaml(card, 2) for card in cards)
    return _checked(f"cards:\n{body}\n", {"cards": [c.to_data() for c in cards]})


def card_yaml(card: ImportedCard, indent: int) -> str:
    """One card as a `- id: ...` list item; text fields as `|` blocks so LaTeX needs no escaping."""
    pad = " " * (indent + 2)
    lines: list[str] = []
    for key, value in card.to_data().items():
        if key in TEXT_KEYS and isinstance(value, str) and value:
            lines += _block(key, value, indent + 2)
        elif key == "topics":
            lines.append(f"{pad}topics: [{', '.join(_scalar(t) for t in value)}]")
        elif key == "source":
            lines.append(f"{pad}source: {{{', '.join(f'{k}: {_scalar(v)}' for k, v in value.items())}}}")
        elif key == "choices":
            lines.append(f"{pad}choices:")
            for choice in value:
                lines += _choice_lines(choice["text"], choice["correct"], indent + 4)
                if choice.get("pin"):
                    lines.append(f"{' ' * (indent + 6)}pin: {choice['pin']}")
        else:
            lines.append(f"{pad}{key}: {_scalar(value)}")
    lines[0] = " " * indent + "- " + lines[0][indent + 2:]
    return "\n".join(lines)


def _choice_lines(text: str, correct: bool, indent: int) -> list[str]:
    pad = " " * indent
    if "\n" in text or "\\" in text:
        block = _block("text", text, indent + 2)
        first = [f"{pad}- {block[0].lstrip()}", *block[1:]]
    else:
        first = [f"{pad}- text: {_scalar(text)}"]
    return first + [f"{pad}  correct: {'true' if correct else 'false'}"]


def _block(key: str, text: str, indent: int) -> list[str]:
    """`key: |` and the text indented under it; the header says how to read back exactly `text`."""
    pad = " " * indent
    chomp = "" if text.endswith("\n") and not text.endswith("\n\n") else "-" if not text.endswith("\n") else "+"
    # Text starting with a blank needs the indentation spelled out, or YAML would take it as indent.
    indentation = "2" if text[:1] in (" ", "\n") else ""
    body = text.removesuffix("\n")
    return [f"{pad}{key}: |{indentation}{chomp}"] + [f"{pad}  {line}" if line else "" for line in body.split("\n")]


def _scalar(value: Any) -> str:
    """A one-line YAML scalar: plain when that reads back the same, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if _plain_ok(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _plain_ok(text: str) -> bool:
    if not _PLAIN_SAFE.match(text) or text != text.strip() or text.endswith(":"):
        return False
    try:
        return bool(yaml.safe_load(text) == text)
    except yaml.YAMLError:
        return False


def _checked(text: str, data: Any) -> str:
    """The emitted YAML must read back as exactly the data: a mismatch is a bug, never a silent change."""
    loaded = yaml.safe_load(text)
    if loaded != data:
        raise AssertionError(f"YAML emitted for import does not read back the same:\n{text}")
    return text


# --- writing and merging -----------------------------------------------------------------


def write_deck(cards: Iterable[ImportedCard], deck_meta: DeckMeta, out_dir: Path,
               images: Iterable[tuple[str, bytes]] = ()) -> MergeReport:
    """Write (or merge into) the deck folder `out_dir`; check the result (as `examdeck check` does,
    formulas included) before anything is written. `images` are (name, content) pairs written to
    `out_dir/images/<name>`; an image already there is never overwritten.

    :raises InvalidSources: the merged deck would not validate (nothing is written), or an
        existing file cannot be read.
    :raises UsageError: `out_dir` holds another deck (different key) or is not a deck folder.
    """
    cards = list(cards)
    _check_unique(cards)
    existing = read_existing(out_dir, deck_meta.key)
    baseline = _read_baseline(out_dir)
    pending_before = _read_pending(out_dir)
    files: dict[str, str] = {}
    imported = {c.id: c.to_data() for c in cards}
    added = [c for c in cards if c.id not in existing.cards]
    changed: list[tuple[str, tuple[str, ...]]] = []
    kept: list[str] = []
    for card in cards:
        if card.id not in existing.cards:
            continue
        kept.append(card.id)
        if card.id in baseline:
            # Changed since the last import, or reported before and still not in the folder: a change
            # the editor has not taken is reported on every import, not only the first.
            since = _changed_fields(baseline[card.id], imported[card.id])
            still = [f for f in pending_before.get(card.id, ())
                     if _normalized(existing.cards[card.id].get(f)) != _normalized(imported[card.id].get(f))]
            fields = tuple(dict.fromkeys([*since, *still]))
            if fields:
                changed.append((card.id, fields))
    untracked = [i for i in kept if i not in baseline]
    removed = [i for i in baseline if i not in imported and i in existing.cards]
    topics_added = _plan_deck_file(deck_meta, added, existing, files)
    _plan_card_files(added, existing, files, out_dir)
    baseline.update(imported)
    record: dict[str, Any] = {"version": 1, "cards": baseline}
    if changed:
        record["pending"] = {card_id: list(fields) for card_id, fields in changed}
    files[BASELINE_FILE] = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    binary: dict[str, bytes] = {}
    images_kept = []
    for name, data in images:
        existing_image = out_dir / "images" / name
        if not existing_image.is_file():
            binary[f"images/{name}"] = data
        elif existing_image.read_bytes() != data:
            images_kept.append(f"images/{name}")
    _validate(out_dir, files, binary)
    _write_files(out_dir, files, binary)
    return MergeReport(
        out_dir=out_dir,
        added=tuple(c.id for c in added),
        kept=tuple(kept),
        changed_upstream=tuple(changed),
        removed_upstream=tuple(removed),
        untracked=tuple(untracked),
        topics_added=tuple(topics_added),
        files_written=tuple(sorted([*(f for f in files if f != BASELINE_FILE), *binary])),
        images_kept=tuple(images_kept),
    )


@dataclass(frozen=True)
class ExistingDeck:
    """A deck folder as the editor left it: file texts and card data by id (empty when new)."""

    deck_text: str | None
    deck_data: dict[str, Any]
    file_texts: dict[str, str]
    cards: dict[str, dict[str, Any]]


def read_existing(out_dir: Path, key: str) -> ExistingDeck:
    if not out_dir.exists():
        return ExistingDeck(None, {}, {}, {})
    if not out_dir.is_dir():
        raise UsageError(f"{out_dir} is not a directory")
    deck_path = out_dir / DECK_FILE
    card_paths = sorted(p for p in out_dir.rglob("*") if p.suffix in (".yaml", ".yml") and p.name != DECK_FILE)
    if not deck_path.is_file():
        if card_paths:
            raise UsageError(f"{out_dir} holds card files but no {DECK_FILE}: import into a new folder or a deck")
        return ExistingDeck(None, {}, {}, {})
    problems: list[Problem] = []
    deck = parse_file(deck_path, problems)
    parsed = [(p, parse_file(p, problems)) for p in card_paths]
    if problems:
        raise InvalidSources(problems)
    deck_data = deck.data if deck is not None and isinstance(deck.data, dict) else {}
    if deck_data.get("key") != key:
        raise UsageError(f"{out_dir} holds deck {deck_data.get('key')!r}, not {key!r}: check --deck and --out")
    cards: dict[str, dict[str, Any]] = {}
    for _, source in parsed:
        data = source.data if source is not None else None
        for card in data.get("cards", []) if isinstance(data, dict) and isinstance(data.get("cards"), list) else []:
            if isinstance(card, dict) and isinstance(card.get("id"), str):
                cards.setdefault(card["id"], card)
    texts = {p.relative_to(out_dir).as_posix(): p.read_text(encoding="utf-8") for p in card_paths}
    return ExistingDeck(deck_path.read_text(encoding="utf-8"), deck_data, texts, cards)


def _check_unique(cards: list[ImportedCard]) -> None:
    seen: set[str] = set()
    for card in cards:
        if card.id in seen:
            raise ValueError(f"two imported cards have the id {card.id!r}")
        seen.add(card.id)


def _changed_fields(reference: dict[str, Any], imported: dict[str, Any]) -> tuple[str, ...]:
    keys = list(dict.fromkeys([*imported, *reference]))
    return tuple(k for k in keys if _normalized(reference.get(k)) != _normalized(imported.get(k)))


def _normalized(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalized(v) for k, v in value.items()}
    return value


def _read_pending(out_dir: Path) -> dict[str, list[str]]:
    """The upstream changes the last import reported (card id -> fields), from the record."""
    try:
        data = json.loads((out_dir / BASELINE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    pending = data.get("pending") if isinstance(data, dict) else None
    if not isinstance(pending, dict):
        return {}
    return {k: [f for f in v if isinstance(f, str)] for k, v in pending.items() if isinstance(v, list)}


def _read_baseline(out_dir: Path) -> dict[str, dict[str, Any]]:
    path = out_dir / BASELINE_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a damaged record only makes the report less precise
    cards = data.get("cards") if isinstance(data, dict) else None
    return dict(cards) if isinstance(cards, dict) else {}


def _plan_deck_file(meta: DeckMeta, added: list[ImportedCard], existing: ExistingDeck, files: dict[str, str]) -> list[str]:
    """deck.yaml for a new deck, or the existing one with the topics new cards need appended."""
    if existing.deck_text is None:
        files[DECK_FILE] = deck_yaml(meta)
        return [t.slug for t in meta.topics]
    have = {t.get("slug") for t in existing.deck_data.get("topics") or [] if isinstance(t, dict)}
    needed = {slug for card in added for slug in card.topics}
    missing = [t for t in meta.topics if t.slug in needed and t.slug not in have]
    if not missing:
        return []
    data = dict(existing.deck_data)
    data["topics"] = list(data.get("topics") or []) + [{"slug": t.slug, "title": t.title} for t in missing]
    appended = append_to_list(existing.deck_text, "topics", topic_lines(missing, 0), data)
    if appended is None:
        raise UsageError(f"cannot add topics {', '.join(t.slug for t in missing)} to {DECK_FILE}: its topics list "
                         "is not a block list; add them by hand and import again")
    files[DECK_FILE] = appended
    return [t.slug for t in missing]


def _plan_card_files(added: list[ImportedCard], existing: ExistingDeck, files: dict[str, str], out_dir: Path) -> None:
    """New card files for new cards; cards for a file that exists are appended to it."""
    by_file: dict[str, list[ImportedCard]] = {}
    for card in added:
        by_file.setdefault(card.file, []).append(card)
    for name, cards in by_file.items():
        text = existing.file_texts.get(name)
        if text is None:
            files[name] = cards_yaml(cards)
            continue
        data = yaml.safe_load(text)
        if not isinstance(data, dict) or not isinstance(data.get("cards"), list):
            files[_free_name(name, existing, files)] = cards_yaml(cards)
            continue
        expected = dict(data)
        expected["cards"] = list(data["cards"]) + [c.to_data() for c in cards]
        items = [line for card in cards for line in ("", *card_yaml(card, 0).split("\n"))]
        appended = append_to_list(text, "cards", items, expected)
        if appended is None:  # an unusual layout: leave the file alone and start a new one
            files[_free_name(name, existing, files)] = cards_yaml(cards)
        else:
            files[name] = appended


def append_to_list(text: str, key: str, item_lines: list[str], expected: Any) -> str | None:
    """Append items to the top-level block list `key` of a YAML text, keeping every other byte.

    `item_lines` are written for a list whose dashes are at column 0; they are indented like the
    existing items. Returns None when the result would not read back as `expected`.
    """
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    seq = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not seq.value:
        return None
    first_line = text.split("\n")[seq.value[0].start_mark.line]
    dash = first_line.find("-")
    if dash < 0:
        return None
    last_end = seq.value[-1].end_mark
    lines = text.split("\n")
    # After the last item's own lines: block scalars end at the next token, so step back over
    # the blank and comment lines that follow the item.
    insert_at = last_end.line if last_end.column == 0 else last_end.line + 1
    while insert_at > seq.value[-1].start_mark.line + 1 and (not lines[insert_at - 1].strip()):
        insert_at -= 1
    pad = " " * dash
    new = [pad + line if line else "" for line in item_lines]
    result = "\n".join(lines[:insert_at] + new + lines[insert_at:])
    if not result.endswith("\n"):
        result += "\n"
    try:
        if yaml.safe_load(result) != expected:
            return None
    except yaml.YAMLError:
        return None
    return result


def _free_name(name: str, existing: ExistingDeck, files: dict[str, str]) -> str:
    stem = name.rsplit(".", 1)[0]
    n = 1
    while True:
        candidate = f"{stem}-new{'' if n == 1 else f'-{n}'}.yaml"
        if candidate not in existing.file_texts and candidate not in files:
            return candidate
        n += 1


def _validate(out_dir: Path, files: dict[str, str], binary: dict[str, bytes] | None = None) -> None:
    """Check the deck as it will be, in a scratch copy, as `examdeck check` does (formulas included)."""
    from ..pipeline import check

    with tempfile.TemporaryDirectory(prefix="examdeck-import-") as scratch:
        deck_dir = Path(scratch) / "deck"
        if out_dir.is_dir():
            shutil.copytree(out_dir, deck_dir)
        else:
            deck_dir.mkdir()
        for name, text in files.items():
            (deck_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (deck_dir / name).write_text(text, encoding="utf-8")
        for name, data in (binary or {}).items():
            (deck_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (deck_dir / name).write_bytes(data)
        try:
            check(deck_dir)
        except InvalidSources as exc:
            raise InvalidSources([_relocate(p, deck_dir, out_dir) for p in exc.problems]) from None


def _relocate(problem: Problem, scratch: Path, out_dir: Path) -> Problem:
    """A problem found in the scratch copy, named by the file the user will have."""
    path = problem.path
    for prefix in (str(scratch.resolve()), str(scratch)):
        if path.startswith(prefix):
            path = str(out_dir / path[len(prefix):].lstrip("/\\"))
            break
    return Problem(path, problem.line, problem.field, problem.message)


def _write_files(out_dir: Path, files: dict[str, str], binary: dict[str, bytes] | None = None) -> None:
    """Each file replaced atomically: an interrupted import never leaves half a file."""
    contents: dict[str, str | bytes] = {**files, **(binary or {})}
    for name, content in sorted(contents.items()):
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        if isinstance(content, bytes):
            temporary.write_bytes(content)
        else:
            temporary.write_text(content, encoding="utf-8")
        os.replace(temporary, path)
