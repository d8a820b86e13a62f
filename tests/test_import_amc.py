"""`examdeck import amc`: AMC LaTeX exams to deck folders that build, every answer checked."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from examdeck.cli import Ui
from examdeck.errors import InvalidSources
from examdeck.importers import (
    BASELINE_FILE,
    DeckMeta,
    ImportedCard,
    ImportedChoice,
    import_amc,
    parse_amc,
    write_deck,
)
from examdeck.importers.cli import import_group
from examdeck.importers.latex import Context, latex_to_markdown
from examdeck.importers.write import cards_yaml
from examdeck.pipeline import BuildOptions, build, load_decks

AMC = Path(__file__).resolve().parent / "fixtures" / "amc"


def import_deck(tex: Path, out: Path, key: str = "exam") -> Path:
    result = import_amc(tex)
    write_deck(result.cards, DeckMeta(key, key.title(), result.topics), out, result.images)
    return out


def answers(deck_dir: Path) -> dict[str, tuple]:
    """Every card as (type, topics, multiple, choices or answer): what a student is graded on."""
    (deck,) = load_decks(deck_dir)
    out = {}
    for card in deck.cards:
        if card.type == "mcq":
            out[card.id] = ("mcq", card.topics, card.multiple, [(c.text, c.correct) for c in card.choices])
        else:
            answer = card.answer if isinstance(card.answer, bool) else card.answer.text  # type: ignore[union-attr]
            out[card.id] = (card.type, card.topics, False, answer)
    return out


# --- the AMC project's own example models -------------------------------------------------

EXPECTED = {
    "simple.tex": {
        "prez": ("mcq", ("questions",), False,
                 [("René Coty", True), ("Alain Prost", False), ("Marcel Proust", False), ("Claude Monet", False)]),
        "pref": ("mcq", ("questions",), True, [("Poitiers", True), ("Sainte-Menehould", False), ("Avignon", True)]),
    },
    "groups.tex": {
        "paris": ("mcq", ("geographie",), False,
                  [("Europe", True), ("Africa", False), ("Asia", False), ("planet Mars", False)]),
        "cameroon": ("mcq", ("geographie",), False, [("Yaoundé", True), ("Douala", False), ("Abou-Dabi", False)]),
        "marignan": ("mcq", ("histoire",), False, [("1515", True), ("1915", False), ("1519", False)]),
        "nantes": ("mcq", ("histoire",), True, [("It was signed in 1598", True),
                                                ("Il has been revoked by Louis XIV", True),
                                                ("It was signed by Henri II", False)]),
    },
    "scoring.tex": {
        "good-choice": ("mcq", ("qqs",), False, [("Maximum: 10", True), ("Only 5", False),
                                                 ("Two will be enough", False), ("None, thanks", False)]),
        "added": ("mcq", ("qqs",), True, [("2 points", True), ("One negative point!", False), ("3 points", True),
                                          ("1 point", True), ("Half point", True)]),
        "3-or-zero": ("mcq", ("qqs",), True, [("Wrong", False), ("Wrong", False), ("Right", True), ("Right", True)]),
        "all-for-2": ("mcq", ("qqs",), True, [("Right", True), ("This one is OK", True), ("Yes!", True),
                                              ("False!", False), ("Don't check!", False)]),
        "attention": ("mcq", ("qqs",), False, [("Good!", True), ("Not correct", False), ("Not correct", False),
                                               ("Not correct", False), ("Very bad answer!", False)]),
        "as-you-like": ("mcq", ("qqs",), True, [("You take two points here", True),
                                                ("Check to give 3 points", False),
                                                ("Get one if checked, but give one if not", True)]),
        "03": ("mcq", ("qqs",), True, [("steam", False), ("gas", False), ("nitrogen", True), ("oxygen", False),
                                       ("carbon dioxide", False), ("20%", False), ("40%", False), ("60%", False),
                                       ("80%", True)]),
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_amc_samples_import_with_every_answer(tmp_path: Path, name: str) -> None:
    deck_dir = import_deck(AMC / name, tmp_path / "deck")
    assert answers(deck_dir) == EXPECTED[name]
    warnings = import_amc(AMC / name).warnings
    # scoring.tex gives partial credit to some wrong choices: reported, since a card cannot say so.
    assert all("points that contradict its mark" in w.message for w in warnings) and (bool(warnings) == (name == "scoring.tex"))


def test_amc_samples_keep_the_exam_order_and_question_text(tmp_path: Path) -> None:
    (deck,) = load_decks(import_deck(AMC / "groups.tex", tmp_path / "deck"))
    assert [c.id for c in deck.cards] == ["paris", "cameroon", "marignan", "nantes"]
    assert [(t.slug, t.title) for t in deck.topics] == [("geographie", "Geographie"), ("histoire", "Histoire")]
    nantes = next(c for c in deck.cards if c.id == "nantes")
    assert nantes.question.text == "What can be said about the *Édit de Nantes*?\n"
    scoring = import_amc(AMC / "scoring.tex")
    # \scoring{...} and \AMCdontAnnotate leave no trace in the text.
    assert [c.question for c in scoring.cards][-1] == "Name an important gas in the air and its percentage."


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_amc_samples_build_into_packages(tmp_path: Path, figures_dir: Path, name: str) -> None:
    deck_dir = import_deck(AMC / name, tmp_path / "cards" / "exam")
    built, _ = build(tmp_path / "cards", BuildOptions(out_dir=tmp_path / "build", figures_dir=figures_dir))
    assert [(p.path.name, p.note_count) for p in built] == [("exam.apkg", len(EXPECTED[name]))]
    assert deck_dir.joinpath("deck.yaml").read_text().startswith("key: exam\ntitle: Exam\n")


# --- an exam of our own: formulas, \explain, TRUE/FALSE, questionmult, \AMCOpen ---------


@pytest.fixture(scope="module")
def mine():
    return import_amc(AMC / "mine.tex")


def card(result, card_id: str):
    return next(c for c in result.cards if c.id == card_id)


def test_mine_cards_types_topics_and_answers(mine) -> None:
    summary = [(c.id, c.type, c.topics, c.multiple, c.status) for c in mine.cards]
    assert summary == [
        ("det-3x3", "mcq", ("linear-algebra",), False, "active"),
        ("norms", "mcq", ("linear-algebra",), True, "active"),
        ("gd-step", "truefalse", ("optimization",), False, "active"),
        ("sgd-noise", "truefalse", ("optimization",), False, "active"),
        ("newton", "open", ("optimization",), False, "active"),
        ("typography", "mcq", ("text-and-macros",), False, "draft"),  # its image is missing
    ]  # the \onecopy header, \namefield and \insertgroup made no card
    assert [(t.slug, t.title) for t in mine.topics] == [
        ("linear-algebra", "Linear algebra"), ("optimization", "Optimization"), ("text-and-macros", "Text and macros"),
    ]
    assert [(c.text, c.correct) for c in card(mine, "det-3x3").choices] == [
        ("$-16$", False), ("$-96$", True), ("It cannot be determined", False),
    ]
    assert [c.correct for c in card(mine, "norms").choices] == [True, True, False]
    assert card(mine, "gd-step").answer is True  # choices `false` / `TRUE`: any case, any order
    assert card(mine, "sgd-noise").answer is False


def test_mine_formulas_are_kept_as_tex(mine) -> None:
    det = card(mine, "det-3x3")
    # \newcommand shorthands are expanded: Anki's MathJax does not know the exam's preamble.
    assert det.question == "Given $A \\in \\mathbb{R}^{3\\times 3}$ with eigenvalues $4$, $4$ and $-6$, what is\n$\\det(A)$?"
    assert det.explanation == (
        "The determinant is the product of the eigenvalues:\n\n$$\n\\det(A) = 4 \\cdot 4 \\cdot (-6) = -96.\n$$"
    )
    norms = card(mine, "norms")
    assert [c.text for c in norms.choices] == [
        "$\\left\\lVert x \\right\\rVert_1 = \\sum_i |x_i|$",
        "$\\max_i |x_i|$",
        "$x \\mapsto \\sum_i x_i$ (the sum of the *signed* entries)",
    ]
    # equation: display math, \label dropped (Anki would define it twice, front and back).
    assert card(mine, "gd-step").question.endswith(
        "never increases $f$:\n\n$$\nf(x_{t+1}) \\le f(x_t) - \\frac{\\gamma}{2}\\left\\lVert \\nabla f(x_t) "
        "\\right\\rVert^2\n$$"
    )
    # align: aligned inside display math; the \explain of an open question is its answer.
    newton = card(mine, "newton")
    assert newton.answer == (
        "The Newton step is $x^+ = x - Q^{-1}(Qx - b) = Q^{-1} b$:\n\n$$\n\\begin{aligned}\n"
        "\\nabla f(x) &= Qx - b, \\\\\n\\nabla^2 f(x) &= Q,\n\\end{aligned}\n$$\n\n"
        "so it reaches the minimum in *one* step, from any starting point."
    )
    assert newton.explanation == ""


def test_mine_text_macros_become_markdown_and_unknown_ones_are_warned(mine) -> None:
    typography = card(mine, "typography")
    assert typography.question == (
        "“Café” and naïve are spelled with accents; `grad_f` is code;\n50% is half.\\\n"
        "Which statement about *quotes* is right?*[image not imported: quotes.png]*"
    )
    assert typography.choices[1].text == "They are dropped `\\mystery{entirely}`"  # as written, shown as code
    assert "quotes.png" in typography.notes and "not found" in typography.notes
    assert card(mine, "sgd-noise").question.endswith("strongly convex function – even with noisy gradients.")
    assert [str(w) for w in mine.warnings] == [
        (f"{mine.warnings[0].path}:84: warning: image 'quotes.png' not imported: file not found in the exam's folder "
         f"{AMC.resolve()} (tried quotes.png, with .pdf/.png/.jpg/.jpeg); the card is a draft with a placeholder"),
        f"{mine.warnings[0].path}:87: warning: unknown LaTeX macro \\mystery kept verbatim",
    ]


def test_mine_builds_with_every_formula_typeset(tmp_path: Path, figures_dir: Path) -> None:
    import_deck(AMC / "mine.tex", tmp_path / "cards" / "mine", key="mine")
    built, _ = build(tmp_path / "cards", BuildOptions(out_dir=tmp_path / "build", figures_dir=figures_dir))
    assert [(p.deck_key, p.note_count) for p in built] == [("mine", 5)]  # the draft (image missing) is not shipped


# --- LaTeX to Markdown, macro by macro -----------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "markdown"),
    [
        ("\\emph{very} \\textbf{bold} \\textit{it}", "*very* **bold** *it*"),
        ("\\texttt{a\\_b} and {\\bf x}", "`a_b` and **x**"),
        ("one\\\\\ntwo", "one\\\ntwo"),
        ("Fig.~3, 50\\% \\& more", "Fig. 3, 50% & more"),
        ("``quoted'' and `single'", "“quoted” and ‘single'"),
        ("\\'e\\`a\\^o\\\"u\\c{c}\\~n \\'{E}", "éàôüçñ É"),
        ("a -- b --- c", "a – b — c"),
        ("$x_1$ and \\(y^2\\)", "$x_1$ and $y^2$"),
        ("so \\[ a = b \\] done", "so\n\n$$\na = b\n$$\n\ndone"),
        ("$$\n  a\n  + b\n$$", "$$\na\n+ b\n$$"),
        ("\\begin{equation*} E = mc^2 \\end{equation*}", "$$\nE = mc^2\n$$"),
        ("\\begin{align*}a &= b\\\\ c &= d\\end{align*}", "$$\n\\begin{aligned}\na &= b\\\\ c &= d\n\\end{aligned}\n$$"),
        ("costs $5$0 in 2$x$", "costs $5$ 0 in 2 $x$"),  # a digit next to $ would break the formula
        ("\\begin{itemize}\\item one \\item two\\end{itemize}", "- one\n- two"),
        ("\\begin{enumerate}\\item one \\item two\\end{enumerate}", "1. one\n2. two"),
        ("- not a list\n+ nor this\n# nor a heading\n1. nor this", "\\- not a list\n\\+ nor this\n\\# nor a heading\n1\\. nor this"),
        ("a * b_c", "a \\* b\\_c"),
        ("\\noindent\\vspace{1cm}Text\\hfill end", "Text end"),
        ("\\ldots{} and \\LaTeX{} too", "… and LaTeX too"),
        ("  indented\n    lines\n\n\n\nparagraph", "indented\nlines\n\nparagraph"),
    ],
)
def test_latex_to_markdown(latex: str, markdown: str) -> None:
    ctx = Context("t.tex")
    assert latex_to_markdown(latex, 0, len(latex), ctx, lambda _offset: 1) == markdown
    assert ctx.warnings == [] and ctx.problems == []


def test_unknown_macros_and_environments_are_kept_verbatim_with_the_line() -> None:
    latex = "first line\nsee \\cite{knuth} and\n\\begin{quizbox}{cc} a & b \\end{quizbox}"
    ctx = Context("t.tex")
    markdown = latex_to_markdown(latex, 0, len(latex), ctx, lambda offset: latex.count("\n", 0, offset) + 1)
    assert markdown == "first line\nsee `\\cite{knuth}` and\n\n```latex\n\\begin{quizbox}{cc} a & b \\end{quizbox}\n```"
    assert [str(w) for w in ctx.warnings] == [
        "t.tex:2: warning: unknown LaTeX macro \\cite kept verbatim",
        "t.tex:3: warning: unknown LaTeX environment 'quizbox' kept verbatim as a code block",
    ]


def test_comments_never_become_cards() -> None:
    source = (
        "\\begin{document}\n"
        "% \\begin{question}{commented}\n"
        "\\begin{question}{real}\n"
        "  Is 50\\% half? % a remark\n"
        "  \\begin{choices}\\correctchoice{TRUE}\\wrongchoice{FALSE}\\end{choices}\n"
        "\\end{question}\n"
        "\\end{document}\n"
    )
    result = parse_amc(source, "c.tex")
    assert [(c.id, c.type, c.question, c.answer) for c in result.cards] == [("real", "truefalse", "Is 50% half?", True)]


def test_open_question_without_explain_is_a_valid_draft(tmp_path: Path) -> None:
    source = "\\begin{question}{essay}\n  Discuss.\n  \\AMCOpen{lines=3}{\\wrongchoice{0}\\correctchoice{1}}\n\\end{question}\n"
    result = parse_amc(source, "o.tex")
    (essay,) = result.cards
    assert (essay.type, essay.status) == ("open", "draft")
    assert [str(w) for w in result.warnings] == [
        "o.tex:1: warning: open question 'essay' has no \\explain{...}: imported as a draft with a placeholder answer"
    ]
    write_deck(result.cards, DeckMeta("o", "O", result.topics), tmp_path / "o")
    assert load_decks(tmp_path / "o")[0].cards[0].status == "draft"


# --- malformed LaTeX: a clean error naming the line -----------------------------------------

QUESTION = "\\begin{{question}}{{q}}\n  Which?\n  \\begin{{choices}}\n    \\correctchoice{{{a}}}\n    \\wrongchoice{{b}}\n  \\end{{choices}}\n{end}"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (QUESTION.format(a="yes", end="\\end{question}\n\\begin{question}{r}\n  Never ended.\n"),
         "bad.tex:8: latex: \\begin{question} is never ended (missing \\end{question})"),
        (QUESTION.format(a="{yes", end="\\end{question}\n"),
         "bad.tex:4: latex: unbalanced braces: '{' is not closed before \\end{choices} at line 6"),
        (QUESTION.format(a="yes}", end="\\end{question}\n"), "bad.tex:4: latex: unbalanced braces: '}' closes nothing"),
        ("\\element{g}{\n" + QUESTION.format(a="yes", end="\\end{question}\n"),
         "bad.tex:1: latex: unbalanced braces: '{' is never closed"),
        (QUESTION.format(a="$x", end="\\end{question}\n"), "bad.tex:4: latex: unbalanced $: the formula is never closed"),
        (QUESTION.format(a="yes", end="\\end{questionmult}\n"),
         "bad.tex:7: latex: \\end{questionmult} without \\begin{questionmult}"),
        ("no questions here\n", "bad.tex:1: no AMC question found (expected \\begin{question}{id} ...)"),
    ],
)
def test_malformed_latex_is_a_located_error(source: str, message: str) -> None:
    with pytest.raises(InvalidSources) as raised:
        parse_amc(source, "bad.tex")
    assert message in [str(p) for p in raised.value.problems]


def test_malformed_latex_from_the_cli_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tex"
    bad.write_text(QUESTION.format(a="yes", end=""))
    result = CliRunner().invoke(import_group, ["amc", str(bad), "--deck", "bad", "--out", str(tmp_path / "out")],
                                obj=Ui(0))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{bad}:1: latex: \\begin{{question}} is never ended (missing \\end{{question}})",
        "1 problem found; nothing was written.",
    ]
    assert not (tmp_path / "out").exists()


# --- the command line ----------------------------------------------------------------------


def test_cli_imports_reports_and_warns_on_stderr(tmp_path: Path) -> None:
    out = tmp_path / "cards" / "mine"
    result = CliRunner().invoke(
        import_group, ["amc", str(AMC / "mine.tex"), "--deck", "mine", "--out", str(out), "--title", "My quiz"],
        obj=Ui(0), catch_exceptions=False,
    )
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{out}: 6 added, 0 kept as they are (0 changed upstream), 0 no longer in the exam",
        "  added: det-3x3, norms, gd-step, sgd-noise, newton, typography",
        "  topics added to deck.yaml: linear-algebra, optimization, text-and-macros",
        "  wrote: deck.yaml, linear-algebra.yaml, optimization.yaml, text-and-macros.yaml",
    ]
    assert [line.split(": warning: ")[0].rsplit(":", 1)[1] for line in result.stderr.splitlines()] == ["84", "87"]
    assert all(": warning: " in line and "mine.tex:" in line for line in result.stderr.splitlines())
    assert load_decks(out)[0].title == "My quiz"


def test_cli_attached_to_a_parent_group_like_examdeck(tmp_path: Path) -> None:
    @click.group()
    @click.pass_context
    def examdeck(ctx: click.Context) -> None:
        ctx.obj = Ui(-1)  # -q: errors only

    examdeck.add_command(import_group)
    out = tmp_path / "groups"
    result = CliRunner().invoke(examdeck, ["import", "amc", str(AMC / "groups.tex"), "--deck", "geo", "--out", str(out)])
    assert (result.exit_code, result.output) == (0, "")
    assert [c.id for c in load_decks(out)[0].cards] == ["paris", "cameroon", "marignan", "nantes"]


@pytest.mark.parametrize("command", ["amc", "text"])
def test_cli_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(import_group, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and f"examdeck import {command} " in result.output
    assert "--deck KEY" in result.output and "--out" in result.output and "--title" in result.output


def test_cli_rejects_a_bad_deck_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(import_group, ["amc", str(AMC / "simple.tex"), "--deck", "Bad Key"], obj=Ui(0))
    assert result.exit_code == 2
    assert "lowercase letters, digits and dashes" in result.output


def test_cli_default_out_is_cards_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(import_group, ["amc", str(AMC / "simple.tex"), "--deck", "simple"], obj=Ui(0))
    assert result.exit_code == 0
    assert (tmp_path / "cards" / "simple" / "questions.yaml").is_file()


# --- re-importing merges --------------------------------------------------------------------

NILE = """\\element{geographie}{
  \\begin{question}{Nile}
    Which river is the longest?
    \\begin{choices}
      \\correctchoice{The Nile}
      \\wrongchoice{The Seine}
    \\end{choices}
  \\end{question}
}
\\element{sciences}{
  \\begin{question}{water}
    Water boils at 100 degrees at sea level.
    \\begin{choices}\\correctchoice{TRUE}\\wrongchoice{FALSE}\\end{choices}
  \\end{question}
}
\\onecopy"""


def run_import(tex: Path, out: Path, key: str = "geo"):
    return CliRunner().invoke(import_group, ["amc", str(tex), "--deck", key, "--out", str(out)], obj=Ui(0),
                              catch_exceptions=False)


def test_reimport_keeps_edits_adds_new_questions_and_reports_upstream_changes(tmp_path: Path) -> None:
    v1, v2, out = tmp_path / "v1.tex", tmp_path / "v2.tex", tmp_path / "geo"
    original = (AMC / "groups.tex").read_text()
    v1.write_text(original)
    assert run_import(v1, out).exit_code == 0
    # The editor rewrites a question and annotates the file.
    geography = out / "geographie.yaml"
    edited = geography.read_text().replace("In which continent is Paris?", "On which continent is Paris?")
    edited = edited.replace("  - id: paris\n", "  # reviewed\n  - id: paris\n")
    geography.write_text(edited)
    # Upstream: one question reworded, one dropped, two added (one in a new group).
    updated = original.replace("Which is the capital city of Cameroon?", "What is the capital of Cameroon?")
    updated = updated.replace("\\element{histoire}{\n  \\begin{question}{Marignan}", "\\element{histoire}{\n  \\begin{question}{MarignanX}")
    v2.write_text(updated.replace("\\onecopy", NILE, 1))

    result = run_import(v2, out)

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{out}: 3 added, 3 kept as they are (1 changed upstream), 1 no longer in the exam",
        "  added: marignanx, nile, water",
        "  topics added to deck.yaml: sciences",
        (f"  changed upstream: cameroon (question): the folder's version was kept; the exam's version is in "
         f"{BASELINE_FILE}: edit the card by hand if needed"),
        "  no longer in the exam: marignan (kept; consider status: nullified)",
        "  wrote: deck.yaml, geographie.yaml, histoire.yaml, sciences.yaml",
    ]
    text = geography.read_text()
    assert text.startswith(edited), "the editor's file is kept byte for byte; new cards are appended"
    assert "Which is the capital city of Cameroon?" in text and "What is the capital" not in text
    assert answers(out)["water"] == ("truefalse", ("sciences",), False, True)
    assert sorted(answers(out)) == ["cameroon", "marignan", "marignanx", "nantes", "nile", "paris", "water"]
    assert json.loads((out / BASELINE_FILE).read_text())["cards"]["cameroon"]["question"] == "What is the capital of Cameroon?\n"

    again = run_import(v2, out)  # a change the editor has not taken is reported again
    assert again.stdout.splitlines()[0] == f"{out}: 0 added, 6 kept as they are (1 changed upstream), 1 no longer in the exam"
    # The editor takes it: then the import is quiet.
    geography.write_text(geography.read_text().replace("Which is the capital city of Cameroon?", "What is the capital of Cameroon?"))
    quiet = run_import(v2, out)
    assert quiet.stdout.splitlines()[0] == f"{out}: 0 added, 6 kept as they are (0 changed upstream), 1 no longer in the exam"


def test_reimport_into_a_hand_made_deck_keeps_every_card(tmp_path: Path) -> None:
    out = tmp_path / "geo"
    import_deck(AMC / "groups.tex", out, key="geo")
    (out / BASELINE_FILE).unlink()  # as if the folder had been written by hand
    before = {p.name: p.read_text() for p in out.glob("*.yaml")}
    result = run_import(AMC / "groups.tex", out)
    assert "kept with no earlier import to compare with (compared from the next import on): paris, cameroon, " \
           "marignan, nantes" in result.stdout
    assert {p.name: p.read_text() for p in out.glob("*.yaml")} == before


def test_reimport_into_another_deck_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "geo"
    import_deck(AMC / "groups.tex", out, key="geo")
    result = CliRunner().invoke(import_group, ["amc", str(AMC / "simple.tex"), "--deck", "other", "--out", str(out)],
                                obj=Ui(0))
    assert result.exit_code == 2
    assert "holds deck 'geo', not 'other'" in result.stderr


def test_reimport_into_a_broken_deck_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "geo"
    import_deck(AMC / "groups.tex", out, key="geo")
    broken = (out / "histoire.yaml").read_text().replace("correct: true", "correct: maybe", 1)
    (out / "histoire.yaml").write_text(broken)
    shutil.copy(out / "geographie.yaml", tmp_path / "before.yaml")
    result = run_import(AMC / "scoring.tex", out)
    assert result.exit_code == 1
    assert f"{out / 'histoire.yaml'}:" in result.stderr and "must be true or false" in result.stderr
    assert not (out / "qqs.yaml").exists()
    assert (out / "geographie.yaml").read_text() == (tmp_path / "before.yaml").read_text()


@pytest.mark.parametrize(
    "text",
    ["yes", "null", "1.5", "@at", "`tick`", "- dash", "a: b", "x # y", "  lead", "tab\there", "'q'", '"dq"', "| pipe",
     "> gt", "%pct", "*star*", "[a]", "{b}", "é", "ends:", "a\\b", "multi\nline", "\n\nblank first", "trail  ",
     "bell\x07", "line\u2028sep"],
)
def test_card_files_read_back_exactly(text: str) -> None:
    cards = [
        ImportedCard(id="m", type="mcq", topics=("t",), question=text, file="f.yaml",
                     choices=(ImportedChoice(text, True), ImportedChoice("other", False)), explanation=text, notes=text),
        ImportedCard(id="o", type="open", topics=("t",), question="  " + text + "\n\n", file="f.yaml", answer="\t" + text),
    ]
    # cards_yaml itself refuses YAML that does not read back as the data; reading it here as well.
    assert yaml.safe_load(cards_yaml(cards)) == {"cards": [c.to_data() for c in cards]}


def test_a_file_that_is_not_utf8_is_a_located_error(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.tex"
    latin1.write_bytes(b"\\begin{question}{q}\n  Caf\xe9?\n\\end{question}\n")
    result = CliRunner().invoke(import_group, ["amc", str(latin1), "--deck", "l", "--out", str(tmp_path / "l")],
                                obj=Ui(0))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"{latin1}:2: file is not UTF-8 text"


# --- real exams, kind by kind (issue 15): our own small exams in tests/fixtures/amc/kinds ---------

KINDS = AMC / "kinds"
REALISTIC = AMC / "realistic"
# AMC's own commands, under every name: none may reach a card as text.
AMC_COMMANDS = ("\\bareme", "\\scoring", "\\bonne", "\\mauvaise", "reponses", "\\restituegroupe", "\\QuestionIndicative",
                "\\lastchoices", "\\alafin", "\\AMCnoCompleteMulti", "\\AMCBoxedAnswers", "\\AMCnumericChoices",
                "\\champnom", "\\melangegroupe", "\\exemplaire")


def compile_exam(folder: Path, main: str, tmp_path: Path, engine: str = "pdflatex") -> None:
    """Compile an exam of ours with AMC's LaTeX package (a test input LaTeX rejects proves nothing)."""
    import subprocess

    if shutil.which(engine) is None or subprocess.run(["kpsewhich", "automultiplechoice.sty"], capture_output=True,
                                                      text=True).stdout.strip() == "":
        pytest.skip(f"{engine} with auto-multiple-choice is not installed")
    work = tmp_path / "latex"
    shutil.copytree(folder, work, dirs_exist_ok=True)
    run = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", main], cwd=work, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:]


