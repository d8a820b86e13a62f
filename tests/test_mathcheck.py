"""Formula checks: real MathJax 3.2.2 verdicts, the structural fallback, lint and the cache."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from examdeck import mathcheck
from examdeck.mathcheck import (
    ENGINE_MATHJAX,
    ENGINE_STRUCTURAL,
    Formula,
    MathCheckUnavailable,
    check_formulas,
    default_runner_dir,
    lint_formula,
    structural_errors,
)

RUNNER = default_runner_dir()
NODE = shutil.which("node")


def _mathjax_missing() -> str | None:
    if NODE is None:
        return "Node.js is not installed (needed to run MathJax)"
    if not (RUNNER / "node_modules" / "mathjax-full").is_dir():
        return f"MathJax is not installed: run `npm ci --prefix {RUNNER}`"
    return None


needs_mathjax = pytest.mark.skipif(_mathjax_missing() is not None, reason=_mathjax_missing() or "")


def verdict(tex: str, display: bool = False) -> str | None:
    result = check_formulas([Formula(tex, display)])
    assert result.engine == ENGINE_MATHJAX, result.warning
    return result.errors[0]


# --- real MathJax ---------------------------------------------------------------


@needs_mathjax
@pytest.mark.parametrize(
    ("tex", "message"),
    [
        (r"\argmax_x f", r"Undefined control sequence \argmax"),
        (r"\frac{a}{b", "Missing close brace"),
        (r"x_1_2", "Double subscripts: use braces to clarify"),
        (r"a & b", "Misplaced &"),
        (r"x}", "Extra close brace or missing open brace"),
        (r"\left( x", r"Extra \left or missing \right"),
        (r"\begin{aligned} a &= b", r"Missing \end{aligned}"),
        (r"\textsl{x}", r"Undefined control sequence \textsl"),
    ],
)
def test_mathjax_reports_tex_errors(tex: str, message: str) -> None:
    assert verdict(tex) == message


@needs_mathjax
@pytest.mark.parametrize(
    "tex",
    [
        r"\operatorname*{argmin}_w \|Xw - y\|^2",
        r"x \in \mathbb{R}^n",
        r"\begin{aligned} a &= b \\ c &= d \end{aligned}",
        r"f \coloneqq g",  # mathtools
        r"\boldsymbol{x}",
        r"\text{if } x > 0",
        r"\ce{H2O}",  # mhchem, part of tex-chtml-full
        r"\cancel{x}",
        r"\require{cancel}\cancel{x}",
    ],
)
@pytest.mark.parametrize("display", [False, True])
def test_mathjax_accepts_valid_formulas(tex: str, display: bool) -> None:
    assert verdict(tex, display) is None


@needs_mathjax
def test_batch_keeps_order_and_duplicates() -> None:
    formulas = [
        Formula(r"\frac{a}{b", False),
        Formula(r"\alpha", True),
        Formula(r"\frac{a}{b", False),
        Formula(r"x_1_2", False),
    ]
    result = check_formulas(formulas)
    assert result == mathcheck.MathCheckResult(
        (
            "Missing close brace",
            None,
            "Missing close brace",
            "Double subscripts: use braces to clarify",
        ),
        ENGINE_MATHJAX,
        None,
    )


@needs_mathjax
def test_each_formula_is_judged_alone() -> None:
    """A macro or label defined by one card must not make another card pass, or fail."""
    formulas = [
        Formula(r"\newcommand{\R}{\mathbb{R}} x \in \R", False),
        Formula(r"x \in \R", False),
        Formula(r"\DeclareMathOperator{\tr}{tr} \tr A", False),
        Formula(r"\tr A", False),
        Formula(r"\label{eq} x", False),
        Formula(r"\label{eq} x", True),
    ]
    assert check_formulas(formulas).errors == (
        None,
        r"Undefined control sequence \R",
        None,
        r"Undefined control sequence \tr",
        None,
        None,
    )


def _mathml(tex: str) -> dict[str, str | None]:
    proc = subprocess.run(
        [str(NODE), str(RUNNER / "check.mjs"), "--mathml"],
        input=json.dumps([{"tex": tex, "display": False}]),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, str | None] = json.loads(proc.stdout)[0]
    return result


@needs_mathjax
def test_text_mode_macros_show_literally_as_in_anki() -> None:
    """Anki removes textmacros: \\textbf inside \\text is no error, MathJax prints it
    as text, so MathJax passes it and lint_formula flags it."""
    assert verdict(r"\text{\textbf{x}}") is None
    rendered = _mathml(r"\text{\textbf{x}}")
    assert rendered["error"] is None
    assert r"<mtext>\textbf{x}</mtext>" in str(rendered["mathml"])
    # Math inside \text still works without textmacros.
    assert "<mi>x</mi>" in str(_mathml(r"\text{if $x$}")["mathml"])
    assert any("literal text" in p for p in lint_formula(r"\text{\textbf{x}}"))


@needs_mathjax
def test_runner_rejects_bad_input() -> None:
    proc = subprocess.run(
        [str(NODE), str(RUNNER / "check.mjs")],
        input='[{"tex": 1}]',
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "must be" in proc.stderr


# --- the fallback -----------------------------------------------------------------


def test_missing_node_falls_back_to_structural_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("examdeck.mathcheck.shutil.which", lambda name: None)
    result = check_formulas(
        [
            Formula(r"\frac{a}{b", False),
            Formula(r"\begin{aligned} a &= b", True),
            Formula(r"\argmax_x f", False),  # only MathJax can tell
        ]
    )
    assert result.engine == ENGINE_STRUCTURAL
    assert result.errors == ("Missing close brace", r"Missing \end{aligned}", None)
    assert result.warning is not None
    assert result.warning.startswith("node not found: formulas checked structurally only")
    assert "install Node.js" in result.warning and "npm ci --prefix" in result.warning
    assert "\n" not in result.warning


def test_missing_node_modules_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "check.mjs").write_text("// not run\n")
    monkeypatch.setenv(mathcheck.RUNNER_DIR_ENV, str(tmp_path))
    result = check_formulas([Formula("x}", False)], node="python3")
    assert result.engine == ENGINE_STRUCTURAL
    assert result.errors == ("Extra close brace or missing open brace",)
    assert result.warning is not None
    assert f"run `npm ci --prefix {tmp_path}`" in result.warning


def test_runner_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(mathcheck.RUNNER_DIR_ENV, str(tmp_path))
    assert default_runner_dir() == tmp_path
    monkeypatch.delenv(mathcheck.RUNNER_DIR_ENV)
    assert default_runner_dir() == Path(__file__).resolve().parent.parent / "mathjax"


@pytest.mark.parametrize(
    ("tex", "errors"),
    [
        (r"\frac{a}{b}", []),
        (r"\frac{a}{b", ["Missing close brace"]),
        (r"a}", ["Extra close brace or missing open brace"]),
        (r"\{ a \}", []),
        (r"\{ a", []),
        (r"\\{a}", []),
        (r"\left( \frac{a}{b} \right)", []),
        (r"\left\{ x \right.", []),
        (r"\left( x", [r"Extra \left or missing \right"]),
        (r"x \right)", [r"Missing \left or extra \right"]),
        (r"{\left( }\right)", [r"Extra \left or missing \right"]),
        (r"\begin{aligned} a &= b \\ c &= d \end{aligned}", []),
        (r"\begin{aligned} a &= b", [r"Missing \end{aligned}"]),
        (r"\begin{cases} a \end{aligned}", [r"\begin{cases} ended with \end{aligned}"]),
        (
            r"\begin{pmatrix} \begin{matrix} a \end{pmatrix} \end{matrix}",
            [r"\begin{matrix} ended with \end{pmatrix}"],
        ),
        (r"a \end{aligned}", [r"Extra \end{aligned}"]),
        (r"a % {", []),  # a comment
    ],
)
def test_structural_errors(tex: str, errors: list[str]) -> None:
    assert structural_errors(tex) == errors


# --- the runner failing -----------------------------------------------------------


@pytest.fixture
def fake_runner(tmp_path: Path) -> Path:
    """A runner directory that passes the installation checks; node is never started."""
    (tmp_path / "check.mjs").write_text("// stands in for the real runner\n")
    package = tmp_path / "node_modules" / "mathjax-full"
    package.mkdir(parents=True)
    (package / "package.json").write_text('{"version": "3.2.2"}')
    return tmp_path


def test_runner_failure_raises_with_last_stderr_line(
    fake_runner: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "at line 3\nTypeError: boom\n")

    monkeypatch.setattr("examdeck.mathcheck.subprocess.run", crash)
    with pytest.raises(MathCheckUnavailable, match=r"exit 1\): TypeError: boom$"):
        check_formulas([Formula("x", False)], node="python3", runner_dir=fake_runner)


def test_runner_timeout_raises(fake_runner: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired(command, 1.0)

    monkeypatch.setattr("examdeck.mathcheck.subprocess.run", hang)
    with pytest.raises(MathCheckUnavailable, match="timed out"):
        check_formulas([Formula("x", False)], node="python3", runner_dir=fake_runner, timeout=1)


def test_runner_answer_of_wrong_length_raises(
    fake_runner: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def short(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 0, "[null]", "")

    monkeypatch.setattr("examdeck.mathcheck.subprocess.run", short)
    with pytest.raises(MathCheckUnavailable, match="list of 2"):
        check_formulas(
            [Formula("x", False), Formula("y", False)], node="python3", runner_dir=fake_runner
        )


# --- the cache --------------------------------------------------------------------


def test_cached_formulas_are_not_sent(fake_runner: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[list[dict[str, object]]] = []

    def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        batch = json.loads(str(kwargs["input"]))
        sent.append(batch)
        verdicts = ["Missing close brace" if "{b" in f["tex"] else None for f in batch]
        return subprocess.CompletedProcess(command, 0, json.dumps(verdicts), "")

    monkeypatch.setattr("examdeck.mathcheck.subprocess.run", fake_run)
    cache: dict[str, str | None] = {"False:\\alpha": None, "True:x_1_2": "Double subscripts"}
    formulas = [
        Formula(r"\alpha", False),
        Formula(r"x_1_2", True),
        Formula(r"\frac{a}{b", False),
        Formula(r"\frac{a}{b", False),
        Formula(r"\alpha", True),  # display differs: not the cached verdict
    ]
    result = check_formulas(formulas, node="python3", runner_dir=fake_runner, cache=cache)

    assert sent == [[{"tex": r"\frac{a}{b", "display": False}, {"tex": r"\alpha", "display": True}]]
    assert result.errors == (
        None,
        "Double subscripts",
        "Missing close brace",
        "Missing close brace",
        None,
    )
    assert cache["False:\\frac{a}{b"] == "Missing close brace"
    assert cache["True:\\alpha"] is None

    # Everything known now: Node is not even needed.
    monkeypatch.setattr("examdeck.mathcheck.shutil.which", lambda name: None)
    again = check_formulas(formulas, runner_dir=fake_runner, cache=cache)
    assert len(sent) == 1
    assert again == result


@needs_mathjax
def test_cache_with_real_mathjax() -> None:
    # A deliberately wrong cached verdict proves the formula was not re-checked.
    cache: dict[str, str | None] = {"False:\\alpha": "from the cache"}
    result = check_formulas([Formula(r"\alpha", False), Formula(r"\argmax", False)], cache=cache)
    assert result.errors == ("from the cache", r"Undefined control sequence \argmax")
    assert cache == {
        "False:\\alpha": "from the cache",
        "False:\\argmax": r"Undefined control sequence \argmax",
    }


def test_structural_verdicts_are_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("examdeck.mathcheck.shutil.which", lambda name: None)
    cache: dict[str, str | None] = {}
    check_formulas([Formula(r"\frac{a}{b", False)], cache=cache)
    assert cache == {}


# --- lint -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tex",
    [
        r"a < b",
        r"x<y",
        r"a<b, c>d",
        r"\langle x, y \rangle",
        r"50\%",
        r"\\label",
        r"\text{if $\alpha$}",
    ],
)
def test_lint_accepts(tex: str) -> None:
    assert lint_formula(tex, cloze=True) == []


@pytest.mark.parametrize(
    ("tex", "needle"),
    [
        (r"a<b>c", "HTML tag <b>"),
        (r"x<br>y", "HTML tag <br>"),
        (r"x<br/>y", "HTML tag <br/>"),
        (r"x</b>", "HTML tag </b>"),
        (r'<span style="color:red">x', 'HTML tag <span style="color:red">'),
        (r"\label{eq:1} x = 1", r"\label"),
        (r"50% of x", "unescaped %"),
        (r"\text{\alpha}", r"\alpha inside \text{...} is shown as literal text"),
        (r"\mbox{a\,b}", r"\, inside \mbox{...}"),
    ],
)
def test_lint_flags(tex: str, needle: str) -> None:
    problems = lint_formula(tex)
    assert len(problems) == 1 and needle in problems[0], problems


def test_lint_double_brace_only_matters_in_cloze_fields() -> None:
    assert lint_formula(r"\frac{1}{x^{2}}") == []
    assert lint_formula(r"\frac{1}{x^{2}}", cloze=True) == [
        "}} inside a formula ends the cloze deletion early (write } } instead)"
    ]
    assert lint_formula(r"\frac{1}{x^{2} }", cloze=True) == []


# --- widths on a phone card -------------------------------------------------------


def test_phone_limits_come_from_the_note_type_css() -> None:
    from examdeck.notetypes import CSS

    phone = CSS.split("@media (max-width: 480px)", 1)[1].split("\n", 1)[0]
    assert f"font-size: {mathcheck.PHONE_FONT_PX}px" in phone
    assert f".examdeck {{ padding: 0 {mathcheck.EXAMDECK_PADDING_EM}em; }}" in phone
    assert mathcheck.PHONE_TEXT_WIDTH_PX == pytest.approx(360 - 40 - 2 * 0.2 * 17)
    assert mathcheck.text_width_px("question") == mathcheck.DISPLAY_LIMIT_PX
    assert mathcheck.text_width_px("explanation") == pytest.approx(mathcheck.PHONE_TEXT_WIDTH_PX - 1.6 * 17)
    assert mathcheck.text_width_px("choices[3].text") < mathcheck.text_width_px("answer")


@needs_mathjax
def test_widths_are_measured_with_mathjax() -> None:
    result = check_formulas(
        [Formula("x", False), Formula("x + y", False), Formula(r"\frac{a}{b", False), Formula("x", True)], measure=True
    )
    x, x_plus_y, broken, display = result.widths
    assert 0.4 < x < 0.8 and x_plus_y > 2 * x  # em of MathJax's font
    assert broken is None and result.errors[2]
    assert display == x


@pytest.mark.parametrize(
    ("display", "width_em", "field", "alone", "expected"),
    [
        (True, 10.0, "question", False, None),  # 204 px on a 313 px line
        (True, 16.0, "question", False, "display formula"),  # 326 px
        (True, 14.5, "explanation", False, "display formula"),  # 296 px in the 286 px panel
        (False, 7.0, "question", False, None),  # 143 px: less than half a line
        (False, 8.0, "question", False, "inline formula"),  # 163 px: more than half
        (False, 8.0, "choices[0].text", True, None),  # alone in its choice: the whole line
        (False, 14.0, "choices[0].text", True, "formula"),  # 286 px > 266 px
    ],
)
def test_width_problem(display: bool, width_em: float, field: str, alone: bool, expected: str | None) -> None:
    message = mathcheck.width_problem(r"\sum_i x_i", display, width_em, field, alone=alone)
    if expected is None:
        assert message is None
    else:
        assert message is not None and message.startswith(expected)
        assert r"\sum_i x_i" in message and "360 px phone" in message and field in message


def test_width_problem_names_a_long_formula_shortly() -> None:
    message = mathcheck.width_problem("a + " * 100 + "b", True, 100.0, "answer")
    assert message is not None and "$$a + a + " in message and "...$$" in message and len(message) < 400


def test_widths_are_cached_and_the_cache_never_changes_results(fake_runner: Path) -> None:
    # Node is never started: every answer comes from the cache.
    cache: dict[str, str | None] = {"False:x": None, "width:False:x": "0.572", "True:y": "Some error"}
    result = check_formulas([Formula("x", False), Formula("y", True)], runner_dir=fake_runner, cache=cache, measure=True)
    assert result.errors == (None, "Some error") and result.widths == (0.572, None)


@needs_mathjax
def test_a_verdict_without_its_width_is_measured_again() -> None:
    cache: dict[str, str | None] = {"False:x": None, "width:False:x": "not a number"}
    result = check_formulas([Formula("x", False)], cache=cache, measure=True)
    assert result.widths[0] is not None and 0.4 < result.widths[0] < 0.8
    assert float(cache["width:False:x"]) == result.widths[0]
    fresh = check_formulas([Formula("x", False)], measure=True)
    assert fresh.widths == result.widths


# --- the width check in `examdeck check` and `build` -------------------------------


def _deck_with_a_wide_formula(cards: Path) -> Path:
    """The basic fixture deck with one display formula far wider than a phone."""
    path = cards / "basic" / "cards.yaml"
    text = path.read_text()
    wide = " + ".join(f"x_{{{i}}}^{{2}}" for i in range(30))
    path.write_text(text.replace("explanation: The trace is the sum of the eigenvalues, counted with multiplicity.",
                                 f"explanation: |\n      The trace is a sum:\n      $$\\operatorname{{trace}} = {wide}$$"))
    return path


@needs_mathjax
def test_check_warns_about_a_formula_too_wide_for_a_phone(basic_deck: Path) -> None:
    from click.testing import CliRunner

    from examdeck.cli import main

    path = _deck_with_a_wide_formula(basic_deck)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "\\operatorname{trace} =" in text)
    result = CliRunner().invoke(main, ["check", str(basic_deck), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert f"{path}:{line}: explanation: display formula $$\\operatorname{{trace}} = x_{{0}}^{{2}} + " in result.stderr
    assert "too wide for a phone card" in result.stderr and ": ok" in result.stdout

    strict = CliRunner().invoke(main, ["check", str(basic_deck), "--no-cache", "--strict"])
    assert strict.exit_code == 1
    assert f"{path}:{line}: explanation: display formula" in strict.stderr and "nothing was written" in strict.stderr


@needs_mathjax
def test_build_strict_writes_nothing(basic_deck: Path, tmp_path: Path, figures_dir: Path) -> None:
    from click.testing import CliRunner

    from examdeck.cli import main

    _deck_with_a_wide_formula(basic_deck)
    out = tmp_path / "out"
    args = ["build", str(basic_deck), "--out", str(out), "--figures-dir", str(figures_dir), "--no-cache"]
    strict = CliRunner().invoke(main, [*args, "--strict"])
    assert strict.exit_code == 1 and not out.exists()
    loose = CliRunner().invoke(main, args)
    assert loose.exit_code == 0 and "formulas are too wide for a phone card (run `examdeck check`" in loose.stderr
    assert list(out.glob("*.apkg"))


@needs_mathjax
def test_warm_check_gives_the_same_width_warnings(basic_deck: Path, tmp_path: Path) -> None:
    from examdeck.pipeline import check

    _deck_with_a_wide_formula(basic_deck)
    cold = check(basic_deck, cache_dir=tmp_path / "cache")
    warm = check(basic_deck, cache_dir=tmp_path / "cache")
    uncached = check(basic_deck)
    assert cold.notices and cold.notices == warm.notices == uncached.notices
