"""The command line as a user meets it: help, version, list, export, exit codes, pipes, -q/-v."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

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
    assert data["types"] == {"mcq": 12, "truefalse": 20, "open": 17}  # q41 is four cards (issue 16)
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
    assert len(ids) == len(set(ids)) == 47  # 49 cards, the two nullified ones left out
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


def run_examdeck(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """examdeck as a separate process, this checkout's source first."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "examdeck", *args], env=env, stderr=subprocess.PIPE, **kwargs)


@pytest.mark.parametrize("args", [["list", CARDS], ["list", CARDS, "--format", "json"], ["--help"], ["build", "--help"]])
def test_a_closed_output_pipe_ends_the_command_quietly(args):
    """`examdeck list | head -1`: the reader went away; like other tools: no message, status 141 (128 + SIGPIPE)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: every write fails with EPIPE
    try:
        result = run_examdeck(*args, stdout=write_end)
    finally:
        os.close(write_end)
    assert result.stderr == b""
    assert result.returncode == 141


def test_head_reads_the_first_line_of_a_real_pipeline(tmp_path):
    if not os.path.exists("/bin/sh"):
        pytest.skip("no POSIX shell")
    src = os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])
    script = f'PYTHONPATH="{src}" "{sys.executable}" -m examdeck list "{CARDS}" 2>err | head -1; cat err'
    result = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert re.fullmatch(r"cs433-2024: CS-433 Machine Learning 2024 \(\d+ cards\)\n", result.stdout)  # and nothing on stderr
    assert result.returncode == 0


def test_a_broken_pipe_that_is_not_the_output_is_still_a_bug(monkeypatch):
    import examdeck.pipeline

    def broken(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(examdeck.pipeline, "load_decks", broken)
    result = CliRunner().invoke(main, ["list", CARDS])  # the output (click's runner) is fine
    assert result.exit_code == 3
    assert "internal error: BrokenPipeError" in result.output


def all_commands() -> list[list[str]]:
    """Every command's path: `build`, ..., `import`, `import amc`, `import text`."""
    import click

    paths = []
    for name in main.list_commands(click.Context(main)):
        command = main.get_command(click.Context(main), name)
        paths.append([name])
        if isinstance(command, click.Group):
            paths += [[name, sub] for sub in command.list_commands(click.Context(command))]
    return paths


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_every_command_takes_and_shows_quiet_and_verbose(path):
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    assert "-q, --quiet" in result.output and "-v, --verbose" in result.output


@pytest.mark.parametrize(
    ("args", "steps", "summary"),
    [
        ([], False, True),
        (["-v"], True, True),
        (["-q"], False, False),
        (["-v", "-q"], False, False),  # -q wins, wherever each is given
        (["-q", "-v"], False, False),
    ],
)
def test_quiet_and_verbose_after_the_command_name(basic_deck, args, steps, summary):
    for before, after in ((args, []), ([], args), (args[:1], args[1:])):
        result = CliRunner().invoke(main, [*before, "check", str(basic_deck), "--no-math-check", *after])
        assert result.exit_code == 0, result.output
        assert ("rendering fixture-basic" in result.stderr) == steps, (before, after, result.stderr)
        assert ("fixture-basic: 4 cards" in result.stdout) == summary, (before, after, result.stdout)


def test_build_verbose_after_the_command_name(basic_deck, tmp_path, figures_dir):
    result = CliRunner().invoke(main, ["build", str(basic_deck), "--out", str(tmp_path), "--figures-dir", str(figures_dir),
                                       "--no-math-check", "-v"])
    assert result.exit_code == 0, result.output
    assert f"writing {tmp_path / 'fixture-basic.apkg'}" in result.stderr


def test_ci_runs_exactly_the_readmes_test_command():
    """.ci/run is the README's set-up command 2, verbatim, stopping with its status when it fails."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set-up: two commands", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line for line in setup.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2 and commands[1].endswith("python -m pytest")
    assert all(".venv" in command for command in commands)  # works where pip refuses the system Python
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert f"{commands[1]} || exit $?" in ci_lines