def all_text(card) -> str:
    return "\n".join([card.question, card.explanation, card.notes if False else "",
                      card.answer if isinstance(card.answer, str) else "", *(c.text for c in card.choices)])


def shown(warnings) -> list[str]:
    return [f"{Path(w.path).name}:{w.line}: warning: {w.message}" for w in warnings]


def by_id(result) -> dict:
    return {c.id: c for c in result.cards}




@pytest.mark.parametrize("name", sorted(p.name for p in KINDS.glob("*.tex")))
def test_each_exam_of_ours_compiles_with_amc(tmp_path: Path, name: str) -> None:
    compile_exam(KINDS, name, tmp_path)


def test_the_realistic_exam_compiles_with_amc(tmp_path: Path) -> None:
    compile_exam(REALISTIC, "main.tex", tmp_path)


def test_french_amc_commands_are_read_never_shown() -> None:
    result = import_amc(KINDS / "french.tex")
    cards = by_id(result)
    for card in result.cards:
        for command in AMC_COMMANDS:
            assert command not in all_text(card), (card.id, command)
    assert [(c.text, c.correct) for c in cards["eau-ebullition"].choices] == [
        ("$100$ degrés Celsius", True), ("$80$ degrés Celsius", False), ("$120$ degrés Celsius", False)]
    # \alafin (\lastchoices): the choices after it stay last, written `pin: last` in the card file.
    gases = cards["gaz-nobles"]
    assert gases.multiple and [(c.text, c.correct, c.pin_last) for c in gases.choices] == [
        ("l'argon", True, False), ("le néon", True, False), ("l'azote", False, False), ("je ne sais pas", False, True)]
    assert "pin: last" in cards_yaml([gases])
    # \QuestionIndicative: not scored, so not an answer to learn: a draft that says why.
    survey = cards["avis-cours"]
    assert survey.status == "draft" and "QuestionIndicative" in survey.notes
    # Vrai/Faux is a true/false card; \AMCnumericChoices an open card whose answer is the number.
    assert (cards["sel-soluble"].type, cards["sel-soluble"].answer) == ("truefalse", True)
    assert (cards["protons-carbone"].type, cards["protons-carbone"].answer) == ("open", "6")
    assert [(t.slug, t.title) for t in result.topics] == [("chimie", "Chimie")]
    assert result.warnings == ()


