"""Formula checks: MathJax 3.2.2 configured as in Anki, with a structural fallback.

Only MathJax itself is a faithful judge of what Anki will typeset, so formulas go,
in one batch, to the Node script ``mathjax/check.mjs`` (pinned ``mathjax-full``).
When Node or the npm packages are missing, ``check_formulas`` falls back to
``structural_errors`` and says so in ``MathCheckResult.warning``.
``lint_formula`` flags what breaks a card in Anki even when the TeX is valid.
With ``measure=True`` the runner also gives each formula's typeset width, which
``width_problem`` judges against a phone card (``PHONE_TEXT_WIDTH_PX``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .tex import match_brace

__all__ = [
    "ENGINE_MATHJAX",
    "ENGINE_STRUCTURAL",
    "RUNNER_DIR_ENV",
    "Formula",
    "MathCheckResult",
    "MathCheckUnavailable",
    "DISPLAY_LIMIT_PX",
    "INLINE_LIMIT_PX",
    "MATH_SCALE",
    "PHONE_FONT_PX",
    "PHONE_TEXT_WIDTH_PX",
    "PHONE_VIEWPORT_PX",
    "cache_key",
    "check_formulas",
    "default_runner_dir",
    "lint_formula",
    "structural_errors",
    "width_cache_key",
    "width_problem",
]

MATHJAX_VERSION = "3.2.2"
ENGINE_MATHJAX = f"mathjax-{MATHJAX_VERSION}"
ENGINE_STRUCTURAL = "structural"
RUNNER_DIR_ENV = "EXAMDECK_MATHJAX_DIR"
RUNNER_SCRIPT = "check.mjs"


# --- how wide a formula may be: a phone card ----------------------------------------------------
# Derived from the note-type CSS (examdeck.notetypes.CSS) and Anki's reviewer; documented in
# docs/card-format.md ("Formula widths"). tests/test_phone_view.py measures the same boxes in
# Chromium and fails when the CSS and these numbers part.
PHONE_VIEWPORT_PX = 360  # a common narrow phone, in CSS px
PHONE_FONT_PX = 17  # notetypes.CSS: @media (max-width: 480px) { .card { font-size: 17px } }
ANKI_BODY_MARGIN_PX = 20  # Anki's reviewer.scss: body { margin: 20px } (AnkiDroid's is smaller)
EXAMDECK_PADDING_EM = 0.2  # notetypes.CSS at max-width 480px: .examdeck { padding: 0 0.2em }
# The width of a line of text on the phone card: 360 - 2 * 20 - 2 * 0.2 * 17 = 313.2 px.
PHONE_TEXT_WIDTH_PX = PHONE_VIEWPORT_PX - 2 * ANKI_BODY_MARGIN_PX - 2 * EXAMDECK_PADDING_EM * PHONE_FONT_PX
# Fields whose text sits in a narrower box (em of the card's font, both sides added up):
# the explanation panel (.explanation { padding: 0.6em 0.8em }) and the tappable choices list
# (.choices ol { padding-left: 1.8em } and .examdeck.js .choices li[role] { padding: 0.4em 0.6em;
# border: 1px }).
FIELD_INSET_EM = {"explanation": 2 * 0.8, "choices": 1.8 + 2 * 0.6}
FIELD_INSET_PX = {"choices": 2 * 1}
# MathJax's CHTML output scales math so that its x-height (0.442 em in the TeX fonts) matches
# the text's: Roboto (Android) and SF Pro (iOS) have an x-height of about 0.53 em, so 1 em of
# MathJax's measure is 0.53 / 0.442 = 1.2 em of the card's font.
MATH_SCALE = 1.2
DISPLAY_LIMIT_PX = PHONE_TEXT_WIDTH_PX  # a display formula must fit on the line
INLINE_LIMIT_PX = PHONE_TEXT_WIDTH_PX / 2  # an inline one cannot break: more than half a line is too wide


def text_width_px(field: str) -> float:
    """The width in px of a line of text of `field` (``question``, ``explanation``,
    ``choices[2].text``, ...) on a phone card (``PHONE_TEXT_WIDTH_PX`` less the field's box)."""
    kind = field.split("[", 1)[0].split(".", 1)[0]
    return PHONE_TEXT_WIDTH_PX - FIELD_INSET_EM.get(kind, 0.0) * PHONE_FONT_PX - FIELD_INSET_PX.get(kind, 0)


def width_px(width_em: float) -> float:
    """A width measured by the runner (em of MathJax's font) in px on a phone card."""
    return width_em * PHONE_FONT_PX * MATH_SCALE


def width_problem(tex: str, display: bool, width_em: float, field: str, *, alone: bool = False) -> str | None:
    """Why a formula of this typeset width is too wide for a phone card, or None when it fits.

    A display formula must fit on a line of its field's text (``text_width_px``); an inline
    formula, which MathJax 3 never breaks, may take at most half of it, or all of it when it
    is the whole text of its field (`alone`, e.g. a choice ``$x > y$``).

    :param width_em: the width from ``check_formulas(measure=True)``, in em of MathJax's font.
    """
    room = text_width_px(field)
    shown = width_px(width_em)
    name = _formula_name(tex, display)
    if display and shown > room:
        return (
            f"display formula {name} is {shown:.0f} px wide on a {PHONE_VIEWPORT_PX} px phone, where a line of "
            f"{field} is {room:.0f} px: break it over lines (\\begin{{aligned}} or gathered), shorten the "
            "notation, or move definitions into the text"
        )
    if not display and alone and shown > room:
        return (
            f"formula {name} is {shown:.0f} px wide on a {PHONE_VIEWPORT_PX} px phone, where a line of {field} is "
            f"{room:.0f} px: make it display math ($$...$$) over several lines, or shorten the notation"
        )
    if not display and not alone and shown > room / 2:
        return (
            f"inline formula {name} is {shown:.0f} px wide on a {PHONE_VIEWPORT_PX} px phone, more than half "
            f"({room / 2:.0f} px) of a line of {field} ({room:.0f} px), and MathJax never breaks it: make it display "
            "math ($$...$$) or split it"
        )
    return None


def _formula_name(tex: str, display: bool, limit: int = 48) -> str:
    """The formula as its author wrote it, shortened: ``$$\\sum_i x_i ...$$``."""
    text = " ".join(tex.split())
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return f"$${text}$$" if display else f"${text}$"


class MathCheckUnavailable(RuntimeError):
    """The MathJax runner started but did not produce verdicts."""


@dataclass(frozen=True)
class Formula:
    """One formula as Anki sees it: the TeX between the delimiters, and whether
    it is display math (``\\[...\\]``) or inline (``\\(...\\)``)."""

    tex: str
    display: bool


@dataclass(frozen=True)
class MathCheckResult:
    """Verdicts for a batch of formulas, in input order."""

    errors: tuple[str | None, ...]  # one per input formula: the message, or None if it typesets
    engine: str  # ENGINE_MATHJAX or ENGINE_STRUCTURAL
    warning: str | None  # one line saying why the check fell back to structural checks
    # With measure=True and MathJax: one per input formula, its typeset width in em of MathJax's
    # font (None when it has an error); empty otherwise (not measured, or structural checks).
    widths: tuple[float | None, ...] = ()


def cache_key(formula: Formula) -> str:
    """The verdict cache key of a formula: ``f"{display}:{tex}"``."""
    return f"{formula.display}:{formula.tex}"


def width_cache_key(formula: Formula) -> str:
    """The cache key of a formula's width: ``f"width:{display}:{tex}"`` (never a verdict key,
    which starts with ``True:`` or ``False:``); the value is the width in em as a decimal string."""
    return f"width:{formula.display}:{formula.tex}"


def _cached_width(cache: MutableMapping[str, str | None], formula: Formula) -> float | None:
    """The cached width of `formula`, or None when absent or not a finite non-negative number."""
    raw = cache.get(width_cache_key(formula))
    try:
        width = float(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return width if width is not None and 0 <= width < float("inf") else None


def default_runner_dir() -> Path:
    """``$EXAMDECK_MATHJAX_DIR``, else the repository's ``mathjax/`` directory."""
    from_env = os.environ.get(RUNNER_DIR_ENV)
    if from_env:
        return Path(from_env)
    # src/examdeck/mathcheck.py -> <repo>/mathjax
    return Path(__file__).resolve().parent.parent.parent / "mathjax"


def check_formulas(
    formulas: Sequence[Formula],
    *,
    node: str | None = None,
    runner_dir: Path | None = None,
    cache: MutableMapping[str, str | None] | None = None,
    timeout: float | None = None,
    measure: bool = False,
) -> MathCheckResult:
    """Typeset every formula with MathJax under Anki's configuration, in one Node process.

    :param node: the Node executable (a name or a path); default ``node`` on PATH.
    :param runner_dir: the directory holding ``check.mjs`` and its ``node_modules``;
        default ``default_runner_dir()``.
    :param cache: verdicts by ``cache_key``; formulas found there are not sent to
        Node, and new MathJax verdicts are stored in it. Structural verdicts never are.
    :param timeout: seconds for the Node process; default scales with the batch.
    :param measure: also give each formula's typeset width (``MathCheckResult.widths``, in em);
        widths are cached under ``width_cache_key`` in the same `cache`.
    :raises MathCheckUnavailable: Node ran but failed, timed out or answered nonsense.
    """
    keys = [cache_key(f) for f in formulas]
    known: dict[str, str | None] = {}
    widths: dict[Formula, float | None] = {}
    if cache is not None:
        known = {key: cache[key] for key in keys if key in cache}
        if measure:
            widths = {f: w for f in dict.fromkeys(formulas) if (w := _cached_width(cache, f)) is not None}

    def missing(formula: Formula) -> bool:
        key = cache_key(formula)
        # A formula that typesets needs its width too; one with an error has none.
        return key not in known or (measure and known[key] is None and formula not in widths)

    # dict.fromkeys: unique formulas, first-seen order (deterministic batches).
    pending = [f for f in dict.fromkeys(formulas) if missing(f)]
    if not pending:
        return _result(formulas, keys, known, widths, measure)

    runner = runner_dir if runner_dir is not None else default_runner_dir()
    node_path = shutil.which(node or "node")
    unavailable = _runner_problem(node_path, node or "node", runner)
    if unavailable is not None:
        return MathCheckResult(
            tuple(_first(structural_errors(f.tex)) for f in formulas),
            ENGINE_STRUCTURAL,
            f"{unavailable}: formulas checked structurally only ({_setup_hint(runner, node_path)})",
        )
    assert node_path is not None  # _runner_problem said so

    answers = _run_batches(node_path, runner, pending, timeout, measure)
    for formula, (verdict, width) in zip(pending, answers):
        known[cache_key(formula)] = verdict
        if cache is not None:
            cache[cache_key(formula)] = verdict
        if measure and width is not None:
            widths[formula] = width
            if cache is not None:
                cache[width_cache_key(formula)] = repr(width)
    return _result(formulas, keys, known, widths, measure)


def _result(
    formulas: Sequence[Formula], keys: list[str], known: dict[str, str | None], widths: dict[Formula, float | None],
    measure: bool,
) -> MathCheckResult:
    errors = tuple(known[k] for k in keys)
    measured = tuple(widths.get(f) if e is None else None for f, e in zip(formulas, errors)) if measure else ()
    return MathCheckResult(errors, ENGINE_MATHJAX, None, measured)


def _runner_problem(node_path: str | None, node: str, runner: Path) -> str | None:
    """Why the MathJax runner cannot be started, or None when it can."""
    if node_path is None:
        return f"{node} not found"
    if not (runner / RUNNER_SCRIPT).is_file():
        return f"MathJax runner {runner / RUNNER_SCRIPT} not found"
    if not (runner / "node_modules" / "mathjax-full" / "package.json").is_file():
        return f"MathJax is not installed in {runner / 'node_modules'}"
    return None


def _setup_hint(runner: Path, node_path: str | None) -> str:
    npm = f"npm ci --prefix {_display_path(runner)}"
    return f"run `{npm}`" if node_path else f"install Node.js and run `{npm}`"


def _display_path(path: Path) -> str:
    """``path`` relative to the working directory when under it, so the hint reads
    ``npm ci --prefix mathjax`` from the repository root."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# Below this many new formulas, one Node process (~0.3 s to start) is as fast as two.
PARALLEL_MIN_FORMULAS = 200


Answer = tuple[str | None, float | None]  # a formula's verdict, and its width in em when measured


def _run_batches(
    node_path: str, runner: Path, formulas: Sequence[Formula], timeout: float | None, measure: bool = False
) -> list[Answer]:
    """Verdicts for `formulas`: on two cores, two Node processes each take half of the batch."""
    from .parallel import available_cores

    if len(formulas) < PARALLEL_MIN_FORMULAS or available_cores() < 2:
        return _run_mathjax(node_path, runner, formulas, timeout, measure)
    from concurrent.futures import ThreadPoolExecutor

    half = len(formulas) // 2
    # Threads only feed and read the two processes; the work happens in Node.
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(_run_mathjax, node_path, runner, formulas[:half], timeout, measure)
        second = pool.submit(_run_mathjax, node_path, runner, formulas[half:], timeout, measure)
        return first.result() + second.result()


def _run_mathjax(
    node_path: str, runner: Path, formulas: Sequence[Formula], timeout: float | None, measure: bool = False
) -> list[Answer]:
    payload = json.dumps([{"tex": f.tex, "display": f.display} for f in formulas])
    if timeout is None:
        # Startup is ~0.1 s and 1,000 formulas ~0.6 s (measuring doubles it); leave room for slow CI.
        timeout = 30.0 + len(formulas) / 100
    command = [node_path, str(runner / RUNNER_SCRIPT), *(["--width"] if measure else [])]
    try:
        proc = subprocess.run(
            command,
            input=payload,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise MathCheckUnavailable(
            f"MathJax runner timed out after {timeout:.0f} s on {len(formulas)} formulas"
        ) from err
    except OSError as err:
        raise MathCheckUnavailable(f"MathJax runner could not start: {err}") from err
    if proc.returncode != 0:
        raise MathCheckUnavailable(
            f"MathJax runner failed (exit {proc.returncode}): {_last_line(proc.stderr)}"
        )
    try:
        verdicts = json.loads(proc.stdout)
    except json.JSONDecodeError as err:
        raise MathCheckUnavailable(f"MathJax runner printed invalid JSON: {err}") from err
    if measure:
        return _measured_answers(verdicts, len(formulas))
    if (
        not isinstance(verdicts, list)
        or len(verdicts) != len(formulas)
        or not all(v is None or isinstance(v, str) for v in verdicts)
    ):
        raise MathCheckUnavailable(
            f"MathJax runner must print a list of {len(formulas)} null-or-string verdicts"
        )
    return [(verdict, None) for verdict in verdicts]


def _measured_answers(answers: object, count: int) -> list[Answer]:
    """The runner's ``--width`` answer: ``[{"error": null | str, "width": number | null}, ...]``."""

    def valid(item: object) -> bool:
        if not isinstance(item, dict) or set(item) != {"error", "width"}:
            return False
        error, width = item["error"], item["width"]
        number = isinstance(width, (int, float)) and not isinstance(width, bool) and 0 <= width < float("inf")
        return (error is None or isinstance(error, str)) and (width is None or number)

    if not isinstance(answers, list) or len(answers) != count or not all(valid(a) for a in answers):
        raise MathCheckUnavailable(f"MathJax runner must print a list of {count} {{error, width}} answers")
    return [(a["error"], None if a["width"] is None else float(a["width"])) for a in answers]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no error output)"


def _first(errors: list[str]) -> str | None:
    return errors[0] if errors else None


# A control word (\alpha), a control symbol (\{, \\, \%), or a character that
# matters to the checks below. Scanning token by token is what tells `\\label`
# (a line break, then text) from `\label`, and `\%` from a comment.
_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)|[{}%\n]", re.DOTALL)
_ENV_NAME = re.compile(r"\s*\{([^{}]*)\}")

