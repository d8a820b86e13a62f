"""Semester releases: retire instead of delete, diff releases, and update students without losing reviews."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from conftest import import_package
from examdeck.cli import main
from examdeck.release import make_release

DECK = {"key": "sem", "title": "Semester deck", "version": "r1", "source": "Test exam",
        "description": "Review cards for the *semester* course, written by its teaching team.",
        "topics": [{"slug": "one", "title": "Topic one"}, {"slug": "two", "title": "Topic two"}]}


def card(card_id: str, text: str, topics=("one",), **extra) -> dict:
    return {"id": card_id, "type": "truefalse", "topics": list(topics), "question": text, "answer": True, **extra}


RELEASE_1 = [card("a", "Alpha $x$."), card("b", "Beta."), card("c", "Gamma."), card("d", "Delta."), card("f", "Phi.")]


def write_cards(root, cards, version):
    deck_dir = root / "cards" / "sem"
    deck_dir.mkdir(parents=True, exist_ok=True)
    (deck_dir / "deck.yaml").write_text(yaml.safe_dump({**DECK, "version": version}))
    (deck_dir / "cards.yaml").write_text(yaml.safe_dump({"cards": cards}))
    return root / "cards"


def release_2_cards() -> list[dict]:
    a, b, c, d, f = (dict(x) for x in RELEASE_1)
    a["question"] = "Alpha $x^2$, corrected."
    b["explanation"] = "Now explained."
    c["topics"] = ["two"]
    d.update(status="retired", retired_in="r2", reason="The question was ambiguous.")
    return [a, b, c, d, f, card("e", "Epsilon, new.")]


@pytest.fixture
def releases(tmp_path, monkeypatch, figures_dir):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cards = write_cards(tmp_path, RELEASE_1, "r1")
    (r1,), _ = make_release(cards, tmp_path / "out1", figures_dir=figures_dir, math_check=False)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700086400")
    write_cards(tmp_path, release_2_cards(), "r2")
    (r2,), _ = make_release(cards, tmp_path / "out2", figures_dir=figures_dir, math_check=False,
                            previous=str(r1.package.path))
    return r1, r2, cards


def notes_by_id(col):
    return {col.get_note(n)["Id"]: col.get_note(n) for n in col.find_notes("")}


def test_release_notes_count_the_retired_notes_too(releases):
    _, r2, _ = releases
    notes = r2.notes_path.read_text()
    assert "(6 notes: 0 multiple choice, 5 true/false, 0 open, and 1 retired (notes without cards))" in notes


def test_release_names_package_and_describes_the_deck(releases):
    r1, r2, _ = releases
    assert r1.package.path.name == "sem-r1.apkg" and r2.package.path.name == "sem-r2.apkg"
    notes = r2.notes_path.read_text()
    assert "# Semester deck r2" in notes and "### Retired (1)" in notes and "`d`" in notes
    assert "First release" in r1.notes_path.read_text()


def test_student_update_keeps_reviews_and_marks_the_retired_card(releases, collection):
    from test_anki_import import answer_every_card_in

    r1, r2, _ = releases
    import_package(collection, r1.package.path)
    deck_id = collection.decks.id_for_name("Semester deck")
    description = collection.decks.get(deck_id)["desc"]
    assert "release r1" in description and "Topic one: 5" in description and "tag:status::retired" in description
    # deck.yaml's own description comes first, then the generated part.
    assert description.index("Review cards for the <em>semester</em> course") < description.index("release r1")
    assert answer_every_card_in(collection, deck_id) >= 5
    before = notes_by_id(collection)
    reviews = collection.db.scalar("select count() from revlog")
    scheduling = {c: (collection.get_card(c).due, collection.get_card(c).queue) for c in collection.find_cards("")}

    import_package(collection, r2.package.path)
    after = notes_by_id(collection)
    assert set(after) == set(before) | {"e"}
    assert collection.note_count() == 6
    assert all(after[i].id == before[i].id for i in before)
    assert "corrected" in after["a"]["Question"] and "Now explained" in after["b"]["Explanation"]
    assert "topic::two" in after["c"].tags and "topic::one" not in after["c"].tags
    assert "status::retired" in after["d"].tags
    assert "Retired in r2" in after["d"]["Question"] and "ambiguous" in after["d"]["Question"]
    assert collection.db.scalar("select count() from revlog") == reviews
    assert {c: (collection.get_card(c).due, collection.get_card(c).queue) for c in scheduling} == scheduling
    retired_card = after["d"].cards()[0]
    assert "Retired in r2" in retired_card.render_output(reload=True).question_text
    assert len(collection.find_cards("tag:status::retired")) == 1


def test_new_students_never_get_the_retired_card(releases, tmp_path):
    from anki.collection import Collection

    _, r2, _ = releases
    (tmp_path / "new").mkdir()
    col = Collection(str(tmp_path / "new" / "collection.anki2"))
    try:
        import_package(col, r2.package.path)
        ids = {col.get_card(c).note()["Id"] for c in col.find_cards("")}
        assert ids == {"a", "b", "c", "e", "f"}
        col.decks.select(col.decks.id_for_name("Semester deck"))
        due = {col.get_card(q.card.id).note()["Id"] for q in col.sched.get_queued_cards(fetch_limit=50).cards}
        assert "d" not in due
    finally:
        col.close()


EXPECTED = {"added": ["e"], "changed": ["a", "b"], "moved": ["c"], "retired": ["d"], "removed": []}


@pytest.mark.parametrize("sides", ["packages", "package-to-cards"])
def test_diff_reports_exactly_the_changes_in_every_format(releases, sides):
    r1, r2, cards = releases
    new = str(r2.package.path) if sides == "packages" else str(cards)
    runner = CliRunner()
    data = json.loads(runner.invoke(main, ["diff", str(r1.package.path), new, "--format", "json"]).output)
    found = {k: sorted(data[k]) for k in EXPECTED} | {"moved": [m["id"] for m in data["moved"]]}
    assert found == EXPECTED
    assert data["changed"]["a"][0]["field"] == "Question"
    assert data["moved"][0]["new_subdeck"] == "Topic two"

    assert data["changed"]["a"][0]["new_text"] == "Alpha $x^2$, corrected."
    assert data["fields_shown_as"] == "text recovered from HTML"  # a package keeps no Markdown source

    text = runner.invoke(main, ["diff", str(r1.package.path), new]).output
    assert "Added (1):" in text and "Changed (2):" in text and "Moved between topics (1):" in text
    assert "Retired (1):" in text and "+Alpha $x^2$, corrected." in text and "-Alpha $x$." in text
    assert "primary topic Topic one -> Topic two" in text and "d: Delta. (why: The question was ambiguous.)" in text

    markdown = runner.invoke(main, ["diff", str(r1.package.path), new, "--format", "markdown"]).output
    assert "### Added (1)" in markdown and "```diff" in markdown and "### Retired (1)" in markdown
    assert "+Alpha $x^2$, corrected." in markdown
    for rendered in (text, markdown):
        assert "<p>" not in rendered and "\\(" not in rendered


def test_removing_a_card_is_an_error_unless_allowed(releases, tmp_path):
    r1, _, cards = releases
    write_cards(tmp_path, [c for c in release_2_cards() if c["id"] != "f"], "r3")
    runner = CliRunner()
    result = runner.invoke(main, ["diff", str(r1.package.path), str(cards)])
    assert result.exit_code == 1 and "removed without being retired: f" in result.output
    assert runner.invoke(main, ["diff", str(r1.package.path), str(cards), "--allow-removal"]).exit_code == 0
    check = runner.invoke(main, ["check", str(cards), "--no-math-check", "--previous", str(r1.package.path)])
    # A package does not say where a card was written: the card is named by id, not placed at deck.yaml:1.
    assert check.exit_code == 1 and f"{r1.package.path}: id: card 'f' is gone" in check.output and "retire it" in check.output
    assert "deck.yaml:1" not in check.output


def test_retired_card_needs_version_and_reason(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_cards(tmp_path, [card("a", "x", status="retired")], "r1")
    result = CliRunner().invoke(main, ["check", "cards", "--no-math-check"])
    assert result.exit_code == 1
    assert "retired_in: a retired card needs" in result.output and "reason: a retired card needs" in result.output


def test_release_needs_a_version(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cards = write_cards(tmp_path, RELEASE_1, "r1")
    deck_file = cards / "sem" / "deck.yaml"
    deck_file.write_text(deck_file.read_text().replace("version: r1\n", ""))
    result = CliRunner().invoke(main, ["release", str(cards), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "a release needs a version" in result.output


def git(root, *args):
    import subprocess

    subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=T", *args], cwd=root, check=True,
                   capture_output=True, env={"GIT_COMMITTER_DATE": "1700000000 +0000", "GIT_AUTHOR_DATE": "1700000000 +0000",
                                             "PATH": __import__("os").environ["PATH"], "HOME": str(root)})


def test_git_ref_side_and_release_time_from_the_last_commit(tmp_path, monkeypatch, figures_dir):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    cards = write_cards(tmp_path, RELEASE_1, "r1")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "cards")
    git(tmp_path, "commit", "-q", "-m", "r1")
    write_cards(tmp_path, release_2_cards(), "r2")
    monkeypatch.chdir(tmp_path)
    data = json.loads(CliRunner().invoke(main, ["diff", "HEAD", "cards", "--format", "json"]).output)
    assert sorted(data["changed"]) == ["a", "b"] and data["retired"] == ["d"]
    (release,), warnings = make_release(cards, tmp_path / "out", figures_dir=figures_dir, math_check=False)
    assert release.timestamp == 1700000000
    assert any("uncommitted changes" in w for w in warnings)
    bad = CliRunner().invoke(main, ["diff", "no-such-ref", "cards"])
    assert bad.exit_code == 2 and "not an .apkg, a cards directory or a git ref" in bad.output


def card_line(cards_yaml: str, card_id: str) -> int:
    """The line where the card `card_id` starts (its `- ` item) in a cards.yaml written by write_cards."""
    lines = cards_yaml.splitlines()
    at = lines.index(f"  id: {card_id}")
    return next(n for n in range(at, -1, -1) if lines[n].startswith("- ")) + 1


def open_question(card_id: str, text: str, answer: str) -> dict:
    return {"id": card_id, "type": "open", "topics": ["one"], "question": text, "answer": answer}


def test_a_published_card_whose_type_changed_is_refused_by_name(tmp_path, monkeypatch, figures_dir, collection):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cards = write_cards(tmp_path, [card("span", "Three vectors in $\\mathbb{R}^2$ are always dependent."), card("b", "Beta.")], "r1")
    (r1,), _ = make_release(cards, tmp_path / "out1", figures_dir=figures_dir, math_check=False)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700086400")
    write_cards(tmp_path, [open_question("span", "How many vectors of $\\mathbb{R}^2$ can be independent?", "At most $2$."),
                           card("b", "Beta, edited.")], "r2")
    line = card_line((cards / "sem" / "cards.yaml").read_text(), "span")
    runner = CliRunner()

    check = runner.invoke(main, ["check", str(cards), "--no-math-check", "--previous", str(r1.package.path)])
    assert check.exit_code == 1, check.output
    assert f"{cards}/sem/cards.yaml:{line}: type: card 'span' was published in {r1.package.path} as truefalse and is now open" in check.output
    assert "retire it" in check.output and "new id" in check.output

    release = runner.invoke(main, ["release", str(cards), "--out", str(tmp_path / "out2"), "--no-math-check",
                                   "--figures-dir", str(figures_dir), "--previous", str(r1.package.path)])
    assert release.exit_code == 1 and "card 'span'" in release.output and "nothing was written" in release.output
    assert not (tmp_path / "out2").exists()

    for output_format, title in [("text", "Type changed (students will not get this update) (1):"),
                                 ("markdown", "### Type changed (students will not get this update) (1)")]:
        diff = runner.invoke(main, ["diff", str(r1.package.path), str(cards), "--format", output_format])
        assert diff.exit_code == 1 and title in diff.output and "truefalse -> open" in diff.output
        assert "Changed (1)" in diff.output or "### Changed (1)" in diff.output  # b, not span
    data = json.loads(runner.invoke(main, ["diff", str(r1.package.path), str(cards), "--format", "json"]).stdout)
    assert data["type_changed"] == {"span": ["truefalse", "open"]} and list(data["changed"]) == ["b"]

    # Why it is refused: the official anki library keeps the old note when the note type differs.
    from examdeck.pipeline import BuildOptions, build

    (forced,), _ = build(cards, BuildOptions(out_dir=tmp_path / "forced", figures_dir=figures_dir, math_check=False))
    import_package(collection, r1.package.path)
    import_package(collection, forced.path)
    notes = notes_by_id(collection)
    assert "always dependent" in notes["span"]["Question"] and "edited" in notes["b"]["Question"]


def release_2_sources() -> list[dict]:
    """The second release, with Markdown that the HTML would not give back as written."""
    cards = release_2_cards()
    cards[0]["question"] = "Alpha $a < b$, _corrected_."
    return cards


def test_release_finds_the_last_release_tag_and_lists_changes_as_markdown_source(tmp_path, monkeypatch, figures_dir, collection):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    git(tmp_path, "init", "-q")
    cards = write_cards(tmp_path, [card("a", "Alpha, first draft.")], "2024-autumn")
    git(tmp_path, "add", "cards")
    git(tmp_path, "commit", "-q", "-m", "older release")
    git(tmp_path, "tag", "v2024-autumn")
    both = card("g", "Gee.", topics=("one", "two"))
    write_cards(tmp_path, [*RELEASE_1, both], "2025-spring")
    git(tmp_path, "commit", "-q", "-am", "spring")
    git(tmp_path, "tag", "v2025-spring")
    git(tmp_path, "tag", "draft-not-a-release")  # not v*: never taken for a release
    write_cards(tmp_path, [*release_2_sources(), {**both, "topics": ["two", "one"]}], "2025-autumn")
    git(tmp_path, "commit", "-q", "-am", "autumn")

    (r2,), warnings = make_release(cards, tmp_path / "out", figures_dir=figures_dir, math_check=False)
    assert r2.previous == "v2025-spring" and not warnings
    notes = r2.notes_path.read_text()
    assert "Compared with the previous release, git tag `v2025-spring`" in notes and "First release" not in notes
    assert "## Changes from v2025-spring to 2025-autumn" in notes
    assert "  -Alpha $x$.\n  +Alpha $a < b$, _corrected_." in notes  # the source as written: no HTML, no \( \)
    assert "<p>" not in notes and "\\(" not in notes and "&lt;" not in notes and "recovered" not in notes
    assert "- `d`: Delta. (why: The question was ambiguous.)" in notes
    assert "- `g`: primary topic Topic one -> Topic two (topics one, two -> two, one)" in notes
    assert "- `e`: Epsilon, new." in notes

    # Tagging the release itself first changes nothing: its own tag v<version> is left out.
    git(tmp_path, "tag", "v2025-autumn")
    (again,), _ = make_release(cards, tmp_path / "again", figures_dir=figures_dir, math_check=False)
    assert again.previous == "v2025-spring" and again.notes_path.read_text() == notes
    assert again.package.path.read_bytes() == r2.package.path.read_bytes()

    import_package(collection, r2.package.path)
    description = collection.decks.get(collection.decks.id_for_name("Semester deck"))["desc"]
    assert "Review cards for the <em>semester</em> course" in description and "release 2025-autumn" in description


def test_without_a_release_tag_it_is_a_first_release_and_says_why(tmp_path, monkeypatch, figures_dir):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    git(tmp_path, "init", "-q")
    cards = write_cards(tmp_path, RELEASE_1, "r1")
    git(tmp_path, "add", "cards")
    git(tmp_path, "commit", "-q", "-m", "r1")
    result = CliRunner().invoke(main, ["release", str(cards), "--out", str(tmp_path / "out"), "--no-math-check",
                                       "--figures-dir", str(figures_dir)])
    assert result.exit_code == 0, result.output
    assert "a first release" in result.output and "no previous release found" in result.output
    notes = (tmp_path / "out" / "sem-r1.md").read_text()
    assert "First release: every card is new (no release tag (v*) is reachable from HEAD)." in notes


def test_a_removed_card_is_located_in_the_previous_sources(tmp_path, monkeypatch, figures_dir):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    git(tmp_path, "init", "-q")
    cards = write_cards(tmp_path, RELEASE_1, "r1")
    old_yaml = (cards / "sem" / "cards.yaml").read_text()
    git(tmp_path, "add", "cards")
    git(tmp_path, "commit", "-q", "-m", "r1")
    git(tmp_path, "tag", "vr1")
    import shutil

    shutil.copytree(cards, tmp_path / "old-cards")
    write_cards(tmp_path, [c for c in release_2_cards() if c["id"] != "f"], "r2")
    git(tmp_path, "commit", "-q", "-am", "r2")
    line = card_line(old_yaml, "f")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    check = runner.invoke(main, ["check", "cards", "--no-math-check", "--previous", "vr1"])
    assert check.exit_code == 1
    assert f"vr1:cards/sem/cards.yaml:{line}: id: card 'f' of vr1:cards is gone from the sources" in check.output
    check = runner.invoke(main, ["check", "cards", "--no-math-check", "--previous", "old-cards"])
    assert f"old-cards/sem/cards.yaml:{line}: id: card 'f' of old-cards is gone" in check.output

    release = runner.invoke(main, ["release", "cards", "--out", "out", "--no-math-check", "--figures-dir", str(figures_dir)])
    assert release.exit_code == 1 and f"vr1:cards/sem/cards.yaml:{line}: id:" in release.output
    assert "--allow-removal" in release.output and not (tmp_path / "out").exists()
    release = runner.invoke(main, ["release", "cards", "--out", "out", "--no-math-check", "--figures-dir", str(figures_dir),
                                   "--allow-removal"])
    assert release.exit_code == 0, release.output
    notes = (tmp_path / "out" / "sem-r2.md").read_text()
    assert f"- `f`: Phi. (last at vr1:cards/sem/cards.yaml:{line}). Students keep their copy" in notes


def test_unpublishing_is_refused_but_deleting_a_draft_is_not(tmp_path, monkeypatch, figures_dir):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cards = write_cards(tmp_path, [*RELEASE_1, card("wip", "Work in progress.", status="draft")], "r1")
    import shutil

    shutil.copytree(cards, tmp_path / "r1-cards")
    edited = [dict(c) for c in RELEASE_1]
    edited[1]["status"] = "draft"  # 'b' was released: making it a draft again drops it from the package
    write_cards(tmp_path, edited, "r2")
    line = card_line((cards / "sem" / "cards.yaml").read_text(), "b")
    runner = CliRunner()
    check = runner.invoke(main, ["check", str(cards), "--no-math-check", "--previous", str(tmp_path / "r1-cards")])
    assert check.exit_code == 1
    assert f"{cards}/sem/cards.yaml:{line}: status: card 'b' was published in {tmp_path / 'r1-cards'} (active) and is now draft" in check.output
    assert "'wip'" not in check.output  # a draft was never released: deleting it is fine
    diff = runner.invoke(main, ["diff", str(tmp_path / "r1-cards"), str(cards)])
    assert "Drafts removed (never released) (1):\n  wip: Work in progress." in diff.output
    assert "b: active -> draft (a release does not ship it" in diff.output


def test_a_deck_added_since_the_last_tag_is_its_first_release(tmp_path, monkeypatch, figures_dir):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    git(tmp_path, "init", "-q")
    cards = write_cards(tmp_path, RELEASE_1, "r1")
    git(tmp_path, "add", "cards")
    git(tmp_path, "commit", "-q", "-m", "r1")
    git(tmp_path, "tag", "vr1")
    other = cards / "other"
    other.mkdir()
    (other / "deck.yaml").write_text(yaml.safe_dump({**DECK, "key": "other", "title": "Other deck", "version": "o1"}))
    (other / "cards.yaml").write_text(yaml.safe_dump({"cards": [card("z", "Zeta.")]}))
    write_cards(tmp_path, release_2_cards(), "r2")
    git(tmp_path, "add", "cards")
    git(tmp_path, "commit", "-q", "-m", "r2 and a new deck")
    releases, _ = make_release(cards, tmp_path / "out", figures_dir=figures_dir, math_check=False)
    by_key = {r.package.deck_key: r for r in releases}
    assert by_key["sem"].previous == "vr1" and "### Retired (1)" in by_key["sem"].notes_path.read_text()
    notes = by_key["other"].notes_path.read_text()
    assert by_key["other"].previous is None
    assert "First release of this deck: every card is new (the previous release, git tag `vr1`, has no deck other)." in notes


def _with_notetype_version(package, version: int, out):
    """A copy of `package` whose examdeck note types are named as version `version` built them."""
    import re
    import sqlite3
    import zipfile

    with zipfile.ZipFile(package) as source, zipfile.ZipFile(out, "w") as copy:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "collection.anki2":
                db = out.parent / "collection.anki2"
                db.write_bytes(data)
                conn = sqlite3.connect(db)
                models = json.loads(conn.execute("select models from col").fetchone()[0])
                for model in models.values():
                    model["name"] = re.sub(r"\(v\d+\)$", f"(v{version})", model["name"])
                conn.execute("update col set models = ?", (json.dumps(models),))
                conn.commit()
                conn.close()
                data = db.read_bytes()
            copy.writestr(item, data)
    return out


def test_a_previous_release_with_other_note_types_is_named_in_a_warning(releases, tmp_path, monkeypatch, figures_dir):
    from examdeck.notetypes import NOTETYPE_VERSION
    from examdeck.release import notetype_change
    from examdeck.snapshot import load_snapshot

    r1, _, cards = releases
    assert load_snapshot(str(r1.package.path)).notetype_versions == {NOTETYPE_VERSION}
    assert notetype_change(load_snapshot(str(r1.package.path))) is None  # the same note types: nothing to say
    older = _with_notetype_version(r1.package.path, NOTETYPE_VERSION - 1, tmp_path / "r1-older.apkg")
    check = CliRunner().invoke(main, ["check", str(cards), "--no-math-check", "--previous", str(older)])
    assert check.exit_code == 0
    assert f"has examdeck's note types v{NOTETYPE_VERSION - 1}, this release has v{NOTETYPE_VERSION}" in check.output
    assert "Change Note Type" in check.output
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700172800")
    _, warnings = make_release(cards, tmp_path / "out3", figures_dir=figures_dir, math_check=False, previous=str(older))
    assert any("NOT updated" in w for w in warnings)


def test_a_package_and_the_sources_it_was_built_from_have_no_differences(tmp_path, figures_dir):
    """Figures (every variant), the deck folder's own images and unshipped (nullified) cards compare
    equal between a package and its sources: a release's notes list only real changes."""
    import shutil

    from conftest import REPO
    from examdeck.pipeline import BuildOptions, build

    cards = tmp_path / "cards"
    shutil.copytree(REPO / "cards", cards)
    deck = cards / "cs433-2024"
    (deck / "images").mkdir()
    shutil.copy(figures_dir / "gelu-relu.phone-light.png", deck / "images" / "my plot.png")
    text = (deck / "part2-truefalse.yaml").read_text()
    image = "    explanation: |\n      ![my plot](images/my plot.png)\n\n"
    (deck / "part2-truefalse.yaml").write_text(text.replace("    explanation: |\n", image, 1))
    (built,), _ = build(cards, BuildOptions(out_dir=tmp_path / "out", figures_dir=figures_dir, math_check=False))
    result = CliRunner().invoke(main, ["diff", str(built.path), str(cards), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert not any(report.get(k) for k in ("added", "changed", "moved", "retired", "removed", "type_changed", "status_changed")), report
