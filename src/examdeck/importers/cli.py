"""`examdeck import amc|text`: options in, library calls, a report out. Attached to `examdeck` by cli.py."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..model import Topic
from ..schema import SLUG
from .model import DeckMeta, ImportResult
from .write import BASELINE_FILE, MergeReport, write_deck

if TYPE_CHECKING:
    from ..cli import Ui


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """examdeck.cli.handle_errors, looked up when the command runs.

    examdeck/cli.py imports this module to attach `import_group`; importing examdeck.cli here at
    load time would make that a circular import wherever cli.py places its import.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..cli import handle_errors as examdeck_handle_errors

        return examdeck_handle_errors(command)(*args, **kwargs)

    return wrapper


def _deck_key(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not SLUG.match(value):
        raise click.BadParameter(f"{value!r} must be lowercase letters, digits and dashes, e.g. cs433-2024")
    return value


def import_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """EXAM, --deck, --out and --title, shared by every importer."""
    options = [
        click.argument("exam", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        click.option("--deck", "deck_key", required=True, metavar="KEY", callback=_deck_key,
                     help="The deck key (lowercase, digits, dashes), e.g. cs433-2024. Never change it once published."),
        click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
                     help="The deck folder to write or merge into (default: cards/KEY)."),
        click.option("--title", help="The deck title shown in Anki (default: the deck key; an existing deck keeps its own)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(name="import", short_help="Turn an exam (AMC LaTeX or PDF text) into cards.")
def import_group() -> None:
    """Turn an exam (AMC LaTeX, or text extracted from a PDF) into a deck folder.

    Re-importing into an existing deck folder merges: cards already there (matched
    by id) are kept as edited, new questions are added, and questions that changed
    in the exam since the last import are reported, never overwritten.

    \b
    Examples:
      examdeck import amc exam.tex --deck ml-2025 --title "Machine Learning 2025"
      examdeck import text exam.txt --deck ml-2024 --out cards/ml-2024
    """


@import_group.command("amc", short_help="Import an auto-multiple-choice LaTeX exam.")
@import_options
@click.pass_obj
@handle_errors
def amc_command(ui: Ui, exam: Path, deck_key: str, out_dir: Path | None, title: str | None) -> None:
    """Import an auto-multiple-choice (AMC) LaTeX exam.

    question -> mcq, questionmult -> mcq with several answers, true/false choices
    (TRUE/FALSE, Vrai/Faux, Wahr/Falsch...) -> true/false, \\AMCOpen -> open (its
    \\explain is the answer); \\element groups become topics and each question's AMC
    id its card id. Formulas stay LaTeX, with the exam's macros expanded. EXAM is the
    main file: \\input and \\include are followed inside its folder; images are
    copied to the deck's images/. Questions whose values LaTeX computes (fp,
    pgfmath...) or whose images are missing are imported as drafts saying why.

    \b
    Example:
      examdeck import amc exam.tex --deck ml-2025 --title "Machine Learning 2025"
      examdeck build cards/ml-2025
    """
    from .amc import import_amc

    _run(ui, import_amc(exam), deck_key, out_dir, title,
         f"Imported from the AMC source {exam.name}.")


@import_group.command("text", short_help="Import an exam from its PDF's extracted text.")
@import_options
@click.pass_obj
@handle_errors
def text_command(ui: Ui, exam: Path, deck_key: str, out_dir: Path | None, title: str | None) -> None:
    """Import an exam from the text extracted from its PDF (e.g. pdftotext).

    Finds each question, its section (the topic), points, type (from the exam's
    parts: multiple choice, true/false, open), choices and solution. Formulas and
    ticked boxes do not survive extraction: every card is a draft whose notes say
    what to review; build them with --include-drafts until they are reviewed.

    \b
    Example:
      pdftotext -layout exam.pdf exam.txt
      examdeck import text exam.txt --deck ml-2024 --out cards/ml-2024
      examdeck build cards/ml-2024 --include-drafts
    """
    from .text import import_text

    _run(ui, import_text(exam), deck_key, out_dir, title,
         f"Imported from the extracted text of {exam.name}: every card is a draft to review.")


def _run(ui: Ui | None, result: ImportResult, deck_key: str, out_dir: Path | None, title: str | None,
         description: str) -> None:
    from ..cli import Ui

    ui = ui or Ui(0)  # invoked without examdeck's group (e.g. in tests): default verbosity
    out_dir = out_dir or Path("cards") / deck_key
    for warning in result.warnings:
        _warn(ui, str(warning))
    meta = DeckMeta(deck_key, title or deck_key, tuple(Topic(t.slug, t.title) for t in result.topics), description)
    report = write_deck(result.cards, meta, out_dir, result.images)
    _report(ui, report)


def _warn(ui: Ui, message: str) -> None:
    """`path:line: warning: ...` as is (Ui.warn would put `warning:` first)."""
    if ui.verbosity >= 0:
        click.echo(message, err=True)


def _report(ui: Ui, report: MergeReport) -> None:
    ui.info(
        f"{report.out_dir}: {len(report.added)} added, {len(report.kept)} kept as they are "
        f"({len(report.changed_upstream)} changed upstream), {len(report.removed_upstream)} no longer in the exam"
    )
    if report.added:
        ui.info(f"  added: {', '.join(report.added)}")
    if report.topics_added:
        ui.info(f"  topics added to deck.yaml: {', '.join(report.topics_added)}")
    for card_id, fields in report.changed_upstream:
        ui.info(f"  changed upstream: {card_id} ({', '.join(fields)}): the folder's version was kept; "
                f"the exam's version is in {BASELINE_FILE}: edit the card by hand if needed")
    if report.untracked:
        ui.info(f"  kept with no earlier import to compare with (compared from the next import on): "
                f"{', '.join(report.untracked)}")
    if report.removed_upstream:
        ui.info(f"  no longer in the exam: {', '.join(report.removed_upstream)} (kept; consider status: nullified)")
    for image in report.images_kept:
        ui.info(f"  {image}: the folder's file differs from the exam's image and was kept (delete it to take the exam's)")
    ui.info(f"  wrote: {', '.join(report.files_written) or 'nothing (the folder already had every card)'}")