# An HTML tag: a name and attribute-shaped text, closed by `>`. `a < b` and
# `x<y` are comparisons; `<b>`, `</b>`, `<br>`, `<br/>`, `<span class="x">` are tags.
_HTML_TAG = re.compile(
    r"</?([A-Za-z][A-Za-z0-9]*)"
    r"(?:\s+[A-Za-z_:][-A-Za-z0-9_:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'<>=`]+))?)*"
    r"\s*/?>"
)

# Only HTML's own element names: `<X>` (an expectation) is TeX, escaped on the card like all TeX.
_HTML_NAMES = frozenset(
    "a abbr b big blockquote br center code del div em font h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s "
    "small span strike strong sub sup table td th tr tt u ul".split()
)

# Macros whose argument is text. Without textmacros (Anki removes it), MathJax
# reads only $...$, \(...\), \ref, \eqref and the escapes \$ \{ \} \\ there;
# any other macro is shown as literal text.
_TEXT_MACROS = frozenset(
    {
        "text",
        "mbox",
        "hbox",
        "textrm",
        "textit",
        "textbf",
        "textsf",
        "texttt",
        "textnormal",
        "textup",
    }
)
_TEXT_MODE_OK = frozenset({"\\$", "\\{", "\\}", "\\\\", "\\(", "\\)", "\\ref", "\\eqref"})


