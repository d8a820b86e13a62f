"""The `examdeck` command: a thin click layer over the library; the one place errors become exit codes.

Exit codes: 0 success, 1 invalid input (every problem printed as path:line: field: message),
2 usage error, 3 internal error (a bug in examdeck: please report it); 141 when the reader of the
output went away (`examdeck list | head -1`): the command stops quietly, as a tool killed by SIGPIPE.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__
from .errors import InvalidSources, UsageError

EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 1, 2, 3
EXIT_CLOSED_OUTPUT = 128 + 13  # 128 + SIGPIPE: what a shell reports for a tool whose reader went away
DEFAULT_CARDS = Path("cards")
CHECK_CACHE_DIR = Path("build") / ".cache"  # check writes no package, so no --out: the default build's


class Ui:
    """How much to say: -q prints only errors, -v adds each step."""

    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity
        self._status_shown = False

    def info(self, message: str) -> None:
        self.clear_status()
        if self.verbosity >= 0:
            click.echo(message)

    def warn(self, message: str) -> None:
        self.clear_status()
        if self.verbosity >= 0:
            click.echo(f"warning: {message}", err=True)

    def step(self, message: str) -> None:
        """-v: one line per step; on a terminal otherwise: a status line that the next output replaces."""
        if self.verbosity > 0:
            click.echo(f"  {message}", err=True)
        elif self.verbosity == 0 and sys.stderr.isatty():
            sys.stderr.write(f"\r\033[K{message[:100]}...")
            sys.stderr.flush()
            self._status_shown = True

    def clear_status(self) -> None:
        if self._status_shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self._status_shown = False

    def progress(self, items: list[Any], label: str) -> Any:
        """A progress bar on stderr for a terminal; silent when piped, quiet or verbose."""
        if self.verbosity != 0 or not sys.stderr.isatty():
            return contextlib.nullcontext(items)
        return click.progressbar(items, label=label, file=sys.stderr, show_pos=True)


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into messages and exit codes; never show a traceback for bad input."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ui: Ui = click.get_current_context().obj or Ui(0)
        try:
            return command(*args, **kwargs)
        except InvalidSources as exc:
            ui.clear_status()
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            count = len(exc.problems)
            click.echo(f"{count} problem{'s' if count != 1 else ''} found; nothing was written.", err=True)
            sys.exit(EXIT_INVALID)
        except UsageError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            if isinstance(exc, BrokenPipeError) and output_closed():  # not another pipe: that would be a bug
                end_quietly()
            _internal_error(ui, exc)

    return wrapper


def _internal_error(ui: Ui, exc: Exception) -> NoReturn:
    if ui.verbosity > 0:
        traceback.print_exc()
    click.echo(
        f"internal error: {type(exc).__name__}: {exc} -- this is a bug in examdeck {__version__}; "
        "please file an issue (run with -v for the traceback).",
        err=True,
    )
    sys.exit(EXIT_INTERNAL)


def output_closed() -> bool:
    """Whether the reader of stdout or stderr went away: a pipe whose reading end is closed
    (``poll`` reports POLLERR for it on Linux and macOS). Without ``poll`` (Windows): assumed."""
    import select

    if not hasattr(select, "poll"):
        return True
    poller = select.poll()
    for stream in (sys.stdout, sys.stderr):
        try:
            poller.register(stream.fileno(), 0)  # errors and hang-ups are always reported
        except (AttributeError, OSError, ValueError):  # not a file (click's test runner), or closed
            continue
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def end_quietly() -> NoReturn:
    """Stop as other command-line tools do when their reader goes away (``examdeck list | head -1``):
    say nothing, and exit with status 141 (128 + SIGPIPE). What is still buffered, and anything
    written while Python exits, goes to /dev/null instead of raising BrokenPipeError again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (AttributeError, OSError, ValueError):
            continue
    os.close(devnull)
    sys.exit(EXIT_CLOSED_OUTPUT)


def _flush_output(click_met_closed_pipe: bool) -> None:
    """Flush stdout and stderr before Python exits, so that a reader gone by then ends the command
    quietly (as ``end_quietly``) rather than with Python's "Exception ignored ... BrokenPipeError"."""
    if click_met_closed_pipe:  # in its own output (--help): click exits with status 1
        end_quietly()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            end_quietly()
        except (AttributeError, ValueError):  # no stream, or closed
            continue


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _ui(ctx).verbosity = -1


