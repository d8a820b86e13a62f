"""Compare two releases of a deck: cards added, changed field by field, moved, retired, removed,
and published cards whose type changed (which Anki will not update).

What counts as a change is what students get: a note field whose HTML differs. What a change
shows is what the instructor edits: the field's Markdown source, formulas as written, when both
sides have their sources (a cards directory or git ref); when either side is a package, which
keeps only HTML, both sides are shown as text recovered from the HTML (examdeck.htmltext), so
that the two are compared in the same form.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass

from .snapshot import CardSnapshot, DeckSnapshot

TYPE_CHANGED_TITLE = "Type changed (students will not get this update)"
SHIPPED = ("active", "retired")  # the statuses a release ships (pipeline.select_cards without options)


@dataclass(frozen=True)
class FieldChange:
    """One note field that differs: its HTML on each side, and its text (Markdown source or recovered) on each side."""

    field: str
    old: str
    new: str
    old_text: str
    new_text: str

    def diff_lines(self) -> list[str]:
        """The unified diff of the texts, one line of context, without the ---/+++ header."""
        if self.old_text == self.new_text:
            return ["  (same source; only the HTML examdeck renders from it differs, e.g. after an examdeck update)"]
        return list(difflib.unified_diff(self.old_text.splitlines(), self.new_text.splitlines(), "old", "new", n=1, lineterm=""))[2:]


@dataclass(frozen=True)
class Move:
    """A card whose topics or primary topic (the subdeck it ships in) changed; topics in the card's order."""

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
    type_changes: dict[str, tuple[str, str]]  # id -> (old type, new type): Anki keeps students' old note
    removed_at: dict[str, str]  # id -> `path:line` in the old side's sources, where known
    from_sources: bool  # True: texts are Markdown sources; False: recovered from a package's HTML

    headlines: dict[str, str]  # id -> the first line of the question (as texts are shown), for added and retired cards
    reasons: dict[str, str]  # id -> why a card was retired, where known
    drafts_removed: tuple[str, ...] = ()  # drafts deleted from the sources: never released, nothing to retire

    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.moved or self.retired or self.removed or self.status_changes
                    or self.type_changes or self.drafts_removed)

    def unshipped(self) -> dict[str, tuple[str, str]]:
        """Published cards (active or retired) that are now draft or nullified, which a release does not ship:
        like a removal, students keep their copy, still scheduled."""
        return {i: (a, b) for i, (a, b) in self.status_changes.items() if a in SHIPPED and b not in SHIPPED}


def diff_snapshots(old: DeckSnapshot, new: DeckSnapshot) -> DeckDiff:
    # Drafts and nullified cards are not shipped: a package never has them, so they are not "added".
    added = tuple(sorted(i for i in set(new.cards) - set(old.cards) if new.cards[i].status not in ("draft", "nullified")))
    gone = sorted(set(old.cards) - set(new.cards))
    # A draft in sources (not in a package) was never released: deleting it leaves students nothing.
    drafts_removed = tuple(i for i in gone if old.cards[i].status == "draft" and old.cards[i].sources is not None)
    removed = tuple(i for i in gone if i not in drafts_removed)
    from_sources = old.has_sources and new.has_sources
    changed: dict[str, tuple[FieldChange, ...]] = {}
    moved, retired, status_changes, type_changes = [], [], {}, {}
    for card_id in sorted(set(old.cards) & set(new.cards)):
        before, after = old.cards[card_id], new.cards[card_id]
        if before.type and after.type and before.type != after.type:
            # Another note type: Anki reports the note as conflicting and applies nothing, retirement included.
            type_changes[card_id] = (before.type, after.type)
            continue
        if after.status == "retired" and before.status != "retired":
            retired.append(card_id)
            continue
        if before.status != after.status:
            status_changes[card_id] = (before.status, after.status)
        # A card-less (retired) note in a package has no subdeck: compare subdecks only when both have one.
        subdeck_moved = before.primary_topic and after.primary_topic and before.primary_topic != after.primary_topic
        if set(before.topics) != set(after.topics) or subdeck_moved:
            moved.append(Move(card_id, before.topics, after.topics, before.primary_topic, after.primary_topic))
        fields = _field_changes(before, after, from_sources)
        if fields:
            changed[card_id] = fields
    removed_at = {i: old.cards[i].location for i in removed if old.cards[i].location}
    headlines = {i: _headline(new.cards[i], from_sources) for i in (*added, *retired)}
    headlines |= {i: _headline(old.cards[i], from_sources) for i in (*removed, *drafts_removed)}
    reasons = {i: new.cards[i].retired_reason for i in retired if new.cards[i].retired_reason}
    return DeckDiff(old.label, new.label, added, changed, tuple(moved), tuple(retired), removed, status_changes,
                    type_changes, removed_at, from_sources, headlines, reasons, drafts_removed)


def _text(card: CardSnapshot, name: str, from_sources: bool) -> str:
    """A field as a diff shows it: the Markdown source, or the text recovered from its HTML."""
    from .htmltext import html_to_text

    if from_sources and card.sources is not None:
        return card.sources.get(name, "")
    return html_to_text(card.fields.get(name, ""))