def _tokens(tex: str) -> list[re.Match[str]]:
    """The tokens of ``tex``, without comments (``%`` to the end of the line)."""
    out: list[re.Match[str]] = []
    in_comment = False
    for match in _TOKEN.finditer(tex):
        token = match.group()
        if in_comment:
            in_comment = token != "\n"
        elif token == "%":
            in_comment = True
        elif token != "\n":
            out.append(match)
    return out


def lint_formula(tex: str, *, cloze: bool = False) -> list[str]:
    """Problems that break a formula on an Anki card even when MathJax accepts the TeX.

    :param tex: the formula, without its ``\\(``/``\\[`` delimiters.
    :param cloze: the formula sits in a cloze-style field, where ``}}`` ends a deletion.
    """
    problems: list[str] = []
    for tag in dict.fromkeys(m.group() for m in _HTML_TAG.finditer(tex) if m.group(1).lower() in _HTML_NAMES):
        problems.append(f"HTML tag {tag} inside a formula: Anki reads it as markup, not TeX")
    names = [m.group() for m in _TOKEN.finditer(tex)]
    if "\\label" in names:
        problems.append(
            "\\label in a formula: Anki typesets it again on the answer side, where the "
            "second definition is an error (Label multiply defined)"
        )
    if "%" in names:
        problems.append(
            "unescaped % starts a TeX comment that hides the rest of the formula (write \\%)"
        )
    if cloze and "}}" in tex:
        problems.append("}} inside a formula ends the cloze deletion early (write } } instead)")
    problems.extend(_literal_text_macros(tex))
    return problems