def _set_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    ui = _ui(ctx)
    if value and ui.verbosity >= 0:  # -q wins, wherever each is given
        ui.verbosity = 1


def _ui(ctx: click.Context) -> Ui:
    ui = ctx.find_object(Ui)
    if ui is None:  # a command invoked without examdeck's group (tests)
        ui = ctx.obj = Ui(0)
    return ui


QUIET_HELP = "Print only errors."
VERBOSE_HELP = "Print each step, and tracebacks of internal errors."


def add_verbosity_options(command: click.Command) -> click.Command:
    """Let `command` (and a group's subcommands) take -q/-v after its name too: `examdeck build -v`."""
    if not any(param.name == "quiet" for param in command.params):
        command.params += [
            click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_set_quiet, help=QUIET_HELP),
            click.Option(["-v", "--verbose"], is_flag=True, expose_value=False, callback=_set_verbose, help=VERBOSE_HELP),
        ]
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            add_verbosity_options(subcommand)
    return command


class LazyGroup(click.Group):
    """Commands whose modules load only when used, to keep `examdeck --help` and builds quick to start."""

    lazy_commands = {"import": "examdeck.importers.cli:import_group"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            import importlib

            module, _, attribute = self.lazy_commands[name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return add_verbosity_options(command)
        found = super().get_command(ctx, name)
        return add_verbosity_options(found) if found is not None else None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        stdout = sys.stdout
        try:
            return super().main(*args, **kwargs)
        finally:
            if kwargs.get("standalone_mode", True):
                # On EPIPE in its own output, click replaces sys.stdout by a wrapper that ignores it.
                _flush_output(click_met_closed_pipe=sys.stdout is not stdout)


figures_dir_option = click.option(
    "--figures-dir", default=Path("figures"), show_default=True, type=click.Path(path_type=Path, file_okay=False),
    help="Where generated figures are kept; redrawn only when their code changes.",
)
cards_dir_argument = click.argument(
    "cards_dir", required=False, default=DEFAULT_CARDS, type=click.Path(path_type=Path, file_okay=False)
)


def cache_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--cache-dir and --no-cache, shared by build and check."""
    command = click.option("--no-cache", is_flag=True,
                           help="Parse, render and check everything again, without reading or writing the cache.")(command)
    return click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False),
                        help="Where to keep parsed files, rendered cards and formula verdicts between runs, so "
                             "that only what changed is redone (default: <out>/.cache, for check build/.cache).")(command)


def resolve_cache_dir(cache_dir: Path | None, no_cache: bool, out_dir: Path) -> Path | None:
    if no_cache:
        return None
    return cache_dir if cache_dir is not None else out_dir / ".cache"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="examdeck")
@click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
@click.option("-v", "--verbose", is_flag=True, help=VERBOSE_HELP)
@click.pass_context
def main(ctx: click.Context, quiet: bool, verbose: bool) -> None:
    """Turn exam card sources (YAML + Markdown + LaTeX) into Anki packages.

    \b
    Exit codes: 0 ok, 1 invalid input, 2 usage error, 3 internal error.
    """
    ctx.obj = Ui(-1 if quiet else (1 if verbose else 0))


@main.command(short_help="Build one Anki package per deck.")
@cards_dir_argument
@click.option("--out", "out_dir", default=Path("build"), show_default=True, type=click.Path(path_type=Path, file_okay=False),
              help="Directory for the packages (<deck-key>.apkg).")
@figures_dir_option
@click.option("--include-nullified", is_flag=True, help="Also ship questions nullified in the exam (tagged status::nullified).")
@click.option("--include-drafts", is_flag=True, help="Also ship draft cards (tagged status::draft).")
@click.option("--no-math-check", is_flag=True, help="Skip typesetting every formula with MathJax before writing.")
@click.option("--strict", is_flag=True, help="Fail, writing nothing, when a formula is too wide for a phone card.")
@cache_options
@click.pass_obj
@handle_errors
def build(ui: Ui, cards_dir: Path, out_dir: Path, figures_dir: Path, include_nullified: bool, include_drafts: bool,
          no_math_check: bool, strict: bool = False, cache_dir: Path | None = None, no_cache: bool = False) -> None:
    """Build one Anki package per deck under CARDS_DIR (default: cards).

    \b
    Example:
      examdeck build                     # cards/* -> build/<deck-key>.apkg
      examdeck build cards --out dist --include-nullified

    Set SOURCE_DATE_EPOCH for a byte-reproducible release; without it the
    package carries the current time, so re-importing updates students' notes.
    """
    from .pipeline import BuildOptions
    from .pipeline import build as run_build

    options = BuildOptions(out_dir=out_dir, figures_dir=figures_dir, include_nullified=include_nullified,
                           include_drafts=include_drafts, math_check=not no_math_check, strict=strict,
                           cache_dir=resolve_cache_dir(cache_dir, no_cache, out_dir))
    built, warnings = run_build(cards_dir, options, progress=ui.step)
    for warning in warnings:
        ui.warn(warning)
    for package in built:
        ui.info(f"wrote {package.path} ({package.note_count} notes, {package.media_count} media files)")


@main.command(short_help="Validate every card and formula.")
@cards_dir_argument
@click.option("--no-math-check", is_flag=True, help="Validate without typesetting formulas (nor measuring their width).")
@click.option("--strict", is_flag=True, help="Make a formula too wide for a phone card an error (exit 1), not a warning.")
@click.option("--previous", metavar="OLD",
              help="A previous release (.apkg, cards directory or git ref): fail if a card it had is gone without being "
                   "retired, or has another type (mcq, truefalse, open) under the same id.")
@cache_options
@click.pass_obj
@handle_errors
def check(ui: Ui, cards_dir: Path, no_math_check: bool, previous: str | None, strict: bool = False,
          cache_dir: Path | None = None, no_cache: bool = False) -> None:
    """Validate every card under CARDS_DIR without writing anything.

    Every formula is typeset by Anki's MathJax and measured: a display formula
    wider than a line of a 360 px phone card, or an inline one wider than half
    a line, is reported as path:line: field: message (a warning; an error with
    --strict). See "Formula widths" in docs/card-format.md.

    \b
    Example:
      examdeck check cards
      examdeck check --strict                  # too-wide formulas fail the check
      examdeck check --previous v2025-spring   # a git tag of the last release
    """
    from .pipeline import check as run_check

    report = run_check(cards_dir, math_check=not no_math_check, progress=ui.step, strict=strict,
                       cache_dir=None if no_cache else cache_dir or CHECK_CACHE_DIR)
    if previous:
        from .diff import diff_snapshots
        from .release import notetype_change, release_problems
        from .snapshot import from_checked, load_snapshot

        problems = []
        for checked in report.decks:
            new = from_checked(checked, str(cards_dir))
            old = load_snapshot(previous, deck_key=checked.deck.key)
            problems += release_problems(diff_snapshots(old, new), new)
            changed_notetypes = notetype_change(old)
            if changed_notetypes:
                ui.warn(changed_notetypes)
        if problems:
            raise InvalidSources(problems)
    for warning in report.warnings:
        ui.warn(warning)
    if report.notices and ui.verbosity >= 0:
        ui.clear_status()
        for notice in report.notices:
            click.echo(str(notice), err=True)
        count = len(report.notices)
        ui.warn(f"{count} formula{'s are' if count != 1 else ' is'} too wide for a phone card (see above; "
                "--strict makes this an error)")
    for checked in report.decks:
        formulas = sum(len(r.formulas) for r in checked.rendered.values())
        ui.info(f"{checked.deck.key}: {len(checked.deck.cards)} cards, {formulas} formulas: ok")


def selection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The filters shared by commands that work on a subset of a deck."""
    options = [
        click.option("--topic", "topics", multiple=True, metavar="SLUG", help="Keep cards with this topic (repeatable: any of them)."),
        click.option("--type", "types", multiple=True, type=click.Choice(["mcq", "truefalse", "open"]),
                     help="Keep cards of this type (repeatable)."),
        click.option("--tag", "tags", multiple=True, metavar="TAG",
                     help="Keep cards with this Anki tag or a tag under it, e.g. exam::cs433-2024::q08 (repeatable)."),
        click.option("--exclude-topic", "exclude_topics", multiple=True, metavar="SLUG", help="Drop cards with this topic (repeatable)."),
        click.option("--question", "questions", metavar="RANGES", help="Keep exam questions in these ranges, e.g. 1-12,33."),
        click.option("--query", metavar="EXPR",
                     help="A search over the same terms, as in Anki: terms side by side must all match, 'or' for either, "
                          "-term to exclude, parentheses to group, e.g. \"(topic:gmm-em or topic:kmeans) -type:open\"."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@main.command(name="list", short_help="List decks, topics and statuses.")
@cards_dir_argument
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="A table for people, JSON for scripts.")
@click.pass_obj
@handle_errors
def list_command(ui: Ui, cards_dir: Path, output_format: str) -> None:
    """List decks, their topics (cards by type) and statuses.

    \b
    Example:
      examdeck list
      examdeck list cards --format json
    """
    import json

    from .pipeline import load_decks
    from .summary import summarize

    summaries = [summarize(deck) for deck in load_decks(cards_dir)]
    if output_format == "json":
        click.echo(json.dumps(summaries[0] if len(summaries) == 1 else {"decks": summaries}, indent=2))
        return
    for summary in summaries:
        click.echo(f"{summary['key']}: {summary['title']} ({summary['count']} cards)")
        statuses = ", ".join(f"{n} {s}" for s, n in summary["statuses"].items())
        click.echo(f"  statuses: {statuses}")
        width = max(len(t["slug"]) for t in summary["topics"])
        click.echo(f"  {'topic':<{width}}  cards  mcq  t/f  open  title")
        for topic in summary["topics"]:
            by_type = topic["by_type"]
            click.echo(
                f"  {topic['slug']:<{width}}  {topic['count']:>5}  {by_type['mcq']:>3}  {by_type['truefalse']:>3}"
                f"  {by_type['open']:>4}  {topic['title']}"
            )


@main.command(short_help="Export a subset of a deck as one package.")
@cards_dir_argument
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The package to write, e.g. build/gmm.apkg.")
@click.option("--deck", "deck_key", metavar="KEY", help="The deck to export from, when CARDS_DIR holds several.")
@click.option("--deck-name", help="Title of the subset deck in Anki (default: the deck title and what was selected, in words).")
@selection_options
@click.option("--include-nullified", is_flag=True, help="Also consider nullified questions.")
@figures_dir_option
@click.option("--no-math-check", is_flag=True, help="Skip typesetting every formula with MathJax before writing.")
@click.pass_obj
@handle_errors
def export(ui: Ui, cards_dir: Path, out_path: Path, deck_key: str | None, deck_name: str | None,
           topics: tuple[str, ...], types: tuple[str, ...], tags: tuple[str, ...], exclude_topics: tuple[str, ...],
           questions: str | None, query: str | None, include_nullified: bool, figures_dir: Path,
           no_math_check: bool) -> None:
    """Export a subset of a deck (by topic, type, tag, question or query) as one package.

    The subset's notes keep the full deck's ids and note types: a student who
    imports a subset first and the full deck later gets no duplicates and keeps
    their reviews.

    \b
    Examples:
      examdeck export --topic gmm-em --topic kmeans --out build/clustering.apkg
      examdeck export --question 1-12 --type mcq --out build/mcq.apkg
      examdeck export --query "(topic:gmm-em or topic:kmeans) -type:open" --out build/q.apkg
    """
    from .pipeline import BuildOptions, load_decks
    from .pipeline import build as run_build
    from .select import Selection, select, subset_title

    selection = Selection(topics, types, tags, exclude_topics, questions, query)
    decks = load_decks(cards_dir)
    if deck_key is None and len(decks) > 1:
        raise UsageError(f"{cards_dir} holds several decks: choose one with --deck ({', '.join(d.key for d in decks)})")
    deck = next((d for d in decks if deck_key in (None, d.key)), None)
    if deck is None:
        raise UsageError(f"no deck {deck_key!r} in {cards_dir} (decks: {', '.join(d.key for d in decks)})")
    for d in decks:
        if d is deck:
            select(d, d.cards, selection)  # validate terms early, before any drawing or checking
    title = deck_name or subset_title(deck, selection)
    options = BuildOptions(figures_dir=figures_dir, include_nullified=include_nullified, math_check=not no_math_check)
    built, warnings = run_build(
        cards_dir, options, progress=ui.step, deck_title=title, out_path=out_path,
        choose=lambda d, cards: select(d, cards, selection) if d.key == deck.key else [],
    )
    for warning in warnings:
        ui.warn(warning)
    for package in built:
        ui.info(f"wrote {package.path} ({package.note_count} notes, {package.media_count} media files) as deck {title!r}")


@main.command(short_help="Draw the figures cards refer to.")
@click.argument("names", nargs=-1)
@click.option("--out", "figures_dir", default=Path("figures"), show_default=True, type=click.Path(path_type=Path, file_okay=False),
              help="Where to write <name>.<variant>.png (desktop/phone, light/dark), <name>.json and <name>.hash.")
@click.option("--force", is_flag=True, help="Redraw even when the code hash says the files are current.")
@click.pass_obj
@handle_errors
def figures(ui: Ui, names: tuple[str, ...], figures_dir: Path, force: bool) -> None:
    """Draw the figures that cards refer to (all, or NAMES), with their data as JSON.

    A figure is redrawn only when its own code, style or parameters changed (a content hash kept
    in <name>.hash), never because another numpy or matplotlib is installed; --force redraws on
    purpose. The committed figures are drawn with the matplotlib pinned by the `figures` extra
    (pip install -e '.[figures]'); drawing with another one warns, as its pixels differ.

    \b
    Example:
      examdeck figures                  # every figure into figures/
      examdeck figures gmm-datasets --force
    """
    from . import figures as registry

    known = registry.figure_names()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown figure {unknown[0]!r}; known figures: {', '.join(known)}")
    todo_names = list(names or known)
    stale = [n for n in todo_names if force or not registry.is_current(n, figures_dir)]
    if stale and registry.running_matplotlib() != registry.MATPLOTLIB:
        ui.warn(f"matplotlib {registry.running_matplotlib()} is installed, but the committed figures are drawn with "
                f"matplotlib=={registry.MATPLOTLIB}: the redrawn images will differ from them in every pixel row. "
                "Install it with: pip install -e '.[figures]'")
    with ui.progress(todo_names, "drawing figures") as todo:
        for name in todo:
            files = registry.ensure_figure(name, figures_dir, force=name in stale and force)
            ui.step(f"{name}: {', '.join(p.name for p in files.images.values())} and {files.sidecar.name}")
    ui.info(f"{len(todo_names)} figures up to date in {figures_dir}" + (f" ({len(stale)} drawn)" if stale else ""))


@main.command(short_help="Write an HTML preview of every card.")
@cards_dir_argument
@click.option("--out", "out_dir", default=Path("build/preview"), show_default=True,
              type=click.Path(path_type=Path, file_okay=False), help="Directory for index.html, media/ and mathjax/.")
@figures_dir_option
@click.option("--active-only", is_flag=True, help="Leave out nullified, draft and retired cards.")
@click.option("--no-math-check", is_flag=True, help="Skip checking formulas before writing the page.")
@click.option("--report", is_flag=True,
              help="Also load every side in headless Chromium (phone 360 px, desktop 1280 px, light and night), "
                   "print what overflows and write it to <out>/report.json.")
@click.pass_obj
@handle_errors
def preview(ui: Ui, cards_dir: Path, out_dir: Path, figures_dir: Path, active_only: bool, no_math_check: bool,
            report: bool = False) -> None:
    """Write a static HTML page of every card, front and back, as Anki shows them.

    Formulas are typeset by the same MathJax 3.2.2 as Anki, served from local
    files; a menu filters the cards by topic and a button switches to night mode.
    phone.html shows every side as a 360 px phone, light and night, with what
    overflows outlined in red. --report measures every side in headless Chromium
    and lists what does not fit: formulas wider than their box, anything past
    the right edge, sideways scrolling, figures shrunk below 1/3.5, bright
    figures and low-contrast text at night, answer marks on a front.

    \b
    Example:
      examdeck preview                   # -> build/preview/index.html, phone.html
      examdeck preview --out /tmp/review && xdg-open /tmp/review/phone.html
      examdeck preview --report          # also build/preview/report.json
    """
    from .preview import inspect_preview, write_preview

    page = write_preview(cards_dir, out_dir, figures_dir=figures_dir, include_all=not active_only,
                         math_check=not no_math_check, progress=ui.step)
    ui.info(f"wrote {page} and {page.with_name('phone.html')}")
    if report:
        result = inspect_preview(out_dir, progress=ui.step)
        findings: list[dict[str, str]] = result["findings"]  # type: ignore[assignment]
        for finding in findings:
            ui.info(f"{finding['deck']}/{finding['card_id']} {finding['side']} [{finding['view']}] "
                    f"{finding['kind']}: {finding['message']}")
        summary: dict[str, dict[str, int]] = result["summary"]  # type: ignore[assignment]
        counts = ", ".join(f"{kind} {n['cards']} cards" for kind, n in summary.items() if n["findings"])
        ui.info(f"{result['sides']} sides in {len(result['views'])} views: "  # type: ignore[arg-type]
                f"{counts or 'everything fits'}; wrote {Path(out_dir) / 'report.json'}")


@main.command(short_help="Compare two releases of a deck.")
@click.argument("old")
@click.argument("new", default="cards")
@click.option("--deck", "deck_key", metavar="KEY", help="The deck to compare, when a side holds several.")
@click.option("--format", "output_format", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True, help="markdown is what release notes contain.")
@click.option("--cards-path", default="cards", show_default=True, help="Where the cards are inside a git ref.")
@click.option("--allow-removal", is_flag=True, help="Report removed cards without failing.")
@click.pass_obj
@handle_errors
def diff(ui: Ui, old: str, new: str, deck_key: str | None, output_format: str, cards_path: str,
         allow_removal: bool) -> None:
    """Compare two releases: cards added, changed (field by field), moved, retired, removed.

    OLD and NEW are each an .apkg file, a cards directory or a git ref (default
    NEW: the cards directory). Changed fields are shown as their Markdown
    source, formulas as written; a package keeps only HTML, so with a package
    on either side both are shown as text recovered from the HTML.

    Exit code 1 (after the report) when a card was removed outright (unless
    --allow-removal: students keep their copy, still scheduled, forever) or a
    card's type changed under the same id (Anki does not update that note).

    \b
    Example:
      examdeck diff v2025-spring cards
      examdeck diff build/cs433-2024-2025-spring.apkg cards --format markdown
    """
    from .diff import diff_snapshots, format_diff
    from .snapshot import load_snapshot

    result = diff_snapshots(load_snapshot(old, deck_key=deck_key, cards_path=cards_path),
                            load_snapshot(new, deck_key=deck_key, cards_path=cards_path))
    click.echo(format_diff(result, output_format), nl=False)
    failed = False
    if result.type_changes:
        click.echo(f"error: type changed under the same id, students will not get the update: {', '.join(result.type_changes)} "
                   "(retire the old id and add the question under a new one)", err=True)
        failed = True
    if result.removed and not allow_removal:
        click.echo(f"error: removed without being retired: {', '.join(result.removed)} (see --allow-removal)", err=True)
        failed = True
    if failed:
        sys.exit(EXIT_INVALID)


@main.command(short_help="Build a semester release with notes.")
@cards_dir_argument
@click.option("--out", "out_dir", default=Path("build"), show_default=True, type=click.Path(path_type=Path, file_okay=False),
              help="Directory for <deck-key>-<version>.apkg and its release notes (.md).")
@click.option("--previous", metavar="OLD",
              help="The previous release (.apkg, cards directory or git ref); default: the most recent git tag v* "
                   "reachable from HEAD, other than v<version>.")
@click.option("--allow-removal", is_flag=True, help="Allow cards that the previous release had to be gone.")
@figures_dir_option
@click.option("--no-math-check", is_flag=True, help="Skip typesetting every formula with MathJax before writing.")
@click.pass_obj
@handle_errors
def release(ui: Ui, cards_dir: Path, out_dir: Path, previous: str | None, allow_removal: bool, figures_dir: Path,
            no_math_check: bool) -> None:
    """Build a semester release: <deck-key>-<version>.apkg plus release notes.

    The version comes from deck.yaml; the build time from SOURCE_DATE_EPOCH or
    else the last git commit, so the package is reproducible and newer than the
    previous release. The deck description is deck.yaml's description followed
    by the version, the source, the cards per topic and how to update safely.

    A release is tagged v<version> in git. Without --previous, the release is
    compared with the most recent tag matching v* reachable from HEAD (other
    than its own); with none, it is a first release. The release notes say which.
    Nothing is written when a published card is gone without being retired
    (unless --allow-removal) or has another type under the same id.

    \b
    Example:
      examdeck release                  # compares with the last v* tag
      git tag v2026-autumn              # then tag the release
      examdeck release --previous build/cs433-2026-spring.apkg
    """
    from .release import make_release

    releases, warnings = make_release(cards_dir, out_dir, figures_dir=figures_dir, previous=previous,
                                      math_check=not no_math_check, allow_removal=allow_removal, progress=ui.step)
    for warning in warnings:
        ui.warn(warning)
    for item in releases:
        compared = f"compared with {item.previous}" if item.previous else "a first release"
        ui.info(f"wrote {item.package.path} ({item.package.note_count} notes) and {item.notes_path}, {compared}")
