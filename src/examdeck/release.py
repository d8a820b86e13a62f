"""A semester release: reproducible package `<key>-<version>.apkg`, deck description and release notes,
compared with the previous release (given, or the last release tag `v*` in git) and refused when it
would leave students with cards Anki cannot update."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InvalidSources, Problem, UsageError
from .model import Card, Deck
from .pipeline import BuildOptions, BuiltPackage, check, package_deck, select_cards

if TYPE_CHECKING:
    from .diff import DeckDiff
    from .snapshot import DeckSnapshot

# A release is tagged `v<version>` (release_tag); without --previous, release compares with the
# most recent tag of this pattern reachable from HEAD.
RELEASE_TAG_PATTERN = "v*"


@dataclass(frozen=True)
class Release:
    package: BuiltPackage
    notes_path: Path
    timestamp: int
    previous: str | None = None  # what it was compared with (--previous, or the tag found); None: a first release


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
    """What Anki shows on the deck overview: deck.yaml's description, then the title, version, source,
    cards per topic and how to update."""
    counts = Counter(c.primary_topic for c in cards if c.status != "retired")
    topics = "\n".join(f"- {t.title}: {counts[t.slug]}" for t in deck.topics if counts[t.slug])
    source = f"\n\nSource: {deck.source}." if deck.source else ""
    own = f"{deck.description.strip()}\n\n" if deck.description.strip() else ""
    return (
        f"{own}**{deck.title}**, release {deck.version}.{source}\n\n{sum(counts.values())} cards:\n\n{topics}\n\n"
        "To update, import the new release's .apkg with Anki's default options: your cards are updated "
        "in place and your reviews are kept. Retired cards carry a banner and the tag `status::retired`; "
        "search `tag:status::retired` to suspend them."
    )


def release_notes(deck: Deck, cards: list[Card], package: BuiltPackage, changes: str | None, compared: str) -> str:
    """The release notes (Markdown): package, card counts, which release it is compared with, and the diff."""
    counts = Counter(c.type for c in cards if c.status != "retired")
    retired = sum(c.status == "retired" for c in cards)
    also = f", and {retired} retired (notes without cards)" if retired else ""
    lines = [
        f"# {deck.title} {deck.version}",
        "",
        f"Package: `{package.path.name}` ({package.note_count} notes: "
        f"{counts['mcq']} multiple choice, {counts['truefalse']} true/false, {counts['open']} open{also}).",
        "",
        compared,
        "",
    ]
    if changes:
        lines.append(changes)
    return "\n".join(lines)


def release_tag(version: str) -> str:
    """The git tag of a release: `v` and deck.yaml's version, e.g. `v2026-spring`."""
    return f"v{version}"


def find_previous_release(cards_dir: Path, version: str) -> tuple[str | None, str]:
    """The most recent release tag (RELEASE_TAG_PATTERN) reachable from HEAD of the repository holding
    `cards_dir`, leaving out this release's own tag (`release_tag(version)`), and how it was found;
    (None, why) when there is none."""
    try:
        found = subprocess.run(
            ["git", "-C", str(cards_dir), "describe", "--tags", "--abbrev=0", "--match", RELEASE_TAG_PATTERN,
             "--exclude", release_tag(version), "HEAD"],
            capture_output=True, text=True,
        )
    except FileNotFoundError:
        return None, "git is not installed"
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip(), f"the most recent release tag ({RELEASE_TAG_PATTERN}) reachable from HEAD"
    inside = subprocess.run(["git", "-C", str(cards_dir), "rev-parse", "--is-shallow-repository"], capture_output=True, text=True)
    if inside.returncode != 0:
        return None, f"{cards_dir} is not in a git repository"
    shallow = " (this clone is shallow: fetch the tags)" if inside.stdout.strip() == "true" else ""
    return None, f"no release tag ({RELEASE_TAG_PATTERN}) is reachable from HEAD{shallow}"


def notetype_change(old: DeckSnapshot) -> str | None:
    """A warning when the previous release's notes have another note-type version than this examdeck
    builds (``notetypes.NOTETYPE_VERSION``): Anki then adds the new note types and reports every
    existing note as conflicting, without updating it (README, "Note-type versions"). None otherwise,
    or when the previous release's versions are unknown (a cards directory or git ref)."""
    from .notetypes import NOTETYPE_VERSION

    older = sorted(v for v in old.notetype_versions if v != NOTETYPE_VERSION)
    if not older:
        return None
    was = ", ".join(f"v{v}" for v in older)
    return (f"{old.key}: {old.label} has examdeck's note types {was}, this release has v{NOTETYPE_VERSION}: students who "
            "imported it will get the new notes reported as conflicting and their existing notes NOT updated until they "
            "move them with Anki's Change Note Type (README, \"Note-type versions\"); tell them in the release notes")