def _literal_text_macros(tex: str) -> list[str]:
    """Macros inside ``\\text{...}`` that Anki shows as literal text."""
    problems: list[str] = []
    for match in _tokens(tex):
        name = match.group()[1:]
        if name not in _TEXT_MACROS:
            continue
        argument = _braced_argument(tex, match.end())
        if argument is None:
            continue
        for bad in _macros_outside_math(argument):
            problems.append(
                f"{bad} inside \\{name}{{...}} is shown as literal text: "
                "Anki's MathJax has no textmacros (use \\textbf etc. outside \\text, "
                "or $...$ for math inside it)"
            )
    return list(dict.fromkeys(problems))


def _braced_argument(tex: str, start: int) -> str | None:
    """The text of the ``{...}`` group starting at ``start`` (after blanks), if any."""
    i = start
    while i < len(tex) and tex[i].isspace():
        i += 1
    if i >= len(tex) or tex[i] != "{":
        return None
    close = match_brace(tex, i)
    return tex[i + 1 : close] if close >= 0 else None


def _macros_outside_math(text: str) -> list[str]:
    """Control sequences of a text-mode argument outside its ``$...$``/``\\(...\\)``."""
    bad: list[str] = []
    closer: str | None = None  # "$" or "\\)" while inside math
    for match in re.finditer(r"\\(?:[A-Za-z]+|.)|\$", text, re.DOTALL):
        token = match.group()
        if closer is not None:
            if token == closer:
                closer = None
        elif token == "$":
            closer = "$"
        elif token == "\\(":
            closer = "\\)"
        elif token not in _TEXT_MODE_OK:
            bad.append(token)
    return bad