def test_every_macro_defining_form_is_expanded() -> None:
    result = import_amc(KINDS / "macros.tex")
    cards = by_id(result)
    assert cards["trace-identity"].question == (
        "For the identity $I_n$, what is $\\operatorname{Tr} I_n$ when $n \\in \\mathbb{N}$?")  # \DeclareMathOperator, \def
    assert cards["inner-product"].question == (  # \def with parameters, \let, \newcommand
        "In $\\mathbb{R}^2$, what is $\\langle \\mathbf{u}, \\mathbf{v}\\rangle$ for $\\mathbf{u} = (1, 0)$ and "
        "$\\mathbf{v} = (0, 1)$?")
    assert [c.text for c in cards["inner-product"].choices] == [  # \providecommand, \renewcommand
        "$0$", "$\\frac{1}{2}$", "$\\varepsilon$, a small number"]
    assert cards["mode-as-argmax"].choices[0].text == "$\\operatorname*{arg\\,max}_x p(x)$"  # \DeclareMathOperator*
    # mathtools' \DeclarePairedDelimiter (with its star), and \let keeping the meaning a macro had then.
    assert cards["absolute-value"].question == (
        "What is $\\mathopen{\\lvert}-3\\mathclose{\\rvert} + \\left\\lvert\\frac{-1}{2}\\right\\rvert$ for the unit "
        "vector $\\hat{\\mathbf{e}}$?")
    # A \newcommand whose body writes a question: each use is a question, none has the id `#1`.
    assert [c.id for c in result.cards][-2:] == ["smallest-prime", "first-perfect"]
    assert cards["first-perfect"].question == "Which number is the first perfect number?"
    assert [(c.text, c.correct) for c in cards["first-perfect"].choices] == [("$6$", True), ("$4$", False)]
    assert all(c.status == "active" for c in result.cards) and result.warnings == ()


