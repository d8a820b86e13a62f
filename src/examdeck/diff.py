"""Compare two releases of a deck: cards added, changed field by field, moved, retired, removed."""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass

from .snapshot import CardSnapshot, DeckSnapshot


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str

    def diff_lines(self) -> list[str]:
        return list(difflib.unified_diff(self.old.splitlines(), self.new.splitlines(), "old", "new", n=1, lineterm=""))[2:]


@dataclass(frozen=True)
class Move:
    id: str
    old_topics: tuple[str, ...]
    new_topics: tuple[str, ...]
    old_subdeck: str
    new_subdeck: str


@dataclass(frozen=True)
class DeckDiff:
    old: str
    new: str
    added: tuple[str, ...]
    changed: dict[str, tuple[FieldChange, ...]]
    moved: tuple[Move, ...]
    retired: tuple[str, ...]
    removed: tuple[str, ...]
    status_changes: dict[str, tuple[str, str]]

    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.moved or self.retired or self.removed or self.status_changes)


def diff_snapshots(old: DeckSnapshot, new: DeckSnapshot) -> DeckDiff:
    added = tuple(sorted(set(new.cards) - set(old.cards)))
    removed = tuple(sorted(set(old.cards) - set(new.cards)))
    changed: dict[str, tuple[FieldChange, ...]] = {}
    moved, retired, status_changes = [], [], {}
    for card_id in sorted(set(old.cards) & set(new.cards)):
        before, after = old.cards[card_id], new.cards[card_id]
        if after.status == "retired" and before.status != "retired":
            retired.append(card_id)
            continue
        if before.status != after.status:
            status_changes[card_id] = (before.status, after.status)
        # A card-less (retired) note in a package has no subdeck: compare subdecks only when both have one.
        subdeck_moved = before.primary_topic and after.primary_topic and before.primary_topic != after.primary_topic
        if before.topics != after.topics or subdeck_moved:
            moved.append(Move(card_id, before.topics, after.topics, before.primary_topic, after.primary_topic))
        fields = _field_changes(before, after)
        if fields:
            changed[card_id] = fields
    return DeckDiff(old.label, new.label, added, changed, tuple(moved), tuple(retired), removed, status_changes)


def _field_changes(before: CardSnapshot, after: CardSnapshot) -> tuple[FieldChange, ...]:
    names = list(dict.fromkeys([*before.fields, *after.fields]))
    return tuple(
        FieldChange(n, before.fields.get(n, ""), after.fields.get(n, ""))
        for n in names
        if before.fields.get(n, "") != after.fields.get(n, "")
    )


def format_diff(diff: DeckDiff, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(_as_json(diff), indent=2, sort_keys=True)
    markdown = output_format == "markdown"
    lines = [f"## Changes from {diff.old} to {diff.new}" if markdown else f"changes from {diff.old} to {diff.new}"]
    if diff.is_empty():
        lines.append("No changes.")
    bullet = "- " if markdown else "  "

    def section(title: str, items: list[str]) -> None:
        if items:
            lines.append(f"\n### {title} ({len(items)})\n" if markdown else f"{title} ({len(items)}):")
            lines.extend(f"{bullet}{item}" for item in items)

    code = "`" if markdown else ""
    section("Added", [f"{code}{i}{code}" for i in diff.added])
    if diff.changed:
        lines.append(f"\n### Changed ({len(diff.changed)})\n" if markdown else f"Changed ({len(diff.changed)}):")
        for card_id, fields in diff.changed.items():
            lines.append(f"{bullet}{code}{card_id}{code}: {', '.join(f.field for f in fields)}")
            for change in fields:
                body = change.diff_lines()
                if markdown:
                    lines += ["", "  ```diff", *(f"  {line}" for line in body), "  ```", ""]
                else:
                    lines += [f"      {line}" for line in body]
    section("Moved between topics", [
        f"{code}{m.id}{code}: {m.old_subdeck} -> {m.new_subdeck} (topics {', '.join(m.old_topics)} -> {', '.join(m.new_topics)})"
        for m in diff.moved
    ])
    section("Status changed", [f"{code}{i}{code}: {a} -> {b}" for i, (a, b) in diff.status_changes.items()])
    section("Retired", [f"{code}{i}{code}" for i in diff.retired])
    section("Removed", [f"{code}{i}{code} (students keep their copy, still scheduled: retire it instead)" for i in diff.removed])
    return "\n".join(lines).strip() + "\n"


def _as_json(diff: DeckDiff) -> dict:
    return {
        "old": diff.old,
        "new": diff.new,
        "added": list(diff.added),
        "changed": {
            card_id: [{**asdict(f), "diff": f.diff_lines()} for f in fields] for card_id, fields in diff.changed.items()
        },
        "moved": [asdict(m) for m in diff.moved],
        "status_changed": {k: list(v) for k, v in diff.status_changes.items()},
        "retired": list(diff.retired),
        "removed": list(diff.removed),
    }
