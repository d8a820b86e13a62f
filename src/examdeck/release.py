"""A semester release: reproducible package `<key>-<version>.apkg`, deck description and release notes."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .model import Card, Deck
from .pipeline import BuildOptions, BuiltPackage, check, package_deck, select_cards


@dataclass(frozen=True)
class Release:
    package: BuiltPackage
    notes_path: Path
    timestamp: int


def commit_timestamp(cards_dir: Path) -> int:
    """SOURCE_DATE_EPOCH if set, else the time of the last commit: reproducible and newer than the last release."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").strip():
        from .package import build_timestamp

        return int(build_timestamp())
    try:
        out = subprocess.run(["git", "-C", str(cards_dir), "log", "-1", "--format=%ct"],
                             capture_output=True, text=True, check=True).stdout.strip()
        return int(out)
    except (FileNotFoundError, subprocess.CalledProcessError, ValueError):
        raise UsageError(
            f"{cards_dir} is not in a git repository with commits: commit the cards, or set SOURCE_DATE_EPOCH"
        ) from None


def uncommitted_changes(cards_dir: Path) -> list[str]:
    try:
        out = subprocess.run(["git", "-C", str(cards_dir), "status", "--porcelain", "--", "."],
                             capture_output=True, text=True, check=True).stdout
    except (FileNotFoundError, subprocess.CalledProcessError):
        return []
    return [line[3:] for line in out.splitlines()]


def release_description(deck: Deck, cards: list[Card]) -> str:
    """What Anki shows on the deck overview: title, version, source, cards per topic, how to update."""
    counts = Counter(c.primary_topic for c in cards if c.status != "retired")
    topics = "\n".join(f"- {t.title}: {counts[t.slug]}" for t in deck.topics if counts[t.slug])
    source = f"\n\nSource: {deck.source}." if deck.source else ""
    return (
        f"**{deck.title}**, release {deck.version}.{source}\n\n{sum(counts.values())} cards:\n\n{topics}\n\n"
        "To update, import the new release's .apkg with Anki's default options: your cards are updated "
        "in place and your reviews are kept. Retired cards carry a banner and the tag `status::retired`; "
        "search `tag:status::retired` to suspend them."
    )


def release_notes(deck: Deck, cards: list[Card], package: BuiltPackage, changes: str | None) -> str:
    counts = Counter(c.type for c in cards if c.status != "retired")
    lines = [
        f"# {deck.title} {deck.version}",
        "",
        f"Package: `{package.path.name}` ({package.note_count} notes; "
        f"{counts['mcq']} multiple choice, {counts['truefalse']} true/false, {counts['open']} open).",
        "",
    ]
    lines.append(changes if changes else "First release: every card is new.\n")
    return "\n".join(lines)


def make_release(
    cards_dir: Path,
    out_dir: Path,
    *,
    figures_dir: Path = Path("figures"),
    previous: str | None = None,
    math_check: bool = True,
    allow_removal: bool = False,
    progress=None,
) -> tuple[list[Release], list[str]]:
    from .diff import diff_snapshots, format_diff
    from .snapshot import from_cards_dir, load_snapshot

    timestamp = commit_timestamp(cards_dir)
    report = check(cards_dir, math_check=math_check, progress=progress)
    warnings = list(report.warnings)
    dirty = uncommitted_changes(cards_dir)
    if dirty:
        warnings.append(f"uncommitted changes ({', '.join(dirty[:3])}...): the release uses the last commit's time")
    releases = []
    for checked in report.decks:
        deck = checked.deck
        if not deck.version:
            raise UsageError(f"{deck.path}/deck.yaml: version: a release needs a version, e.g. 'version: 2025-spring'")
        changes = None
        if previous:
            diff = diff_snapshots(load_snapshot(previous, deck_key=deck.key),
                                  from_cards_dir(cards_dir, deck.key, label=f"{deck.version}"))
            if diff.removed and not allow_removal:
                raise UsageError(_removal_message(diff.removed))
            changes = format_diff(diff, "markdown")
        cards = select_cards(deck, BuildOptions())
        path = out_dir / f"{deck.key}-{deck.version}.apkg"
        package = package_deck(checked, cards, figures_dir, path, timestamp, description=release_description(deck, cards))
        notes_path = out_dir / f"{deck.key}-{deck.version}.md"
        notes_path.write_text(release_notes(deck, cards, package, changes), encoding="utf-8")
        releases.append(Release(package, notes_path, timestamp))
    return releases, warnings


def _removal_message(removed: tuple[str, ...]) -> str:
    return (
        f"cards removed since the previous release: {', '.join(removed)}. Students keep their copies, still "
        "scheduled: retire them instead (status: retired, retired_in, reason), or pass --allow-removal"
    )