def test_macros_in_an_input_file_are_expanded_and_cycles_are_refused(tmp_path: Path) -> None:
    (tmp_path / "defs.tex").write_text("\\DeclareMathOperator{\\Var}{Var}\n\\def\\E{\\mathbb{E}}\n")
    (tmp_path / "exam.tex").write_text(
        "\\documentclass{article}\\usepackage{amsmath,amssymb}\\usepackage{automultiplechoice}\n\\input{defs}\n"
        "\\begin{document}\n\\begin{question}{variance}\n$\\Var X = \\E X^2 - (\\E X)^2$ holds for\n"
        "\\begin{choices}\\correctchoice{every $X$ with a second moment}\\wrongchoice{no $X$}\\end{choices}\n"
        "\\end{question}\n\\end{document}\n")
    compile_exam(tmp_path, "exam.tex", tmp_path / "c")
    card = import_amc(tmp_path / "exam.tex").cards[0]
    assert card.question == "$\\operatorname{Var} X = \\mathbb{E} X^2 - (\\mathbb{E} X)^2$ holds for"


def test_context_of_an_element_and_before_insertgroup_reaches_each_question() -> None:
    result = import_amc(KINDS / "context.tex")
    cards = by_id(result)
    statement = "A tank holds $600$ litres of water and drains at a steady $20$ litres per minute."
    assert cards["tank-empty"].question == f"{statement}\n\nAfter how many minutes is the tank empty?"
    assert cards["tank-half"].question == f"{statement}\n\nAfter how many minutes is it half full?"
    # Text just before \insertgroup is the group's context; part titles ("Part one", "Part two") are not.
    assert cards["poem-rhyme"].question == (
        "Read this verse before answering: *the stars came out one by one in the night*.\n\n"
        "Which word rhymes with the last word of the verse?")
    assert shown(result.warnings) == [
        "context.tex:27: warning: the text before \\insertgroup{poem} ('Read this verse before answering: "
        "*the s'...) was put before each question of group 'poem' as its context"]