def release_problems(diff: DeckDiff, new: DeckSnapshot, *, allow_removal: bool = False, removal_hint: str = "") -> list[Problem]:
    """What a release may not do to students' notes, located in the sources: a published id whose type
    changed (Anki keeps the old note), a published card now draft or nullified (not shipped), and a card
    gone without being retired (students keep it, scheduled).
    Removed cards are located at their last place in the previous release's sources, else named by id."""
    problems = []
    for card_id, (old_type, new_type) in diff.type_changes.items():
        card = new.cards[card_id]
        problems.append(Problem(
            card.path, card.line, "type",
            f"card {card_id!r} was published in {diff.old} as {old_type} and is now {new_type}: Anki will not update "
            f"students' notes to another note type (it reports them as conflicting and they keep the old card). Keep "
            f"{card_id!r} as the {old_type} card and retire it (status: retired, retired_in, reason), and add the "
            f"{new_type} question as a new card with a new id",
        ))
    for card_id, (old_status, new_status) in ({} if allow_removal else diff.unshipped()).items():
        card = new.cards[card_id]
        problems.append(Problem(
            card.path, card.line, "status",
            f"card {card_id!r} was published in {diff.old} ({old_status}) and is now {new_status}: a release does not "
            f"ship {new_status} cards, so students would keep their copy, still scheduled. Retire it instead "
            f"(status: retired, retired_in, reason){removal_hint}",
        ))
    if not allow_removal:
        for card_id in diff.removed:
            path, _, line = diff.removed_at.get(card_id, "").rpartition(":")
            what = f"card {card_id!r} of {diff.old}" if path else f"card {card_id!r}"
            message = (f"{what} is gone from the sources: students keep their copy, still scheduled; retire it "
                       f"(status: retired, retired_in, reason) instead of deleting it{removal_hint}")
            problems.append(Problem(path or diff.old, int(line) if path else 0, "id", message))
    return problems


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
    """Release every deck under `cards_dir` into `out_dir`: `<key>-<version>.apkg` and `.md` release notes.

    The previous release is `previous` (an .apkg, cards directory or git ref), else the most recent
    release tag reachable from HEAD (see find_previous_release), else none: a first release. Raises
    InvalidSources, before writing anything, when a published card's type changed or (unless
    `allow_removal`) a published card is gone; UsageError without a version or a commit time.
    """
    from dataclasses import replace

    from .diff import diff_snapshots, format_diff
    from .snapshot import MissingDeck, from_checked, from_git_ref, load_snapshot

    timestamp = commit_timestamp(cards_dir)
    report = check(cards_dir, math_check=math_check, progress=progress)
    warnings = list(report.warnings)
    dirty = uncommitted_changes(cards_dir)
    if dirty:
        warnings.append(f"uncommitted changes ({', '.join(dirty[:3])}...): the release uses the last commit's time")
    plans, problems = [], []
    for checked in report.decks:
        deck = checked.deck
        if not deck.version:
            raise UsageError(f"{deck.path}/deck.yaml: version: a release needs a version, e.g. 'version: 2025-spring'")
        old, compared, label = None, "", previous
        if previous:
            old = load_snapshot(previous, deck_key=deck.key)
            compared = f"Compared with the previous release `{previous}` (--previous)."
        else:
            tag, how = find_previous_release(cards_dir, deck.version)
            if tag is None:
                compared = f"First release: every card is new ({how})."
                warnings.append(f"{deck.key}: no previous release found ({how}): written as a first release; "
                                "pass --previous if there was one")
            else:
                try:
                    old = replace(from_git_ref(tag, _repo_prefix(cards_dir), deck.key, repo_dir=cards_dir), label=tag)
                    label = tag
                    compared = f"Compared with the previous release, git tag `{tag}` ({how})."
                except MissingDeck:
                    compared = f"First release of this deck: every card is new (the previous release, git tag `{tag}`, has no deck {deck.key})."
        changes = None
        if old is not None:
            new = from_checked(checked, deck.version)
            diff = diff_snapshots(old, new)
            changed_notetypes = notetype_change(old)
            if changed_notetypes:
                warnings.append(changed_notetypes)
            problems += release_problems(diff, new, allow_removal=allow_removal, removal_hint=" (or pass --allow-removal)")
            changes = format_diff(diff, "markdown")
        plans.append((checked, changes, compared, label))
    if problems:
        raise InvalidSources(problems)
    releases = []
    for checked, changes, compared, label in plans:
        deck = checked.deck
        cards = select_cards(deck, BuildOptions())
        path = out_dir / f"{deck.key}-{deck.version}.apkg"
        package = package_deck(checked, cards, figures_dir, path, timestamp, description=release_description(deck, cards))
        notes_path = out_dir / f"{deck.key}-{deck.version}.md"
        notes_path.write_text(release_notes(deck, cards, package, changes, compared), encoding="utf-8")
        releases.append(Release(package, notes_path, timestamp, label))
    return releases, warnings


def _repo_prefix(cards_dir: Path) -> str:
    """Where `cards_dir` is inside its git repository, e.g. `cards` ('' at the top)."""
    out = subprocess.run(["git", "-C", str(cards_dir), "rev-parse", "--show-prefix"], capture_output=True, text=True, check=True)
    return out.stdout.strip().rstrip("/")