def _headline(card: CardSnapshot, from_sources: bool) -> str:
    line = next((x.strip() for x in _text(card, "Question", from_sources).splitlines() if x.strip()), "")
    return line if len(line) <= 100 else line[:99] + "…"


def _field_changes(before: CardSnapshot, after: CardSnapshot, from_sources: bool) -> tuple[FieldChange, ...]:
    names = list(dict.fromkeys([*before.fields, *after.fields]))
    return tuple(
        FieldChange(n, before.fields.get(n, ""), after.fields.get(n, ""), _text(before, n, from_sources), _text(after, n, from_sources))
        for n in names
        if before.fields.get(n, "") != after.fields.get(n, "")
    )


def format_diff(diff: DeckDiff, output_format: str) -> str:
    """`text` for a terminal, `markdown` for release notes, `json` for scripts (every field of the diff)."""
    if output_format == "json":
        return json.dumps(_as_json(diff), indent=2, sort_keys=True)
    markdown = output_format == "markdown"
    lines = [f"## Changes from {diff.old} to {diff.new}" if markdown else f"changes from {diff.old} to {diff.new}"]
    if diff.is_empty():
        lines.append("No changes.")
    elif diff.changed and not diff.from_sources:
        lines.append(("\n" if markdown else "") + "A package keeps no Markdown source: changed fields are shown as text "
                     "recovered from the packages' HTML (formulas as written in them).")
    bullet = "- " if markdown else "  "
    code = "`" if markdown else ""

    def section(title: str, items: list[str]) -> None:
        if items:
            lines.append(f"\n### {title} ({len(items)})\n" if markdown else f"{title} ({len(items)}):")
            lines.extend(f"{bullet}{item}" for item in items)

    def headline(card_id: str) -> str:
        text = diff.headlines.get(card_id, "")
        return f"{code}{card_id}{code}: {text}" if text else f"{code}{card_id}{code}"

    section("Added", [headline(i) for i in diff.added])
    if diff.changed:
        lines.append(f"\n### Changed ({len(diff.changed)})\n" if markdown else f"Changed ({len(diff.changed)}):")
        for card_id, fields in diff.changed.items():
            lines.append(f"{bullet}{code}{card_id}{code}")
            for change in fields:
                body = change.diff_lines()
                if markdown:
                    fence = "```"
                    while any(fence in line for line in body):  # a field with a code block of its own
                        fence += "`"
                    lines += ["", f"  {change.field}:", "", f"  {fence}diff", *(f"  {line}" for line in body), f"  {fence}", ""]
                else:
                    lines += [f"    {change.field}:", *(f"      {line}" for line in body)]
    section("Moved between topics", [f"{code}{m.id}{code}: {_describe_move(m)}" for m in diff.moved])
    unshipped = diff.unshipped()
    section("Status changed", [
        f"{code}{i}{code}: {a} -> {b}" + (" (a release does not ship it: students keep their copy, still scheduled; "
                                           "retire it instead)" if i in unshipped else "")
        for i, (a, b) in diff.status_changes.items()
    ])
    section("Retired", [headline(i) + (f" (why: {diff.reasons[i]})" if i in diff.reasons else "") for i in diff.retired])
    section(TYPE_CHANGED_TITLE, [
        f"{code}{i}{code}: {a} -> {b}. Anki keeps the old note as it is (another note type is a conflict): keep "
        f"{code}{i}{code} as the {a} card and retire it, and add the {b} question under a new id"
        for i, (a, b) in diff.type_changes.items()
    ])
    section("Drafts removed (never released)", [headline(i) for i in diff.drafts_removed])
    section("Removed", [
        f"{headline(i)}{f' (last at {diff.removed_at[i]})' if i in diff.removed_at else ''}. Students keep their "
        "copy, still scheduled: retire it instead"
        for i in diff.removed
    ])
    return "\n".join(lines).strip() + "\n"


def _describe_move(move: Move) -> str:
    topics = f"topics {', '.join(move.old_topics) or '-'} -> {', '.join(move.new_topics) or '-'}"
    if move.old_subdeck and move.new_subdeck and move.old_subdeck != move.new_subdeck:
        return f"primary topic {move.old_subdeck} -> {move.new_subdeck} ({topics})"
    primary = move.new_subdeck or move.old_subdeck
    return f"{topics} (primary topic {primary}, unchanged)" if primary else topics


def _as_json(diff: DeckDiff) -> dict:
    return {
        "old": diff.old,
        "new": diff.new,
        "fields_shown_as": "markdown source" if diff.from_sources else "text recovered from HTML",
        "added": list(diff.added),
        "changed": {
            card_id: [{**asdict(f), "diff": f.diff_lines()} for f in fields] for card_id, fields in diff.changed.items()
        },
        "moved": [asdict(m) for m in diff.moved],
        "status_changed": {k: list(v) for k, v in diff.status_changes.items()},
        "retired": list(diff.retired),
        "type_changed": {k: list(v) for k, v in diff.type_changes.items()},
        "removed": list(diff.removed),
        "removed_at": dict(diff.removed_at),
        "drafts_removed": list(diff.drafts_removed),
        "headlines": dict(diff.headlines),
        "retired_reasons": dict(diff.reasons),
    }