def test_text_between_loose_questions_is_a_located_warning() -> None:
    source = ("\\begin{document}\n\\begin{question}{a}\nOne?\\begin{choices}\\correctchoice{x}\\wrongchoice{y}\\end{choices}"
              "\n\\end{question}\nThe table below is used by the next question.\n\\begin{question}{b}\nTwo?"
              "\\begin{choices}\\correctchoice{x}\\wrongchoice{y}\\end{choices}\n\\end{question}\n\\end{document}\n")
    result = parse_amc(source, "loose.tex")
    assert [str(w) for w in result.warnings] == [
        "loose.tex:5: warning: text outside any question was not imported: "
        "'The table below is used by the next question.'; put it inside the question that needs it, or in an "
        "\\element with the questions that share it"]


def test_code_shows_as_printed() -> None:
    cards = by_id(import_amc(KINDS / "code.tex"))
    # alltt: \%, \# are the characters, `\\` at a line end is that line end, \texttt{x} is x, indentation kept.
    assert cards["modulo-loop"].question == (
        "What does this loop print?\n\n```\ntotal = 0\nfor n in range(5):\n    if n % 2 == 0: total += n   # even ones\n"
        "print(total)\n```")
    assert [c.text for c in cards["modulo-loop"].choices] == ["`6`", "`10`"]
    # fancyvrb: the SaveVerbatim body byte for byte (%, braces), where \UseVerbatim is.
    assert cards["swap-result"].question == (
        "What does `swap((1, 2))` return?\n\n```\ndef swap(pair):\n    a, b = pair   # 100% safe {no braces needed}\n"
        "    return b, a\n```")
    # {\tt ...}, \lstinline, and a \texttt over several lines (\\ and \hspace*) as a code block;
    # an AMC command unknown to us is left out, never shown.
    assert cards["typewriter-lines"].question == (
        "Which value does `k` hold after `k = len(\"ab\")` and these lines?\n\n```\nif k > 1:\n  k = k * 10\n```")
    # \lstinputlisting: the file next to the exam, in its language.
    assert cards["listing-file"].question == (
        "What does the program below print?\n\n```python\nname = \"Ada\"\nprint(f\"Hello, {name}!\")  # an f-string\n```")


def test_a_listing_outside_the_exam_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "exam").mkdir()
    (tmp_path / "secret.py").write_text("x = 1\n")
    (tmp_path / "exam" / "exam.tex").write_text(
        "\\begin{document}\n\\begin{question}{q}\nRead:\n\\lstinputlisting{../secret.py}\n"
        "\\begin{choices}\\correctchoice{a}\\wrongchoice{b}\\end{choices}\\end{question}\n\\end{document}\n")
    with pytest.raises(InvalidSources) as refused:
        import_amc(tmp_path / "exam" / "exam.tex")
    assert "is outside the exam's folder" in str(refused.value.problems[0])
    assert refused.value.problems[0].line == 4


def test_compile_time_values_make_drafts_that_pass_check(tmp_path: Path) -> None:
    result = import_amc(KINDS / "computed.tex")
    cards = by_id(result)
    speed = cards["average-speed"]
    assert speed.status == "draft" and "\\speed (set by \\FPeval at" in speed.notes
    assert speed.choices[0].text == "$\\mathtt{\\backslash{}speed}$"  # its name, never a wrong number
    assert speed.question.startswith("A train covers 120 km")  # a plain \newcommand is expanded
    sides = cards["random-sides"]
    assert sides.status == "draft" and "\\pgfmathsetmacro" in sides.notes and "\\side" in sides.notes
    assert cards["plain-one"].status == "active"
    deck = import_deck(KINDS / "computed.tex", tmp_path / "cards" / "k")
    from examdeck.pipeline import check

    assert check(deck.parent).decks[0].deck.key == "exam"  # the invariant: an import's output passes check


@pytest.mark.parametrize("snippet, macro", [
    ("the answer is \\directlua{tex.print(6*7)}", "\\directlua"),
    ("the answer is $\\fpeval{6*7}$", "\\fpeval"),
    ("the answer is \\py{6*7}", "\\py"),
    ("\\DTLloaddb{marks}{marks.csv}the mean mark", "\\DTLloaddb"),
    ("\\begin{pycode}\nx = 6*7\n\\end{pycode}\nthe answer", "\\begin{pycode}"),
])
def test_every_kind_of_compile_time_value_is_a_draft_naming_the_macro(snippet: str, macro: str) -> None:
    source = (f"\\begin{{document}}\n\\begin{{question}}{{q}}\n{snippet}\n"
              "\\begin{choices}\\correctchoice{a}\\wrongchoice{b}\\end{choices}\n\\end{question}\n\\end{document}\n")
    (card,) = parse_amc(source, "c.tex").cards
    assert card.status == "draft" and macro in card.notes


def test_a_formula_anki_cannot_typeset_becomes_a_draft_showing_its_source(tmp_path: Path) -> None:
    source = ("\\begin{document}\n\\begin{question}{units}\nA speed of $\\vitesse{3}{m/s}$ is\n"
              "\\begin{choices}\\correctchoice{slow}\\wrongchoice{fast}\\end{choices}\n\\end{question}\n\\end{document}\n")
    (card,) = parse_amc(source, "u.tex").cards
    assert card.status == "draft" and "Undefined control sequence \\vitesse" in card.notes
    assert card.question == "A speed of $\\mathtt{\\backslash{}vitesse\\{3\\}\\{m/s\\}}$ is"
    write_deck([card], DeckMeta("u", "U", (card_topic(card),)), tmp_path / "cards" / "u")
    from examdeck.pipeline import check

    check(tmp_path / "cards")


def card_topic(card):
    from examdeck.model import Topic

    return Topic(card.topics[0], card.topics[0].title())


