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