def structural_errors(tex: str) -> list[str]:
    """The first nesting problem of ``tex``, as TeX would stop at it: braces,
    ``\\left``/``\\right`` and ``\\begin``/``\\end``, worded like MathJax's messages.

    A fallback for when MathJax cannot run: it misses everything else
    (undefined macros, double subscripts, misplaced ``&``, ...).
    """
    stack: list[str] = []  # "{", "\\left", or the name of a \begin environment
    tokens = _tokens(tex)
    for match in tokens:
        token = match.group()
        if token == "{":
            stack.append("{")
        elif token == "}":
            if not stack:
                return ["Extra close brace or missing open brace"]
            if stack[-1] != "{":
                return [_unclosed(stack[-1])]
            stack.pop()
        elif token == "\\left":
            stack.append("\\left")
        elif token == "\\right":
            if not stack or stack[-1] == "{":
                return ["Missing \\left or extra \\right"]
            if stack[-1] != "\\left":
                return [_unclosed(stack[-1])]
            stack.pop()
        elif token in ("\\begin", "\\end"):
            name_match = _ENV_NAME.match(tex, match.end())
            if name_match is None:
                return [f"Missing argument for {token}"]
            name = name_match.group(1).strip()
            if token == "\\begin":
                stack.append(name)
            elif not stack or stack[-1] == "{":
                return [f"Extra \\end{{{name}}}"]
            elif stack[-1] == "\\left":
                return [_unclosed("\\left")]
            elif stack[-1] != name:
                return [f"\\begin{{{stack[-1]}}} ended with \\end{{{name}}}"]
            else:
                stack.pop()
    if stack:
        return [_unclosed(stack[-1])]
    return []


def _unclosed(opener: str) -> str:
    if opener == "{":
        return "Missing close brace"
    if opener == "\\left":
        return "Extra \\left or missing \\right"
    return f"Missing \\end{{{opener}}}"