def test_wrappers_are_unwrapped_and_unknown_macros_kept_byte_for_byte() -> None:
    result = import_amc(KINDS / "wrappers.tex")
    cards = by_id(result)
    assert cards["scaled-text"].question == "Which *planet* is the largest?\n$\\sum$ shows a sum"
    assert cards["colour-boxes"].question == (
        "The box x and this stay readable; `\\lowercase{Mixed {C}ase {{T}ext}}` is kept as written.")
    assert shown(result.warnings) == [
        "wrappers.tex:16: warning: unknown LaTeX macro \\lowercase kept verbatim"]


def test_mhchem_is_math_and_keeps_its_argument() -> None:
    source = ("\\begin{document}\n\\begin{question}{ion}\nIn \\ce{[Cu(NH3)4]^{2+}} copper has charge\n"
              "\\begin{choices}\\correctchoice{$+2$}\\wrongchoice{$+4$}\\end{choices}\n\\end{question}\n\\end{document}\n")
    (card,) = parse_amc(source, "chem.tex").cards
    assert card.question == "In $\\ce{[Cu(NH3)4]^{2+}}$ copper has charge"


def test_true_false_in_the_exam_language_group_names_in_any_script_and_duplicate_ids() -> None:
    result = import_amc(KINDS / "languages.tex")
    cards = by_id(result)
    assert {c.id: (c.type, c.answer) for c in result.cards} == {
        "de-wahr": ("truefalse", True), "es-falso": ("truefalse", False), "pt-verdadeiro": ("truefalse", True),
        "en-true": ("truefalse", True), "en-true-2": ("truefalse", False)}
    # Distinct slugs, transliterated; the group's own name is the title.
    assert [(t.slug, t.title) for t in result.topics] == [
        ("geometria", "Γεωμετρία"), ("fizika", "Физика"), ("fisica", "Física"), ("fisica-2", "Fisica"), ("spare", "Spare")]
    # The id used twice keeps its card id in the group the exam inserts; the spare one is renamed, and said so.
    assert cards["en-true"].question == "Sound needs a medium to travel."
    assert cards["en-true-2"].topics == ("spare",)
    assert shown(result.warnings) == [
        "languages.tex:30: warning: question id 'en-true' is used twice (also at line 24; this one is in "
        "a group the exam never inserts): this one is imported as 'en-true-2'"]


def test_thai_group_names_become_distinct_slugs() -> None:
    source = "\\begin{document}\n" + "".join(
        f"\\element{{{name}}}{{\\begin{{question}}{{q{i}}}\nก?\\begin{{choices}}\\correctchoice{{a}}\\wrongchoice{{b}}"
        "\\end{choices}\\end{question}}\n" for i, name in enumerate(["คณิตศาสตร์", "ฟิสิกส์", "ฟิสิกส์ 2"])) + "\\end{document}\n"
    topics = parse_amc(source, "th.tex").topics
    assert [t.title for t in topics] == ["คณิตศาสตร์", "ฟิสิกส์", "ฟิสิกส์ 2"]
    assert len({t.slug for t in topics}) == 3 and all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", t.slug) for t in topics)


# --- multi-file exams ---------------------------------------------------------------------------

def write_exam(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


BANK_QUESTION = ("\\element{{{group}}}{{\\begin{{question}}{{{id}}}\n{text}\n\\begin{{choices}}\\correctchoice{{yes}}"
            "\\wrongchoice{{no}}\\end{{choices}}\n\\end{{question}}}}\n")


def test_input_and_include_are_followed_relative_to_the_exam(tmp_path: Path) -> None:
    write_exam(tmp_path, {
        "exam.tex": ("\\documentclass{article}\\usepackage{import}\\usepackage{automultiplechoice}\n\\begin{document}\n"
                     "\\input{parts/one}\n\\input parts/two.tex\n\\include{parts/three}\n\\import{parts/}{four}\n"
                     "\\onecopy{1}{\\insertgroup{g}}\n\\end{document}\n"),
        "parts/one.tex": BANK_QUESTION.format(group="g", id="first", text="Is this the first?"),
        "parts/two.tex": "% a comment line\n" + BANK_QUESTION.format(group="g", id="second", text="And the second?"),
        "parts/three.tex": "\n\n" + BANK_QUESTION.format(group="g", id="third", text="And a third, $x$?"),
        "parts/four.tex": BANK_QUESTION.format(group="g", id="fourth", text="A fourth, by the import package?"),
    })
    compile_exam(tmp_path, "exam.tex", tmp_path / "c")
    result = import_amc(tmp_path / "exam.tex")
    assert [(c.id, c.question) for c in result.cards] == [
        ("first", "Is this the first?"), ("second", "And the second?"), ("third", "And a third, $x$?"),
        ("fourth", "A fourth, by the import package?")]
    # Lines are those of the file each question is in.
    assert [(Path(c.line.path).name, int(c.line)) for c in result.cards] == [
        ("one.tex", 1), ("two.tex", 2), ("three.tex", 3), ("four.tex", 1)]


@pytest.mark.parametrize("files, message", [
    ({"exam.tex": "\\begin{document}\n\\input{bank}\n\\end{document}\n", "bank.tex": "\\input{exam}\n"},
     "bank.tex:1: latex: \\input{exam}: the files input each other (exam.tex -> bank.tex -> exam.tex): remove one of the inputs"),
    ({"exam.tex": "\\begin{document}\n\n\\input{missing}\n\\end{document}\n"},
     "exam.tex:3: latex: \\input{missing}: file not found in the exam's folder"),
    ({"exam.tex": "\\begin{document}\n\\input{../outside}\n\\end{document}\n"},
     "exam.tex:2: latex: \\input{../outside}: '../outside' is outside the exam's folder"),
])
def test_input_problems_are_located(tmp_path: Path, files: dict[str, str], message: str) -> None:
    (tmp_path / "exam").mkdir()
    (tmp_path / "outside.tex").write_text("x")
    write_exam(tmp_path / "exam", files)
    with pytest.raises(InvalidSources) as refused:
        import_amc(tmp_path / "exam" / "exam.tex")
    shown = [str(p).replace(str(tmp_path / "exam") + "/", "") for p in refused.value.problems]
    assert any(s.startswith(message) for s in shown), shown


def test_an_error_in_a_bank_names_the_bank(tmp_path: Path) -> None:
    write_exam(tmp_path, {
        "exam.tex": "\\begin{document}\n\\input{bank}\n\\end{document}\n",
        "bank.tex": "\\element{g}{\n\\begin{question}{q}\nText $x\n\\begin{choices}\\correctchoice{a}\\wrongchoice{b}"
                    "\\end{choices}\n\\end{question}}\n",
    })
    with pytest.raises(InvalidSources) as refused:
        import_amc(tmp_path / "exam.tex")
    assert [(Path(p.path).name, p.line) for p in refused.value.problems] == [("bank.tex", 3)]


# --- images -------------------------------------------------------------------------------------

def draw(path: Path, fmt: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1), dpi=40)
    ax.plot([0, 1], [0, 1])
    fig.savefig(path, format=fmt)
    plt.close(fig)
    return path.read_bytes()


