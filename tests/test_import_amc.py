"""`examdeck import amc`: AMC LaTeX exams to deck folders that build, every answer checked."""

from __future__ import annotations

import json
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
    write_deck(result.cards, DeckMeta(key, key.title(), result.topics), out)
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
    assert import_amc(AMC / name).warnings == ()


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
    latex = "first line\nsee \\cite{knuth} and\n\\begin{tabular}{cc} a & b \\end{tabular}"
    ctx = Context("t.tex")
    markdown = latex_to_markdown(latex, 0, len(latex), ctx, lambda offset: latex.count("\n", 0, offset) + 1)
    assert markdown == "first line\nsee `\\cite{knuth}` and\n\n```latex\n\\begin{tabular}{cc} a & b \\end{tabular}\n```"
    assert [str(w) for w in ctx.warnings] == [
        "t.tex:2: warning: unknown LaTeX macro \\cite kept verbatim",
        "t.tex:3: warning: unknown LaTeX environment 'tabular' kept verbatim as a code block",
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

    again = run_import(v2, out)  # nothing new: reported once, then quiet
    assert again.stdout.splitlines()[0] == f"{out}: 0 added, 6 kept as they are (0 changed upstream), 1 no longer in the exam"


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
