"""The command line as a user meets it: help, version, list, export, exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import REPO, import_package
from examdeck import __version__
from examdeck.cli import main

CARDS = str(REPO / "cards")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_version_and_help_with_examples():
    assert __version__ in invoke("--version").output
    import click

    for command in main.list_commands(click.Context(main)):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output, f"{command} --help has no example"


def test_list_json_is_machine_readable():
    result = invoke("list", CARDS, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    topics = {t["slug"]: t for t in data["topics"]}
    assert {"slug", "title", "count", "by_type"} <= set(topics["gmm-em"])
    assert topics["kmeans"]["count"] >= 2
    assert data["types"] == {"mcq": 12, "truefalse": 20, "open": 14}
    assert data["statuses"]["nullified"] == 2


def test_list_table():
    result = invoke("list", CARDS)
    assert result.exit_code == 0
    assert "cs433-2024" in result.output and "gmm-em" in result.output


def test_export_subset_then_full_deck_gives_no_duplicates_and_keeps_reviews(tmp_path, collection, figures_dir):
    from test_anki_import import answer_every_card_in

    subset = tmp_path / "clustering.apkg"
    result = invoke("export", CARDS, "--topic", "kmeans", "--topic", "gmm-em", "--type", "mcq",
                    "--figures-dir", str(figures_dir), "--out", str(subset))
    assert result.exit_code == 0, result.output
    import_package(collection, subset)
    subset_notes = {collection.get_note(n)["Id"]: n for n in collection.find_notes("")}
    assert set(subset_notes) == {"q07", "q08"}
    assert all("type::mcq" in collection.get_note(n).tags for n in subset_notes.values())
    assert answer_every_card_in(collection, collection.get_card(collection.find_cards("")[0]).did) >= 2
    reviews = collection.db.scalar("select count() from revlog")
    scheduling = {c: (collection.get_card(c).due, collection.get_card(c).ivl) for c in collection.find_cards("")}

    full = tmp_path / "full"
    result = invoke("build", CARDS, "--figures-dir", str(figures_dir), "--out", str(full))
    assert result.exit_code == 0, result.output
    import_package(collection, full / "cs433-2024.apkg")
    ids = [collection.get_note(n)["Id"] for n in collection.find_notes("")]
    assert len(ids) == len(set(ids)) == 44  # 46 cards, the two nullified ones left out
    assert {i: n for i, n in zip(ids, collection.find_notes("")) if i in subset_notes} == subset_notes
    assert collection.db.scalar("select count() from revlog") == reviews
    assert {c: (collection.get_card(c).due, collection.get_card(c).ivl) for c in scheduling} == scheduling


def test_export_default_title_says_what_was_selected(tmp_path, collection, figures_dir):
    out = tmp_path / "q.apkg"
    result = invoke("export", CARDS, "--query", "topic:diffusion and type:open", "--no-math-check",
                    "--figures-dir", str(figures_dir), "--out", str(out))
    assert result.exit_code == 0, result.output
    import_package(collection, out)
    names = {collection.decks.name(collection.get_card(c).did) for c in collection.find_cards("")}
    assert names == {"CS-433 Machine Learning 2024 (Diffusion models, open questions)::Diffusion models"}


def test_export_deck_name_option(tmp_path, collection, figures_dir):
    out = tmp_path / "q.apkg"
    result = invoke("export", CARDS, "--question", "10", "--deck-name", "Linear algebra drill", "--no-math-check",
                    "--figures-dir", str(figures_dir), "--out", str(out))
    assert result.exit_code == 0, result.output
    import_package(collection, out)
    (card,) = collection.find_cards("")
    assert collection.decks.name(collection.get_card(card).did).startswith("Linear algebra drill::")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--query", "topic:gmm-em and"], "ends too early"),
        (["--topic", "nope"], "unknown topic 'nope'"),
        (["--topic", "diffusion", "--type", "mcq"], "no card matches"),
    ],
)
def test_export_errors_are_clean(tmp_path, args, message):
    result = invoke("export", CARDS, "--out", str(tmp_path / "x.apkg"), *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert "linear-regression" in result.output or "ends too early" in message
    assert not (tmp_path / "x.apkg").exists()


def test_readme_command_reference_is_current():
    """The README's reference is generated from --help; regenerate it with `cog -r README.md`."""
    from cogapp import Cog

    status = Cog().main(["cog", "--check", str(REPO / "README.md")])
    assert status == 0, "README.md's command reference is stale: run `cog -r README.md`"


def test_check_without_mathjax_says_so_in_one_line_and_falls_back(basic_deck, tmp_path, monkeypatch):
    monkeypatch.setenv("EXAMDECK_MATHJAX_DIR", str(tmp_path / "no-mathjax-here"))
    result = CliRunner().invoke(main, ["check", str(basic_deck)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "structurally" in warnings[0]
    assert "Traceback" not in result.output