def test_images_become_the_decks_own_files(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    png = draw(tmp_path / "img" / "line plot.png", "png")
    jpeg = draw(tmp_path / "photo.jpg", "jpeg")
    draw(tmp_path / "img" / "vector_drawing.pdf", "pdf")
    body = ("\\includegraphics[width=2cm]{img/line plot.png} \\includegraphics{photo} "
            "\\includegraphics{img/vector_drawing} \\includegraphics{missing_figure}")
    write_exam(tmp_path, {"exam.tex": (
        "\\documentclass{article}\\usepackage{graphicx}\\usepackage{automultiplechoice}\n\\begin{document}\n"
        + BANK_QUESTION.format(group="g", id="pictures", text=body) + "\\end{document}\n")})
    result = import_amc(tmp_path / "exam.tex")
    (card,) = result.cards
    assert card.question == (
        "![line plot](images/line-plot.png) ![photo](images/photo.jpg) ![vector\\_drawing](images/vector-drawing.png) "
        "*[image not imported: missing\\_figure]*").replace("vector\\_drawing", "vector drawing")
    images = dict(result.images)
    assert images["line-plot.png"] == png and images["photo.jpg"] == jpeg
    assert images["vector-drawing.png"].startswith(b"\x89PNG")  # the PDF's first page, converted
    # The missing one: a draft that names it as written (escaped once, for Markdown, in the text only).
    assert card.status == "draft" and "Image 'missing_figure'" in card.notes and "\\_" not in card.notes
    (tmp_path / "exam.tex").write_text((tmp_path / "exam.tex").read_text().replace(" \\includegraphics{missing_figure}", ""))
    compile_exam(tmp_path, "exam.tex", tmp_path / "c")


def test_imported_images_are_written_checked_and_shipped(tmp_path: Path, figures_dir: Path) -> None:
    shutil.copytree(REALISTIC, tmp_path / "exam")
    deck = import_deck(tmp_path / "exam" / "main.tex", tmp_path / "cards" / "real")
    assert (deck / "images" / "courbe.png").read_bytes() == (REALISTIC / "figures" / "courbe.png").read_bytes()
    built, _ = build(tmp_path / "cards", BuildOptions(out_dir=tmp_path / "build", figures_dir=figures_dir))
    assert built[0].media_count >= 1


# --- the realistic multi-file exam ---------------------------------------------------------------

def test_realistic_exam_every_answer_formula_image_and_context() -> None:
    result = import_amc(REALISTIC / "main.tex")
    cards = by_id(result)
    assert [(t.slug, t.title) for t in result.topics] == [("analuse", "Ανάλυση"), ("programmirovanie", "Программирование")]
    shared = "Dans toute cette partie, $h$ désigne la fonction $x \\mapsto x^2 - 4x$ sur $\\mathbb{R}$."
    curve = ("On considère la fonction $g : x \\mapsto e^{2x}$, dont la courbe est tracée ci-dessous.\n\n"
             "![courbe](images/courbe.png)")
    assert cards["derivee-g"].question == f"{shared}\n\n{curve}\n\nQue vaut $\\frac{{\\mathrm{{d}} g}}{{\\mathrm{{d}} x}}$ ?"
    assert [(c.text, c.correct, c.pin_last) for c in cards["derivee-g"].choices] == [
        ("$2e^{2x}$", True, False), ("$e^{2x}$", False, False), ("Aucune de ces réponses", False, True)]
    assert cards["signe-g"].question == f"{shared}\n\n{curve}\n\nQue vaut $\\operatorname{{sgn}}(g(x))$ pour tout $x \\in \\mathbb{{R}}$ ?"
    assert [(c.text, c.correct) for c in cards["signe-g"].choices] == [("$1$", True), ("$-1$", False)]
    assert cards["minimum-h"].question == f"{shared}\n\nEn quel point $h$ atteint-elle son minimum ?"
    assert [c.correct for c in cards["minimum-h"].choices] == [True, False, False]
    assert cards["aire-rectangle"].status == "draft" and "\\aire (set by \\FPeval at" in cards["aire-rectangle"].notes
    tf = cards["norme-nulle"]  # from the exam's own wrapper macro
    assert (tf.type, tf.answer) == ("truefalse", True)
    assert tf.question == f"{shared}\n\nSi $\\|\\mathbf{{u}}\\| = 0$ alors $\\mathbf{{u}} = \\mathbf{{0}}$."
    assert cards["reste-division"].question == (
        "Qu'affiche ce programme ?\n\n```\nfor i in range(1, 4):\n    print(i % 3, end=\"\")   # le reste\n```")
    assert [(c.text, c.correct) for c in cards["types-immuables"].choices] == [
        ("`tuple`", True), ("`str`", True), ("`list`", False)]
    assert dict(result.images) == {"courbe.png": (REALISTIC / "figures" / "courbe.png").read_bytes()}
    for card in result.cards:
        for command in AMC_COMMANDS:
            assert command not in all_text(card)
    assert [int(c.line) for c in result.cards] == [4, 13, 22, 32, 40, 2, 16]  # the wrapper macro: where it is used
    assert [Path(c.line.path).name for c in result.cards] == ["analyse.tex"] * 5 + ["programmation.tex"] * 2


def test_realistic_exam_imported_into_anki(tmp_path: Path, figures_dir: Path, collection) -> None:
    from conftest import import_package

    shutil.copytree(REALISTIC, tmp_path / "exam")
    import_deck(tmp_path / "exam" / "main.tex", tmp_path / "cards" / "real", key="real")
    built, _ = build(tmp_path / "cards", BuildOptions(out_dir=tmp_path / "build", figures_dir=figures_dir))
    import_package(collection, built[0].path)
    notes = {collection.get_note(n)["Id"]: collection.get_note(n) for n in collection.find_notes("")}
    assert set(notes) == {"derivee-g", "signe-g", "minimum-h", "norme-nulle", "reste-division", "types-immuables"}
    front = notes["derivee-g"].cards()[0].render_output(reload=True).question_text
    assert "Dans toute cette partie" in front and "\\(\\frac{\\mathrm{d} g}{\\mathrm{d} x}\\)" in front
    referenced = re.findall(r'src="([^"]+)"', front)
    assert referenced and all((Path(collection.media.dir()) / name).is_file() for name in referenced)
    assert notes["norme-nulle"]["Answer"] == "True"


def test_kinds_imported_into_anki(tmp_path: Path, figures_dir: Path, collection) -> None:
    """Exams of each kind without images, imported, checked, built, and read back by Anki."""
    from conftest import import_package

    for name in ("french", "macros", "code", "context", "languages"):
        shutil.copy(KINDS / f"{name}.tex", tmp_path / f"{name}.tex")
    shutil.copy(KINDS / "greet.py", tmp_path / "greet.py")
    for name in ("french", "macros", "code", "context", "languages"):
        import_deck(tmp_path / f"{name}.tex", tmp_path / "cards" / name, key=name)
    built, _ = build(tmp_path / "cards", BuildOptions(out_dir=tmp_path / "build", figures_dir=figures_dir))
    for package in built:
        import_package(collection, package.path)
    notes = {collection.get_note(n)["Id"]: collection.get_note(n) for n in collection.find_notes("")}
    assert "avis-cours" not in notes  # a draft
    back = notes["eau-ebullition"].cards()[0].render_output(reload=True).answer_text
    assert "\\(100\\)" in back and 'data-correct="1"' in back  # the correct choice is marked on the back
    assert notes["sel-soluble"]["Answer"] == "True"
    assert "\\(\\operatorname{Tr} I_n\\)" in notes["trace-identity"]["Question"]
    assert "\\(\\operatorname*{arg\\,max}_x p(x)\\)" in notes["mode-as-argmax"]["Question"] + notes["mode-as-argmax"]["Answer"]
    code = notes["modulo-loop"]["Question"]
    assert "<pre" in code and "% 2 == 0: total += n   # even ones" in code and "\\%" not in code
    assert "A tank holds \\(600\\) litres" in notes["tank-half"]["Question"]
    assert notes["es-falso"]["Answer"] == "False"
    for note in notes.values():
        for command in AMC_COMMANDS:
            assert command not in " ".join(note.fields)


# --- nothing shippable ----------------------------------------------------------------------------

def test_build_of_an_all_draft_deck_says_what_was_left_out_and_fails(tmp_path: Path, figures_dir: Path) -> None:
    source = ("\\begin{document}\n\\element{essays}{\\begin{question}{explain-tides}\nWhy are there two tides a day?\n"
              "\\AMCOpen{lines=4}{\\wrongchoice[0]{0}\\scoring{0}\\correctchoice[1]{1}\\scoring{1}}\n\\end{question}}\n"
              "\\end{document}\n")
    result = parse_amc(source, "essays.tex")
    write_deck(result.cards, DeckMeta("essays", "Essays", result.topics), tmp_path / "cards" / "essays")
    from examdeck.cli import main

    run = CliRunner().invoke(main, ["build", str(tmp_path / "cards"), "--out", str(tmp_path / "build"),
                                    "--figures-dir", str(figures_dir)])
    assert run.exit_code == 1
    assert "card 'explain-tides' left out: a draft (review it and remove status: draft, or build with --include-drafts" in run.output
    assert "nothing shippable: every card was left out" in run.output
    assert not list((tmp_path / "build").glob("*.apkg"))


def test_a_draft_without_a_known_answer_is_never_shipped(tmp_path: Path, figures_dir: Path) -> None:
    deck = tmp_path / "cards" / "d"
    deck.mkdir(parents=True)
    (deck / "deck.yaml").write_text("key: d\ntitle: D\ntopics:\n  - slug: t\n    title: T\n")
    (deck / "c.yaml").write_text(
        "cards:\n  - id: unknown-mcq\n    type: mcq\n    status: draft\n    topics: [t]\n    question: Which?\n"
        "    choices:\n      - {text: a, correct: false}\n      - {text: b, correct: false}\n"
        "  - id: unknown-tf\n    type: truefalse\n    status: draft\n    topics: [t]\n    question: Is it?\n"
        "  - id: known\n    type: truefalse\n    status: draft\n    topics: [t]\n    question: Is it so?\n    answer: true\n")
    built, warnings = build(tmp_path / "cards", BuildOptions(out_dir=tmp_path / "build", figures_dir=figures_dir,
                                                             include_drafts=True))
    assert [(p.deck_key, p.note_count) for p in built] == [("d", 1)]
    assert any("left out 2 draft(s) whose answer is unknown (unknown-mcq, unknown-tf)" in w for w in warnings)


def test_tables_lists_with_options_and_macros_that_write_choices() -> None:
    cards = by_id(import_amc(KINDS / "layout.tex"))
    assert cards["tableau-vitesses"].question == (
        "D'après le tableau, quel coureur est le plus rapide sur le 1ᵉʳ tour ?\n\n"
        "| Coureur | Temps (s) |\n|---|---|\n| Alice | $52{,}3$ |\n| Bruno | **49,8** |")
    steps = cards["etapes"]  # \vraifaux writes the choices: expanded where the question reader sees them
    assert (steps.type, steps.answer) == ("truefalse", True)
    assert steps.question == ("On mesure une longueur en deux étapes :\n\n1. on aligne la règle ;\n\n"
                              "2. on lit la graduation.\n\nL'ordre des étapes compte.")


@pytest.mark.parametrize("latex, markdown", [
    ("le 1\\ier{} et la 2\\ieme{} place, \\no~5", "le 1ᵉʳ et la 2ᵉ place, nᵒ 5"),
    ("$x = \\nombre{3,5}$ et \\nombre{1 000} m", "$x = {3{,}5}$ et 1 000 m"),
    ("$90\\degres$", "$90^{\\circ}$"),
    ("H\\textsubscript{2}O", "H₂O"),
    # siunitx (physics exams): plain TeX that Anki's MathJax knows.
    ("\\SI{3}{\\metre\\per\\second} and \\qty{1.5e3}{\\kilo\\joule}",
     "$3\\,\\mathrm{m}\\,\\mathrm{s}^{-1}$ and $1.5\\times 10^{3}\\,\\mathrm{kJ}$"),
    ("$v = \\SI{20}{\\degreeCelsius}$, \\si{\\micro\\metre\\squared}", "$v = {20\\,{}^{\\circ}\\mathrm{C}}$, $\\mathrm{\\mu m}^{2}$"),
])
def test_french_typography_and_units(latex: str, markdown: str) -> None:
    ctx = Context("t.tex")
    assert latex_to_markdown(latex, 0, len(latex), ctx, lambda _offset: 1) == markdown
    assert ctx.warnings == []


def test_a_choice_starting_with_a_formula_and_ending_with_a_digit_imports_and_checks(tmp_path: Path) -> None:
    source = ("\\begin{document}\n\\element{seq}{\\begin{question}{third-term}\nWith $a_1 = 1$ and $a_{n+1} = a_n + 2$:\n"
              "\\begin{choices}\\correctchoice{$a_3$ equals 5}\\wrongchoice{$a_3$ equals 7}\\end{choices}\n"
              "\\end{question}}\n\\end{document}\n")
    result = parse_amc(source, "seq.tex")
    write_deck(result.cards, DeckMeta("seq", "Seq", result.topics), tmp_path / "cards" / "seq")
    from examdeck.pipeline import check

    check(tmp_path / "cards")


def test_write_deck_writes_images_and_never_overwrites_one(tmp_path: Path) -> None:
    result = parse_amc("\\begin{question}{q}\nWhich?\\begin{choices}\\correctchoice{a}\\wrongchoice{b}\\end{choices}"
                       "\\end{question}\n", "q.tex")
    meta = DeckMeta("img", "Img", result.topics)
    report = write_deck(result.cards, meta, tmp_path / "d", images=[("plot.png", b"first")])
    assert (tmp_path / "d" / "images" / "plot.png").read_bytes() == b"first"
    assert "images/plot.png" in report.files_written
    report = write_deck(result.cards, meta, tmp_path / "d", images=[("plot.png", b"second")])
    assert (tmp_path / "d" / "images" / "plot.png").read_bytes() == b"first"  # the editor's file is kept
    assert report.images_kept == ("images/plot.png",)


def test_an_environment_the_exam_defines_for_its_questions_is_expanded() -> None:
    result = import_amc(KINDS / "environment.tex")
    assert [(c.id, c.type, c.answer, c.question, int(c.line)) for c in result.cards] == [
        ("moon-orbits", "truefalse", True, "The Moon orbits the Earth.", 8),
        ("sun-star", "truefalse", True, "The Sun is a star.", 13)]
    assert result.warnings == ()


def test_font_declarations_of_thai_exams_are_not_text() -> None:
    source = ("\\newfontfamily\\thaifont{TH Sarabun New}\n\\begin{document}\n\\element{ภาษาไทย}{\\begin{question}{q}\n"
              "{\\thaifont ข้อใดถูกต้อง} {\\sarabun ก}\n\\begin{choices}\\correctchoice{{\\thaifont ก}}\\wrongchoice{ข}\\end{choices}\n"
              "\\end{question}}\n\\end{document}\n")
    result = parse_amc(source, "th.tex")
    assert result.cards[0].question == "ข้อใดถูกต้อง ก"
    assert [c.text for c in result.cards[0].choices] == ["ก", "ข"]
    assert shown(result.warnings) == ["th.tex:4: warning: unknown declaration \\sarabun ignored (it starts a group)"]


def test_points_that_contradict_a_choices_mark_are_reported_not_dropped() -> None:
    source = ("\\begin{document}\n\\element{g}{\\begin{questionmult}{pick}\nWhich colours?\n\\begin{choices}\n"
              "\\correctchoice{Red}\\scoring{b=1}\n\\wrongchoice{Blue}\\scoring{b=2,m=0}\n"
              "\\wrongchoice{Green}\\scoring{m=-1}\n\\correctchoice{Black}\\scoring{0}\n\\end{choices}\n"
              "\\end{questionmult}}\n\\end{document}\n")
    result = parse_amc(source, "colours.tex")
    assert shown(result.warnings) == [
        "colours.tex:6: warning: \\scoring{b=2,m=0} gives choice B (wrong) points that contradict its mark, and a card "
        "has no points: check which choices the exam rewards",
        "colours.tex:8: warning: \\scoring{0} gives choice D (correct) points that contradict its mark, and a card "
        "has no points: check which choices the exam rewards",
    ]
    assert [c.text for c in by_id(result)["pick"].choices] == ["Red", "Blue", "Green", "Black"]
