"""LaTeX text to our Markdown: math kept as TeX in `$...$` / `$$...$$`, text macros to Markdown.

Not a TeX engine: it knows the macros exams use (emphasis, accents, quotes, lists, tables, code,
math environments, the exam's own macros in every defining form) and keeps anything else verbatim
(as inline code, byte for byte), with a warning that names the line. Offsets index the document
built by `texfiles`, so every message can say `file:line`, in whichever input file it is.

Why not pylatexenc's LatexWalker (evaluated for issue 15): it parses every field report, but it
only knows a macro's arguments when given its spec, so every AMC command, the exam's own macros
and `\\def` parameter texts would need specs here anyway; it neither expands macros (a
`\\newcommand` that writes a question), nor follows `\\input` with file:line locations, nor knows
what `alltt` or fancyvrb print. Those are the faults to fix, so the reader stays ours.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidSources, Problem
from ..tex import match_brace
from .model import ImportWarning
from .texfiles import VERBATIM_MACRO, TexDocument, Verbatim, from_text

# TeX's text-mode ligatures, longest first so that `---` is not read as `--` + `-`.
_TEXT_LIGATURES = {"``": "“", "''": "”", "`": "‘", "---": "—", "--": "–"}

_MACRO = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
_ENV = re.compile(r"\\(begin|end)\s*\{([^{}]*)\}")
_DEFINITIONS = frozenset(
    {"newcommand", "renewcommand", "providecommand", "DeclareRobustCommand", "newcommand*", "renewcommand*",
     "providecommand*"}
)
# Where a slot (already-final Markdown: math, code, list markers) sits in the text being built.
_SLOT = re.compile(r"\x00([a-z])(\d+)\x00")
_BREAK = "\x00b0\x00"


@dataclass(frozen=True)
class Macro:
    """A `\\newcommand` shorthand: its number of arguments, optional first argument default, body."""

    nargs: int
    default: str | None
    body: str
    star_body: str | None = None  # the body of `\\name*` (mathtools' paired delimiters: \\left...\\right)


@dataclass
class Context:
    """What a conversion reports to: warnings and errors, each located."""

    path: str
    macros: dict[str, Macro] = field(default_factory=dict)
    warnings: list[ImportWarning] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    base_dir: Path | None = None  # where \includegraphics and \lstinputlisting look (None: nowhere)
    verbatims: list[Verbatim] = field(default_factory=list)  # bodies set aside by texfiles
    saved_verbatim: dict[str, Verbatim] = field(default_factory=dict)  # fancyvrb \begin{SaveVerbatim}{name}
    graphics_path: tuple[str, ...] = ("",)
    computed: dict[str, tuple[str, str]] = field(default_factory=dict)  # "va" -> ("pgfmathsetmacro", "exam.tex:12")
    images: dict[str, Image] = field(default_factory=dict)  # file in the deck's images/ folder -> image
    # What the conversion being done met, read by the caller (e.g. to make a question a draft).
    met: Met = field(default_factory=lambda: Met())

    def warn(self, line: int, message: str) -> None:
        warning = ImportWarning(getattr(line, "path", self.path), int(line), message)
        if warning not in self.warnings:
            self.warnings.append(warning)

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(getattr(line, "path", self.path), int(line), "latex", message))


@dataclass
class Met:
    """What a conversion met that changes how its card is imported."""

    computed: list[str] = field(default_factory=list)  # e.g. "\\pgfmathsetmacro (line 8)"
    missing_images: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # names in images/
    pictures: list[str] = field(default_factory=list)  # drawings LaTeX makes (tikzpicture...), kept as source


@dataclass(frozen=True)
class Image:
    """An image of the exam, as the deck will hold it (`images/<name>`)."""

    name: str
    data: bytes
    source: str  # the exam's file, for messages


def read_document(text: str, path: str, base_dir: Path | None = None) -> TexDocument:
    """One exam given as text: comments blanked, verbatim bodies set aside (see texfiles)."""
    doc, problems = from_text(text, path, base_dir)
    if problems:
        raise InvalidSources(problems)
    return doc


def _at(doc: TexDocument, offset: int) -> tuple[str, int]:
    line = doc.line(offset)
    return line.path, int(line)


def check_structure(doc: TexDocument) -> list[Problem]:
    """Unbalanced braces and environments, located like TeX would stop at them."""
    problems: list[Problem] = []
    text = doc.text
    braces: list[int] = []  # offsets of open braces
    envs: list[tuple[str, int, int]] = []  # name, offset, brace depth at \begin
    in_body = "\\begin{document}" not in text  # definitions in the preamble hold half environments
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "{":
            braces.append(i)
            i += 1
        elif c == "}":
            if braces:
                braces.pop()
            else:
                problems.append(Problem(*_at(doc, i), "latex", "unbalanced braces: '}' closes nothing"))
            i += 1
        elif c == "\\":
            env = _ENV.match(text, i)
            if env is None:
                i += 2
                continue
            kind, name = env.group(1), env.group(2).strip()
            if name == "document":
                in_body = kind == "begin"
            elif in_body and kind == "begin":
                envs.append((name, i, len(braces)))
            elif in_body:
                _close_environment(doc, name, i, envs, braces, problems)
            i = env.end()
        else:
            i += 1
    for name, offset, _ in envs:
        problems.append(
            Problem(*_at(doc, offset), "latex", f"\\begin{{{name}}} is never ended (missing \\end{{{name}}})")
        )
    for offset in braces:
        problems.append(Problem(*_at(doc, offset), "latex", "unbalanced braces: '{' is never closed"))
    return problems


def _close_environment(
    doc: TexDocument, name: str, offset: int, envs: list[tuple[str, int, int]], braces: list[int], problems: list[Problem]
) -> None:
    if not any(e[0] == name for e in envs):
        problems.append(Problem(*_at(doc, offset), "latex", f"\\end{{{name}}} without \\begin{{{name}}}"))
        return
    while envs[-1][0] != name:
        other, other_offset, _ = envs.pop()
        problems.append(Problem(
            *_at(doc, other_offset), "latex",
            f"\\begin{{{other}}} is never ended (\\end{{{name}}} at line {doc.line(offset)} comes first)",
        ))
    depth = envs.pop()[2]
    if len(braces) > depth:
        # A brace opened inside the environment is still open at its \end: report the brace.
        problems.append(Problem(
            *_at(doc, braces[depth]), "latex",
            f"unbalanced braces: '{{' is not closed before \\end{{{name}}} at line {doc.line(offset)}",
        ))
        del braces[depth:]


def skip_blanks(text: str, i: int, end: int | None = None) -> int:
    end = len(text) if end is None else end
    while i < end and text[i] in " \t\n":
        i += 1
    return i


def read_group(text: str, i: int, end: int | None = None) -> tuple[int, int, int] | None:
    """A `{...}` argument after blanks: (content start, content end, offset after it), or None."""
    j = skip_blanks(text, i, end)
    if j >= (len(text) if end is None else end) or text[j] != "{":
        return None
    close = match_brace(text, j)
    if close < 0:
        return None
    return j + 1, close, close + 1


def read_optional(text: str, i: int, end: int | None = None) -> tuple[int, int, int] | None:
    """A `[...]` argument after blanks (braces inside may hold `]`), or None."""
    end = len(text) if end is None else end
    j = skip_blanks(text, i, end)
    if j >= end or text[j] != "[":
        return None
    k = j + 1
    while k < end:
        c = text[k]
        if c == "\\":
            k += 2
            continue
        if c == "{":
            close = match_brace(text, k)
            if close < 0:
                return None
            k = close + 1
            continue
        if c == "]":
            return j + 1, k, k + 1
        k += 1
    return None


def find_environment_end(text: str, name: str, start: int, end: int | None = None) -> tuple[int, int] | None:
    """Where the `\\end{name}` matching an environment whose body starts at `start` is: (its start, after it)."""
    end = len(text) if end is None else end
    depth = 1
    for env in _ENV.finditer(text, start, end):
        if env.group(2).strip() != name:
            continue
        depth += 1 if env.group(1) == "begin" else -1
        if depth == 0:
            return env.start(), env.end()
    return None


def macro_tokens(text: str, start: int, end: int) -> Iterable[re.Match[str]]:
    """Every control sequence in text[start:end], `\\\\` read as one token (so `\\\\item` is not `\\item`)."""
    i = start
    while True:
        j = text.find("\\", i, end)
        if j < 0:
            return
        match = _MACRO.match(text, j, end)
        if match is None:
            return
        yield match
        i = match.end()


# Commands whose value exists only when LaTeX compiles (fp, pgfmath, PythonTeX, Lua, datatool,
# csvsimple, random numbers): how many {} arguments they take; the first one of those marked
# `defines` names the macro that receives the value.
COMPUTED = {
    "pgfmathsetmacro": 2, "pgfmathtruncatemacro": 2, "pgfmathparse": 1, "pgfmathresult": 0,
    "pgfmathrandominteger": 3, "pgfmathsetseed": 1, "pgfmathrandom": 0, "pgfmathprintnumber": 1,
    "FPeval": 2, "FPset": 2, "FPadd": 3, "FPsub": 3, "FPmul": 3, "FPdiv": 3, "FPpow": 3, "FPround": 3,
    "FPtrunc": 3, "FPrandom": 1, "FPprint": 1, "fpeval": 1, "inteval": 1, "dimeval": 1, "xinteval": 1,
    "xintexpr": 0, "xinttheexpr": 0, "numexpr": 0, "directlua": 1, "luaexec": 1, "py": 1, "pyc": 1, "pys": 1,
    "pyb": 1, "sympy": 1, "sympyc": 1, "pylab": 1, "DTLloaddb": 2, "DTLloadrawdb": 2, "DTLfetch": 4,
    "DTLgetvalue": 4, "DTLforeach": 3, "DTLgetvalueforkey": 5, "csvreader": 3, "csvautotabular": 1,
    "csvloop": 1, "randint": 3, "setrandomseed": 1, "random": 0, "rand": 0, "nextrandom": 0, "setrannum": 3,
    "setrandim": 3, "pgfmathdeclarerandomlist": 2, "pgfmathrandomitem": 2,
}
_DEFINES = frozenset({"pgfmathsetmacro", "pgfmathtruncatemacro", "pgfmathrandominteger", "FPeval", "FPset", "FPadd",
                      "FPsub", "FPmul", "FPdiv", "FPpow", "FPround", "FPtrunc", "FPrandom", "DTLfetch", "DTLgetvalue",
                      "DTLgetvalueforkey", "randint", "setrannum", "setrandim", "pgfmathrandomitem"})
COMPUTED_ENVS = frozenset({"pycode", "pyblock", "pyverbatim", "sympycode", "sympyblock", "luacode", "luacode*",
                           "pysub", "DTLenvforrow", "pythontexcustomcode"})
# A macro whose body writes a question, a group or choices is expanded in the source text, where the
# question reader sees what it writes.
_QUESTION_IN_BODY = re.compile(r"\\begin\s*\{(?:question|questionmult|questionmultx|choices|choiceshoriz|reponses|"
                               r"reponseshoriz)\}|\\(?:element|correctchoice|wrongchoice|bonne|mauvaise|AMCOpen)(?![A-Za-z])")


@dataclass(frozen=True)
class Definitions:
    """What `collect_definitions` found: the spans of the definitions themselves (never expanded
    as uses), and the macros whose body writes a question (expanded in the source text)."""

    spans: tuple[tuple[int, int], ...]
    question_macros: frozenset[str]
    # \\newenvironment{name}[n][default]{begin}{end} whose code writes a question: name -> (begin macro, end code)
    question_envs: dict[str, tuple[Macro, str]] = field(default_factory=dict)


def collect_macros(doc: TexDocument, ctx: Context) -> dict[str, Macro]:
    """Every macro the exam defines (see `collect_definitions`), by name without the backslash."""
    collect_definitions(doc, ctx)
    return ctx.macros


def collect_definitions(doc: TexDocument, ctx: Context) -> Definitions:
    """Fill `ctx` from the whole document, preamble and inputs included, in order (a later
    definition wins, as in TeX): `\\newcommand`/`\\renewcommand`/`\\providecommand`/
    `\\DeclareRobustCommand` (with `*`, `[n]`, `[default]`), `\\def\\name#1#2{...}`, `\\let\\a\\b`
    (or `=`), `\\DeclareMathOperator(*){\\name}{text}`; also fancyvrb's SaveVerbatim bodies,
    `\\graphicspath`, and macros that receive a compile-time value (`\\pgfmathsetmacro{\\va}`)."""
    text = doc.text
    spans: list[tuple[int, int]] = []
    environments: dict[str, tuple[Macro, str]] = {}
    for token in macro_tokens(text, 0, len(text)):
        command = token.group(1)
        if spans and token.start() < spans[-1][1]:
            continue
        if command in _DEFINITIONS:
            span_end = _read_newcommand(doc, ctx, token)
        elif command in ("newenvironment", "renewenvironment"):
            span_end = _read_newenvironment(doc, token, environments)
        elif command in ("def", "gdef", "edef", "xdef"):
            span_end = _read_def(doc, ctx, token)
        elif command in ("let", "global"):
            span_end = _read_let(doc, ctx, token) if command == "let" else None
        elif command == "DeclareMathOperator":
            span_end = _read_operator(doc, ctx, token)
        elif command in ("DeclarePairedDelimiter", "DeclarePairedDelimiterX"):
            span_end = _read_paired_delimiter(doc, ctx, token)
        elif command == VERBATIM_MACRO:
            group = read_group(text, token.end())
            verbatim = doc.verbatims[int(text[group[0]:group[1]])] if group else None
            if verbatim is not None and verbatim.env == "SaveVerbatim":
                name = re.search(r"\{([^{}]*)\}", verbatim.arguments)
                if name:
                    ctx.saved_verbatim[name.group(1).strip()] = verbatim
            continue
        elif command in ("newfontfamily", "newfontface", "newfontscript", "newfontlanguage"):
            name = _first_name(text, token.end())  # fontspec: \\newfontfamily\\thaifont{TH Sarabun New}
            if name:
                ctx.macros[name] = Macro(0, None, "")
            continue
        elif command == "graphicspath":
            group = read_group(text, token.end())
            if group:
                ctx.graphics_path = ("", *re.findall(r"\{([^{}]*)\}", text[group[0]:group[1]]))
            continue
        elif command in _DEFINES:
            name = _first_name(text, token.end())
            if name:
                line = doc.line(token.start())
                ctx.computed.setdefault(name, (command, f"{Path(line.path).name}:{int(line)}"))
            continue
        else:
            continue
        if span_end is not None:
            spans.append((token.start(), span_end))
    for name, macro in ctx.macros.items():  # a macro whose body computes is computed too
        uses = {m.group(1) for m in _MACRO.finditer(macro.body)}
        hit = next((u for u in uses if u in COMPUTED or u in ctx.computed), None)
        if hit is not None and name not in ctx.computed:
            ctx.computed[name] = ctx.computed.get(hit, (hit, ""))
    question_macros = frozenset(n for n, m in ctx.macros.items() if _QUESTION_IN_BODY.search(m.body))
    for name in question_macros:
        ctx.computed.pop(name, None)
    question_envs = {n: e for n, e in environments.items() if _QUESTION_IN_BODY.search(e[0].body + e[1])}
    return Definitions(tuple(spans), question_macros, question_envs)


def _read_newenvironment(doc: TexDocument, token: re.Match[str], environments: dict[str, tuple[Macro, str]]) -> int | None:
    text = doc.text
    i = token.end() + text.startswith("*", token.end())
    name = read_group(text, i)
    if name is None:
        return None
    i = name[2]
    nargs_group = read_optional(text, i)
    nargs, default = 0, None
    if nargs_group is not None:
        count = text[nargs_group[0]:nargs_group[1]].strip()
        nargs = int(count) if count.isdigit() else 0
        i = nargs_group[2]
        default_group = read_optional(text, i)
        if default_group is not None:
            default, i = text[default_group[0]:default_group[1]], default_group[2]
    begin = read_group(text, i)
    end = read_group(text, begin[2]) if begin else None
    if begin is None or end is None:
        return None
    environments[text[name[0]:name[1]].strip()] = (Macro(nargs, default, text[begin[0]:begin[1]].replace("##", "#")),
                                                   text[end[0]:end[1]])
    return end[2]


def _first_name(text: str, i: int) -> str | None:
    """`{\\va}` or `\\va`: the name defined, without the backslash."""
    group = read_group(text, i)
    raw = text[group[0]:group[1]].strip() if group else text[skip_blanks(text, i):]
    match = re.match(r"\\([A-Za-z@]+)", raw)
    return match.group(1) if match else None


def _read_newcommand(doc: TexDocument, ctx: Context, token: re.Match[str]) -> int | None:
    text = doc.text
    i = token.end()
    if text.startswith("*", i):
        i += 1
    name_group = read_group(text, i)
    if name_group is not None:
        name = text[name_group[0]:name_group[1]].strip()
        i = name_group[2]
    else:
        name_match = _MACRO.match(text, skip_blanks(text, i))
        if name_match is None:
            return None
        name, i = name_match.group(), name_match.end()
    nargs_group = read_optional(text, i)
    nargs = 0
    if nargs_group is not None:
        count = text[nargs_group[0]:nargs_group[1]].strip()
        nargs = int(count) if count.isdigit() else 0
        i = nargs_group[2]
    default_group = read_optional(text, i)
    default = None
    if default_group is not None:
        default = text[default_group[0]:default_group[1]]
        i = default_group[2]
    body = read_group(text, i)
    if body is None or not name.startswith("\\"):
        ctx.warn(doc.line(token.start()), f"could not read the definition of {name}: it is not expanded")
        return None
    if token.group(1).startswith("provide") and name[1:] in ctx.macros:
        return body[2]
    ctx.macros[name[1:]] = Macro(nargs, default, text[body[0]:body[1]].replace("##", "#"))
    return body[2]


def _read_def(doc: TexDocument, ctx: Context, token: re.Match[str]) -> int | None:
    """`\\def\\name#1#2{body}`: undelimited parameters only (others are warned and not expanded)."""
    text = doc.text
    name = _MACRO.match(text, skip_blanks(text, token.end()))
    if name is None:
        return None
    params = re.match(r"[^{]*", text[name.end():])
    parameter_text = params.group() if params else ""
    body = read_group(text, name.end() + len(parameter_text))
    if body is None:
        return None
    if not re.fullmatch(r"\s*(?:#\d\s*)*", parameter_text):
        ctx.warn(doc.line(token.start()), f"\\def{name.group()} has delimited parameters {parameter_text.strip()!r}: "
                                          "its uses are not expanded")
        return body[2]
    nargs = len(re.findall(r"#\d", parameter_text))
    ctx.macros[name.group(1)] = Macro(nargs, None, text[body[0]:body[1]].replace("##", "#"))
    return body[2]


def _read_let(doc: TexDocument, ctx: Context, token: re.Match[str]) -> int | None:
    """`\\let\\a\\b` / `\\let\\a=\\b`: \\a becomes what \\b is now (a copy of our definition, else \\b itself)."""
    text = doc.text
    name = _MACRO.match(text, skip_blanks(text, token.end()))
    if name is None:
        return None
    j = skip_blanks(text, name.end())
    if text.startswith("=", j):
        j = skip_blanks(text, j + 1)
    target = _MACRO.match(text, j)
    if target is None:
        return None
    if name.group(1) == target.group(1):
        return target.end()
    frozen = Macro(0, None, "\\" + _FROZEN + target.group()[1:])
    ctx.macros[name.group(1)] = ctx.macros.get(target.group(1), frozen)
    return target.end()


def _read_paired_delimiter(doc: TexDocument, ctx: Context, token: re.Match[str]) -> int | None:
    """mathtools' `\\DeclarePairedDelimiter{\\abs}{\\lvert}{\\rvert}`: `\\abs{x}`, `\\abs[\\big]{x}`, `\\abs*{x}`."""
    text = doc.text
    name = _first_name(text, token.end())
    i = token.end()
    group = read_group(text, i)
    if group is not None:
        i = group[2]
    else:
        bare = _MACRO.match(text, skip_blanks(text, i))
        if bare is None:
            return None
        i = bare.end()
    if token.group(1) == "DeclarePairedDelimiterX":  # [n] arguments, then the delimiters and the body
        count = read_optional(text, i)
        i = count[2] if count else i
    opening = read_group(text, i)
    closing = read_group(text, opening[2]) if opening else None
    if name is None or opening is None or closing is None:
        return None
    left, right = text[opening[0]:opening[1]].strip(), text[closing[0]:closing[1]].strip()
    stop = closing[2]
    inner = "#2"
    if token.group(1) == "DeclarePairedDelimiterX":
        body = read_group(text, stop)
        if body is None:
            return None
        inner, stop = text[body[0]:body[1]].replace("#1", "#2"), body[2]
    ctx.macros[name] = Macro(2, "", f"\\mathopen{{#1{left}}}{inner}\\mathclose{{#1{right}}}",
                             f"\\left{left}{inner}\\right{right}")
    return stop


def _read_operator(doc: TexDocument, ctx: Context, token: re.Match[str]) -> int | None:
    """`\\DeclareMathOperator{\\rank}{rank}` -> `\\operatorname{rank}` (`*`: limits below, `\\operatorname*`)."""
    text = doc.text
    i = token.end()
    star = text.startswith("*", i)
    name = _first_name(text, i + star)
    name_group = read_group(text, i + star)
    if name_group is not None:
        i = name_group[2]
    else:
        bare = _MACRO.match(text, skip_blanks(text, i + star))
        if bare is None:
            return None
        i = bare.end()
    body = read_group(text, i)
    if name is None or body is None:
        return None
    ctx.macros[name] = Macro(0, None, f"\\operatorname{'*' if star else ''}{{{text[body[0]:body[1]]}}}")
    return body[2]


# `\\let\\oldvec\\vec` keeps the meaning \\vec had then: written `\\<_FROZEN>vec`, it is not expanded
# again when the exam redefines \\vec in terms of \\oldvec; the marker is removed at the end.
_FROZEN = "\x02"


def expand_macros(tex: str, macros: dict[str, Macro], depth: int = 0) -> str:
    """Replace uses of `\\newcommand` shorthands in a formula by their definition."""
    if not macros or depth > 8:
        return tex
    out: list[str] = []
    i = 0
    changed = False
    for token in macro_tokens(tex, 0, len(tex)):
        macro = macros.get(token.group(1))
        if macro is None or token.start() < i:  # unknown, or inside the arguments of one just expanded
            continue
        start = token.end()
        body = macro.body
        if macro.star_body is not None and tex.startswith("*", start):
            body, start = macro.star_body, start + 1
        args, after = _macro_arguments(tex, start, macro)
        if args is None:
            continue
        for k, arg in enumerate(args, start=1):
            body = body.replace(f"#{k}", arg)
        # A body ending in a control word (`\\alpha`) would glue to a letter after it: keep a space.
        glue = after < len(tex) and tex[after].isalpha() and re.search(r"\\[A-Za-z]+$", body)
        out.append(tex[i:token.start()] + body + (" " if glue else ""))
        i = after
        changed = True
    if not changed:
        return tex.replace(_FROZEN, "") if depth == 0 else tex
    out.append(tex[i:])
    expanded = expand_macros("".join(out), macros, depth + 1)
    return expanded.replace(_FROZEN, "") if depth == 0 else expanded


def _macro_arguments(text: str, i: int, macro: Macro) -> tuple[list[str] | None, int]:
    args: list[str] = []
    remaining = macro.nargs
    if macro.default is not None and remaining:
        optional = read_optional(text, i)
        if optional is not None:
            args.append(text[optional[0]:optional[1]])
            i = optional[2]
        else:
            args.append(macro.default)
        remaining -= 1
    for _ in range(remaining):
        group = read_group(text, i)
        if group is not None:
            args.append(text[group[0]:group[1]])
            i = group[2]
            continue
        j = skip_blanks(text, i)
        token = _MACRO.match(text, j)
        if token is not None:
            args.append(token.group())
            i = token.end()
        elif j < len(text):
            args.append(text[j])
            i = j + 1
        else:
            return None, i
    return args, i


# --- conversion to Markdown ---------------------------------------------------------------

_ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304", ".": "\u0307",
    "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328", "r": "\u030a", "d": "\u0323",
    "b": "\u0331",
}
_SYMBOLS = {
    "ldots": "…", "dots": "…", "textellipsis": "…", "LaTeX": "LaTeX", "TeX": "TeX", "textendash": "–",
    "textemdash": "—", "ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å",
    "AA": "Å", "i": "ı", "j": "ȷ", "l": "ł", "L": "Ł", "euro": "€", "texteuro": "€", "textdegree": "°", "S": "§",
    "P": "¶", "copyright": "©", "pounds": "£", "textquoteleft": "‘", "textquoteright": "’",
    "textquotedblleft": "“", "textquotedblright": "”", "guillemotleft": "«", "guillemotright": "»", "og": "« ",
    "fg": " »", "textbackslash": "\\\\", "textbar": "|", "textless": "<", "textgreater": ">",
    "textasciitilde": "~", "textasciicircum": "^", "textunderscore": "\\_", "dag": "†", "ddag": "‡",
    "textbullet": "•", "checkmark": "✓", "ier": "ᵉʳ", "iere": "ʳᵉ", "iers": "ᵉʳˢ", "ieres": "ʳᵉˢ", "ieme": "ᵉ",
    "iemes": "ᵉˢ", "eme": "ᵉ", "emes": "ᵉˢ", "no": "nᵒ", "No": "Nᵒ", "degres": "°", "degre": "°",
    "slash": "/", "%": "%", "&": "&", "#": "\\#", "_": "\\_", "$": "\\$",
    "{": "{", "}": "}", ",": " ", ";": " ", ":": " ", " ": " ", "\n": " ", "\t": " ", "quad": " ", "qquad": " ",
    "enspace": " ", "thinspace": " ", "space": " ", "nobreakspace": " ", "!": "", "/": "", "-": "", "@": "",
    "allowbreak": "", "*": "", "hfill": " ", "vfill": " ",
}
# Layout and AMC bookkeeping: no text to carry over. The number is how many {} arguments to drop.
_IGNORED = {
    "noindent": 0, "indent": 0, "centering": 0, "raggedright": 0, "raggedleft": 0, "medskip": 0,
    "smallskip": 0, "bigskip": 0, "newpage": 0, "clearpage": 0, "pagebreak": 0, "nopagebreak": 0,
    "null": 0, "relax": 0, "protect": 0, "strut": 0, "leavevmode": 0,
    "AMCdontAnnotate": 0, "AMCnoCompleteMulti": 0, "AMCBoxedAnswers": 0, "AMCnobreak": 0,
    "em": 0, "bf": 0, "it": 0, "sl": 0, "rm": 0, "sf": 0, "tt": 0, "sc": 0, "normalfont": 0, "bfseries": 0,
    "itshape": 0, "slshape": 0, "upshape": 0, "ttfamily": 0, "mdseries": 0, "rmfamily": 0, "sffamily": 0,
    "scshape": 0, "tiny": 0, "scriptsize": 0, "footnotesize": 0, "small": 0, "normalsize": 0, "large": 0,
    "Large": 0, "LARGE": 0, "huge": 0, "Huge": 0, "scoring": 1, "label": 1, "vspace": 1, "vspace*": 1,
    "hspace": 1, "hspace*": 1, "addvspace": 1, "phantom": 1, "hphantom": 1, "vphantom": 1, "index": 1,
    "pagestyle": 1, "thispagestyle": 1, "setlength": 2, "AMCcode": 2,
    # AMC's own commands under every name (automultiplechoice.sty lets the French ones be the English ones).
    "bareme": 1, "scoringDefaultM": 1, "scoringDefaultS": 1, "baremeDefautM": 1, "baremeDefautS": 1,
    "QuestionIndicative": 0, "multiSymbole": 0, "lastchoices": 0, "alafin": 0, "AMCcompleteMulti": 0, "AMCcleardoublepage": 0,
    "hrule": 0, "hline": 0, "dotfill": 0, "hrulefill": 0, "toprule": 0, "midrule": 0, "bottomrule": 0,
    "cline": 1, "arraystretch": 0, "tabcolsep": 0,
    "setgroupmode": 2, "setdefaultgroupmode": 1, "AMCrandomseed": 1, "AMCsetScoreFormat": 1,
    "shufflegroup": 1, "melangegroupe": 1, "insertgroup": 1, "restituegroupe": 1, "cleargroup": 1,
    "namefield": 1, "champnom": 1, "AMCsetFoundBox": 0, "color": 1, "graphicspath": 1,
}
# Boxes that scale, turn, colour or place what they hold: (number of {} arguments before the content,
# whether an [optional] argument may come first).
_BOXES = {
    "scalebox": 1, "resizebox": 2, "resizebox*": 2, "rotatebox": 1, "raisebox": 1, "adjustbox": 1, "parbox": 1,
    "colorbox": 1, "textcolor": 1, "fcolorbox": 2, "reflectbox": 0, "centerline": 0, "boxed": 0,
}
# Code read from a file next to the exam: how many {} arguments come before the file name.
_CODE_FILES = {"lstinputlisting": 0, "VerbatimInput": 0, "verbatiminput": 0, "inputminted": 1, "BVerbatimInput": 0,
               "LVerbatimInput": 0}
_USE_VERBATIM = frozenset({"UseVerbatim", "BUseVerbatim", "LUseVerbatim"})
_SUPERSCRIPTS = dict(zip("abcdefghijklmnoprstuvwxyz0123456789+-()ABDEGHIJKLMNOPRTUVW",
                         "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ"))
_SUBSCRIPTS = dict(zip("aehijklmnoprstuvx0123456789+-()", "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₀₁₂₃₄₅₆₇₈₉₊₋₍₎"))
_CHEMISTRY = frozenset({"ce", "pu"})  # mhchem: Anki's MathJax has it
_WRAPPERS = {
    "emph": "*", "textit": "*", "textsl": "*", "textbf": "**", "underline": "", "uline": "", "textsc": "",
    "textrm": "", "textsf": "", "textup": "", "textnormal": "", "textmd": "", "mbox": "", "text": "", "fbox": "",
    "hbox": "", "makebox": "", "framebox": "", "up": "", "bsc": "", "nombre": "", "numprint": "", "num": "",
}
_DECLARATIONS = {"bf": "**", "bfseries": "**", "em": "*", "it": "*", "itshape": "*", "sl": "*", "slshape": "*"}
_HEADINGS = frozenset({"section", "section*", "subsection", "subsection*", "subsubsection", "subsubsection*",
                       "paragraph", "paragraph*"})
_MATH_ENVS = {
    "equation": None, "equation*": None, "displaymath": None, "align": "aligned", "align*": "aligned",
    "eqnarray": "aligned", "eqnarray*": "aligned", "gather": "gathered", "gather*": "gathered",
    "multline": "gathered", "multline*": "gathered", "flalign": "aligned", "flalign*": "aligned",
}
_UNWRAPPED_ENVS = {
    "center": 0, "flushleft": 0, "flushright": 0, "quote": 0, "quotation": 0, "minipage": 1, "multicols": 1,
    "figure": 0, "figure*": 0, "table": 0, "table*": 0, "samepage": 0, "small": 0, "footnotesize": 0,
    "AMCnobreak": 0, "raggedright": 0,
}
_TABLES = {"tabular": 1, "tabular*": 2, "tabularx": 2, "longtable": 1, "tabulary": 2}  # {} arguments before the rows
PICTURE_ENVS = frozenset({"tikzpicture", "circuitikz", "pspicture", "picture", "axis", "tikzcd", "forest", "xy"})
_STARRED = frozenset({"\\", "vspace", "hspace", "section", "subsection", "subsubsection", "paragraph"})
_LISTS = {"itemize": "-", "enumerate": "1.", "description": "-"}
_LINE_BREAKS = frozenset({"\\", "newline", "linebreak"})


def latex_to_markdown(
    text: str, start: int, end: int, ctx: Context, line_of: Callable[[int], int], skip: Iterable[tuple[int, int]] = ()
) -> str:
    """Markdown for text[start:end], leaving out the `skip` spans (e.g. a question's choices)."""
    converter = _Converter(text, ctx, line_of, sorted(skip))
    return converter.finish(converter.convert(start, end))


def math_to_markdown(tex: str, display: bool, macros: dict[str, Macro], ctx: Context | None = None) -> str:
    """A formula in our delimiters: shorthands expanded, numbering and labels dropped; with `ctx`,
    values known only when LaTeX compiles (`\\va` from `\\pgfmathsetmacro`) are shown as their name
    (`\\mathtt{\\backslash{}va}`) and recorded in `ctx.met`."""
    tex = expand_macros(tex, macros)
    tex = _MATH_SHIMS.sub(_math_shim, tex)
    if "\\" in tex:
        tex = _siunitx_in_math(tex)
    if ctx is not None:
        tex = _mark_computed(tex, ctx)
    tex = re.sub(r"\\label\s*\{[^{}]*\}|\\nonumber\b|\\notag\b", "", tex)
    if display:
        lines = [line.rstrip() for line in textwrap.dedent(tex.strip("\n")).split("\n") if line.strip()]
        return "\n\n$$\n" + "\n".join(lines) + "\n$$\n\n"
    return "$" + re.sub(r"\s*\n\s*", " ", tex) + "$"


# Text-mode number macros (babel-french, numprint, siunitx's \\num) that MathJax lacks, written as TeX.
_MATH_SHIMS = re.compile(r"\\(nombre|numprint|num)\s*\{([^{}]*)\}|\\(degres|degre)(?![A-Za-z])")


def _math_shim(match: re.Match[str]) -> str:
    if match.group(3):
        return "^{\\circ}"
    return "{" + match.group(2).replace(",", "{,}").replace(" ", "\\,") + "}"


_SI_PREFIXES = {"yocto": "y", "zepto": "z", "atto": "a", "femto": "f", "pico": "p", "nano": "n", "micro": "\\mu ",
                "milli": "m", "centi": "c", "deci": "d", "deca": "da", "deka": "da", "hecto": "h", "kilo": "k",
                "mega": "M", "giga": "G", "tera": "T", "peta": "P", "exa": "E"}
_SI_UNITS = {"metre": "m", "meter": "m", "second": "s", "gram": "g", "kilogram": "kg", "newton": "N", "joule": "J",
             "watt": "W", "volt": "V", "ampere": "A", "ohm": "\\Omega", "hertz": "Hz", "kelvin": "K",
             "degreeCelsius": "{}^{\\circ}\\mathrm{C}", "celsius": "{}^{\\circ}\\mathrm{C}", "mole": "mol",
             "litre": "L", "liter": "L", "pascal": "Pa", "coulomb": "C", "tesla": "T", "henry": "H", "farad": "F",
             "electronvolt": "eV", "hour": "h", "minute": "min", "day": "d", "bar": "bar", "percent": "\\%",
             "degree": "{}^{\\circ}", "radian": "rad", "candela": "cd", "becquerel": "Bq", "byte": "B", "bit": "bit",
             "siemens": "S", "weber": "Wb", "lumen": "lm", "lux": "lx", "gray": "Gy", "sievert": "Sv", "katal": "kat",
             "tonne": "t", "hectare": "ha", "decibel": "dB", "astronomicalunit": "au", "dalton": "Da"}
_SIUNITX = re.compile(r"\\(SI|qty|si|unit|num|ang)(?![A-Za-z])\s*(?:\[[^\]]*\])?")


def siunitx_tex(command: str, args: list[str]) -> str | None:
    """siunitx's `\\SI{3}{\\metre\\per\\second}` (and `\\qty`, `\\si`, `\\unit`, `\\num`) as plain TeX
    MathJax knows (`3\\,\\mathrm{m}\\,\\mathrm{s}^{-1}`); None when a unit is not one we know."""
    number = ""
    if command in ("SI", "qty", "num", "ang"):
        raw = args[0].strip()
        mantissa, _, exponent = raw.replace(" ", "").partition("e")
        number = mantissa.replace(",", "{,}") + (f"\\times 10^{{{exponent}}}" if exponent else "")
        if command == "num":
            return number
        if command == "ang":
            return number + "^{\\circ}"
    units = args[-1] if command != "num" else ""
    parts: list[str] = []
    pending_power, per, prefix = "", False, ""
    for token in re.finditer(r"\\([A-Za-z]+)(?:\{([^{}]*)\})?|([^\\\s]+)", units):
        name, argument, literal = token.group(1), token.group(2), token.group(3)
        if literal is not None:
            parts.append(f"\\mathrm{{{literal}}}")
        elif name in _SI_PREFIXES:
            prefix += _SI_PREFIXES[name]
        elif name in ("square", "cubic"):
            pending_power = "2" if name == "square" else "3"
        elif name in ("squared", "cubed", "tothe") and parts:
            power = {"squared": "2", "cubed": "3"}.get(name, argument or "")
            parts[-1] = parts[-1].replace("^{-1}", "") + f"^{{{'-' if parts[-1].endswith('^{-1}') else ''}{power}}}"
        elif name == "per":
            per = True
        elif name in _SI_UNITS:
            symbol = _SI_UNITS[name]
            unit = symbol if symbol.startswith("{}") or symbol.startswith("\\") and not prefix else f"\\mathrm{{{prefix}{symbol}}}"
            power = ("-" if per else "") + (pending_power or ("1" if per else ""))
            parts.append(unit + (f"^{{{power}}}" if power else ""))
            pending_power, per, prefix = "", False, ""
        else:
            return None
    unit_tex = "\\,".join(parts)
    return f"{number}\\,{unit_tex}" if number and unit_tex else number or unit_tex


def _siunitx_in_math(tex: str) -> str:
    out: list[str] = []
    i = 0
    for match in _SIUNITX.finditer(tex):
        if match.start() < i:
            continue
        count = 2 if match.group(1) in ("SI", "qty") else 1
        args, stop = [], match.end()
        for _ in range(count):
            group = read_group(tex, stop)
            if group is None:
                break
            args.append(tex[group[0]:group[1]])
            stop = group[2]
        converted = siunitx_tex(match.group(1), args) if len(args) == count else None
        if converted is None:
            continue
        out.append(tex[i:match.start()] + "{" + converted + "}")
        i = stop
    return "".join(out) + tex[i:]


def _mark_computed(tex: str, ctx: Context) -> str:
    out: list[str] = []
    i = 0
    for token in macro_tokens(tex, 0, len(tex)):
        name = token.group(1)
        if token.start() < i or (name not in COMPUTED and name not in ctx.computed):
            continue
        stop = token.end()
        if name in COMPUTED:
            for _ in range(COMPUTED[name]):
                group = read_group(tex, stop)
                if group is None:
                    break
                stop = group[2]
        ctx.met.computed.append(_computed_reason(name, ctx))
        out.append(tex[i:token.start()] + code_in_math(tex[token.start():stop]))
        i = stop
    return "".join(out) + tex[i:]


def code_in_math(raw: str) -> str:
    """LaTeX source shown as typewriter text inside a formula (`\\va` -> `\\mathtt{\\backslash{}va}`)."""
    escaped = "".join({"\\": "\\backslash{}", "{": "\\{", "}": "\\}", "#": "\\#", "%": "\\%", "_": "\\_",
                       "&": "\\&", "$": "\\$", "^": "\\hat{}", "~": "\\sim{}", " ": "\\ "}.get(c, c) for c in raw)
    return f"\\mathtt{{{escaped}}}"


def _computed_reason(name: str, ctx: Context) -> str:
    if name in COMPUTED:
        return f"\\{name}"
    command, where = ctx.computed[name]
    return f"\\{name} (set by \\{command}" + (f" at {where})" if where else ")")


class _Converter:
    """One conversion: the text being read, and the slots holding finished Markdown (math, code)."""

    def __init__(self, text: str, ctx: Context, line_of: Callable[[int], int], skip: list[tuple[int, int]],
                 depth: int = 0) -> None:
        self.text = text
        self.ctx = ctx
        self.line_of = line_of
        self.skip = skip
        self.slots: list[str] = []
        self.list_depth = 0
        self.depth = depth

    def slot(self, content: str, kind: str = "s") -> str:
        self.slots.append(content)
        return f"\x00{kind}{len(self.slots)}\x00"

    def convert(self, start: int, end: int) -> str:
        out: list[str] = []
        text = self.text
        i = start
        while i < end:
            span = next((s for s in self.skip if s[0] <= i < s[1]), None)
            if span is not None:
                i = span[1]
                continue
            c = text[i]
            if c == "\\":
                i = self.macro(i, end, out)
            elif c == "$":
                i = self.dollar_math(i, end, out)
            elif c == "{":
                i = self.group(i, end, out)
            elif c == "}":
                i += 1
            elif c == "~":
                out.append(" ")
                i += 1
            elif ligature := next((t for t in _TEXT_LIGATURES if text.startswith(t, i)), None):
                out.append(_TEXT_LIGATURES[ligature])
                i += len(ligature)
            elif c in "*_#":
                out.append("\\" + c)
                i += 1
            elif c == "\t":
                out.append(" ")
                i += 1
            else:
                out.append(c)
                i += 1
        return "".join(out)

    def dollar_math(self, i: int, end: int, out: list[str]) -> int:
        display = self.text.startswith("$$", i)
        opener = "$$" if display else "$"
        close = _find_unescaped(self.text, opener, i + len(opener), end)
        if close < 0:
            self.ctx.error(self.line_of(i), f"unbalanced {opener}: the formula is never closed")
            return end
        tex = self.text[i + len(opener):close]
        out.append(self.slot(math_to_markdown(tex, display, self.ctx.macros, self.ctx), "d" if display else "m"))
        return close + len(opener)

    def delimited_math(self, i: int, after: int, end: int, closer: str, display: bool, out: list[str]) -> int:
        close = self.text.find(closer, after, end)
        if close < 0:
            self.ctx.error(self.line_of(i), f"unbalanced math: {self.text[i:after]} is never closed by {closer}")
            return end
        tex = self.text[after:close]
        out.append(self.slot(math_to_markdown(tex, display, self.ctx.macros, self.ctx), "d" if display else "m"))
        return close + len(closer)

    def group(self, i: int, end: int, out: list[str]) -> int:
        close = match_brace(self.text, i)
        if close < 0 or close >= end:
            return i + 1
        inner = skip_blanks(self.text, i + 1, close)
        token = _MACRO.match(self.text, inner, close)
        wrap = ""
        start = i + 1
        if token is not None and token.group(1) in ("tt", "ttfamily"):  # {\\tt code}: as \\texttt{code}
            code = alltt_text(self.text[token.end():close]).strip(" ")
            out.append(self.slot(_code_block(code, ""), "c") if "\n" in code.strip("\n") else self.slot(_code_span(code)))
            return close + 1
        if token is not None and token.group(1) in _DECLARATIONS:
            wrap, start = _DECLARATIONS[token.group(1)], token.end()
        elif token is not None and self.is_unknown(token.group(1)) and not self.text.startswith("{", token.end()):
            # `{\\thaifont ข้อความ}`: a declaration (a font, a size) that only changes how the group looks.
            self.ctx.warn(self.line_of(token.start()), f"unknown declaration {token.group()} ignored (it starts a group)")
            start = _eat_space_after_word(self.text, token.end(), close, token.group(1))
        out.append(_wrap(self.convert(start, close), wrap))
        return close + 1

    def is_unknown(self, name: str) -> bool:
        return name.isalpha() and not any(
            name in table for table in (_ACCENTS, _SYMBOLS, _IGNORED, _WRAPPERS, _HEADINGS, _BOXES, _CODE_FILES,
                                        _USE_VERBATIM, _CHEMISTRY, COMPUTED, self.ctx.macros, self.ctx.computed)
        ) and name not in ("begin", "end", "par", "item", "includegraphics", "url", "href", "footnote", "caption",
                           "texttt", "verb", "textsuperscript", "textsubscript", "SI", "si", "qty", "unit", "ang",
                           "tt", "ttfamily", VERBATIM_MACRO) and name not in _LINE_BREAKS

    def argument(self, i: int, end: int) -> tuple[str, int] | None:
        """A {}-argument converted to Markdown, or a single token when there are no braces."""
        group = read_group(self.text, i, end)
        if group is not None:
            return self.convert(group[0], group[1]), group[2]
        j = skip_blanks(self.text, i, end)
        if j >= end:
            return None
        token = _MACRO.match(self.text, j, end)
        stop = token.end() if token is not None else j + 1
        return self.convert(j, stop), stop

    def raw_argument(self, i: int, end: int) -> tuple[str, int] | None:
        group = read_group(self.text, i, end)
        if group is None:
            return None
        return self.text[group[0]:group[1]], group[2]

    def skip_arguments(self, i: int, end: int, count: int) -> int:
        optional = read_optional(self.text, i, end)
        if optional is not None:
            i = optional[2]
        for _ in range(count):
            group = read_group(self.text, i, end)
            if group is None:
                break
            i = group[2]
        return i

    def macro(self, i: int, end: int, out: list[str]) -> int:
        token = _MACRO.match(self.text, i, end)
        if token is None:
            return i + 1
        name, after = token.group(1), token.end()
        if self.text.startswith("*", after) and name in _STARRED:
            name, after = name + "*", after + 1
        line = self.line_of(i)
        if name in _LINE_BREAKS or name == "\\*":
            optional = read_optional(self.text, after, end)
            out.append(_BREAK + "\n")
            return _skip_line_end(self.text, optional[2] if optional is not None else after, end)
        if name == "(":
            return self.delimited_math(i, after, end, "\\)", False, out)
        if name == "[":
            return self.delimited_math(i, after, end, "\\]", True, out)
        if name == "begin":
            return self.environment(i, after, end, out)
        if name == "end":  # an \end without its \begin in this span: structure errors are reported elsewhere
            group = read_group(self.text, after, end)
            return group[2] if group else after
        if name in _ACCENTS:
            return self.accent(name, after, end, out)
        if name in _SYMBOLS:
            out.append(_SYMBOLS[name])
            return _eat_space_after_word(self.text, after, end, name)
        if name in _IGNORED:
            if _IGNORED[name] == 0:
                return _eat_space_after_word(self.text, after, end, name)
            return self.skip_arguments(after, end, _IGNORED[name])
        if name == "par":
            out.append("\n\n")
            return after
        if name in _WRAPPERS:
            optional = read_optional(self.text, after, end)
            if optional is not None and name in ("makebox", "framebox"):
                after = optional[2]
            argument = self.argument(after, end)
            if argument is None:
                return after
            out.append(_wrap(argument[0], _WRAPPERS[name]))
            return argument[1]
        if name in ("texttt", "verb", "lstinline", "mintinline", "Verb"):
            return self.code(name, after, end, out)
        if name in _HEADINGS:
            argument = self.argument(after, end)
            if argument is None:
                return after
            out.append("\n\n" + _wrap(argument[0], "**") + "\n\n")
            return argument[1]
        if name == "url":
            raw = self.raw_argument(after, end)
            if raw is None:
                return after
            out.append(self.slot(f"<{raw[0].strip()}>"))
            return raw[1]
        if name == "href":
            raw = self.raw_argument(after, end)
            label = self.argument(raw[1], end) if raw is not None else None
            if raw is None or label is None:
                return after
            out.append(f"[{label[0].strip()}]" + self.slot(f"({raw[0].strip()})"))
            return label[1]
        if name in ("footnote", "caption"):
            argument = self.argument(after, end)
            if argument is None:
                return after
            out.append(f" ({argument[0].strip()})" if name == "footnote" else f"\n\n{argument[0].strip()}\n\n")
            return argument[1]
        if name == "includegraphics":
            optional = read_optional(self.text, after, end)
            raw = self.raw_argument(optional[2] if optional else after, end)
            if raw is None:
                return after
            out.append(self.slot(self.image(raw[0].strip(), line)))
            return raw[1]
        if name == "item":
            optional = read_optional(self.text, after, end)
            term = self.convert(optional[0], optional[1]).strip() if optional else ""
            marker = self.slot("  " * max(self.list_depth - 1, 0) + "- ", "l")
            out.append("\n" + marker + (f"**{term}** " if term else ""))
            return _eat_space_after_word(self.text, optional[2] if optional else after, end, name)
        if name in self.ctx.computed:
            self.ctx.met.computed.append(_computed_reason(name, self.ctx))
            out.append(self.slot(_code_span(token.group())))
            return after
        if name in self.ctx.macros and self.depth < 8:
            return self.user_macro(name, after, end, out)
        if name in COMPUTED:
            self.ctx.met.computed.append(_computed_reason(name, self.ctx))
            stop = self.skip_arguments(after, end, COMPUTED[name])
            if name not in _DEFINES and name not in ("pgfmathparse", "pgfmathsetseed", "setrandomseed", "DTLloaddb",
                                                     "DTLloadrawdb", "pgfmathdeclarerandomlist"):
                out.append(self.slot(_code_span(self.text[i:stop].strip())))  # it prints a value: say where
            return stop
        if name == VERBATIM_MACRO:
            return self.verbatim_block(after, end, out)
        if name in _USE_VERBATIM:
            return self.use_verbatim(name, after, end, out)
        if name in _CODE_FILES:
            return self.code_file(name, line, after, end, out)
        if name in _BOXES:
            return self.box(name, after, end, out)
        if name in ("textsuperscript", "textsubscript"):
            raw = self.raw_argument(after, end)
            if raw is None:
                return after
            table = _SUPERSCRIPTS if name == "textsuperscript" else _SUBSCRIPTS
            if raw[0].strip() and all(c in table for c in raw[0].strip()):
                out.append(raw[0].strip().translate(str.maketrans(table)))  # 1\textsuperscript{er} -> 1ᵉʳ
                return raw[1]
            return self.unknown(token.group(), line, after, end, out)
        if name in ("SI", "qty", "si", "unit", "ang"):
            optional = read_optional(self.text, after, end)
            stop, args = optional[2] if optional is not None else after, []
            for _ in range(2 if name in ("SI", "qty") else 1):
                group = read_group(self.text, stop, end)
                if group is None:
                    break
                args.append(self.text[group[0]:group[1]])
                stop = group[2]
            converted = siunitx_tex(name, args) if len(args) == (2 if name in ("SI", "qty") else 1) else None
            if converted is None:
                return self.unknown(token.group(), line, after, end, out)
            out.append(self.slot(f"${converted}$", "m"))
            return stop
        if name in _CHEMISTRY:
            raw = self.raw_argument(after, end)
            if raw is None:
                return after
            out.append(self.slot(f"${token.group()}{{{raw[0]}}}$", "m"))
            return raw[1]
        return self.unknown(token.group(), line, after, end, out)

    def image(self, name: str, line: int) -> str:
        """`![alt](images/<file>)` for an image of the exam (copied into the deck), or a placeholder."""
        image = load_image(self.ctx, name, line)
        if image is None:
            self.ctx.met.missing_images.append(name)
            return f"*[image not imported: {_escape_inline(name)}]*"
        self.ctx.met.images.append(image.name)
        alt = re.sub(r"[\[\]\\`*_]", " ", Path(name).stem).strip() or "image"
        return f"![{alt}](images/{image.name})"

    def box(self, name: str, after: int, end: int, out: list[str]) -> int:
        """`\\scalebox{0.5}{X}`, `\\resizebox{w}{h}{X}`...: X as if it stood alone."""
        if name in ("resizebox", "rotatebox") and self.text.startswith("*", after):
            after += 1
        optional = read_optional(self.text, after, end)
        i = optional[2] if optional is not None and self.text[after:optional[0] - 1].strip() == "" else after
        for _ in range(_BOXES[name]):
            group = read_group(self.text, i, end)
            if group is None:
                return i
            i = group[2]
            if name == "raisebox":  # \raisebox{lift}[height][depth]{X}
                for _ in range(2):
                    extra = read_optional(self.text, i, end)
                    if extra is not None and self.text[i:extra[0] - 1].strip() == "":
                        i = extra[2]
        argument = self.argument(i, end)
        if argument is None:
            return i
        out.append(argument[0])
        return argument[1]

    def verbatim_block(self, after: int, end: int, out: list[str]) -> int:
        group = read_group(self.text, after, end)
        if group is None:
            return after
        verbatim = self.ctx.verbatims[int(self.text[group[0]:group[1]])]
        if verbatim.env in ("SaveVerbatim", "comment", "filecontents", "filecontents*"):
            return group[2]  # shown where \UseVerbatim is, or never
        language = ""
        if verbatim.env == "minted":
            name = re.search(r"\{([^{}]*)\}", verbatim.arguments)
            language = name.group(1) if name else ""
        elif verbatim.env == "lstlisting":
            option = re.search(r"language\s*=\s*(?:\[[^\]]*\])?\s*([A-Za-z0-9+#-]+)", verbatim.arguments)
            language = option.group(1) if option else ""
        out.append(self.slot(_code_block(verbatim.body, language), "c"))
        return group[2]

    def use_verbatim(self, name: str, after: int, end: int, out: list[str]) -> int:
        optional = read_optional(self.text, after, end)
        raw = self.raw_argument(optional[2] if optional else after, end)
        if raw is None:
            return after
        saved = self.ctx.saved_verbatim.get(raw[0].strip())
        if saved is None:
            self.ctx.error(self.line_of(after), f"\\{name}{{{raw[0].strip()}}}: no SaveVerbatim of that name in the exam")
            return raw[1]
        out.append(self.slot(_code_block(saved.body, ""), "c"))
        return raw[1]

    def code_file(self, name: str, line: int, after: int, end: int, out: list[str]) -> int:
        """`\\lstinputlisting[language=C]{prog.c}`: the file's text as a code block."""
        optional = read_optional(self.text, after, end)
        i = optional[2] if optional is not None else after
        language = ""
        if optional is not None:
            option = re.search(r"language\s*=\s*(?:\[[^\]]*\])?\s*([A-Za-z0-9+#-]+)", self.text[optional[0]:optional[1]])
            language = option.group(1) if option else ""
        for _ in range(_CODE_FILES[name]):
            group = read_group(self.text, i, end)
            if group is None:
                return i
            language, i = self.text[group[0]:group[1]].strip(), group[2]
        raw = self.raw_argument(i, end)
        if raw is None:
            return i
        found = find_exam_file(self.ctx, raw[0].strip(), ("",))
        if isinstance(found, str):
            self.ctx.error(line, f"\\{name}{{{raw[0].strip()}}}: {found}")
            return raw[1]
        try:
            code = found.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.ctx.error(line, f"\\{name}{{{raw[0].strip()}}}: cannot read it as UTF-8 text ({exc})")
            return raw[1]
        if language == "" and found.suffix:
            language = {".py": "python", ".c": "c", ".java": "java", ".js": "javascript", ".sh": "bash",
                        ".cpp": "cpp", ".r": "r", ".m": "matlab", ".sql": "sql"}.get(found.suffix.lower(), "")
        out.append(self.slot(_code_block(code, language), "c"))
        return raw[1]

    def accent(self, name: str, after: int, end: int, out: list[str]) -> int:
        group = read_group(self.text, after, end)
        if group is not None:
            base, stop = self.text[group[0]:group[1]].strip(), group[2]
        else:
            j = skip_blanks(self.text, after, end) if name.isalpha() else after
            base, stop = self.text[j:j + 1], j + 1
        if base in ("\\i", "\\j"):
            base = base[1]
        if len(base) != 1 or not base.isalpha():
            out.append(self.slot("\\" + name))  # e.g. a bare `\'` : keep it visible
            return after
        out.append(unicodedata.normalize("NFC", base + _ACCENTS[name]))
        return stop

    def code(self, name: str, after: int, end: int, out: list[str]) -> int:
        """`\\texttt{...}` (as typeset: `\\%` is %, `\\\\` a line end), `\\verb|...|`, `\\lstinline`,
        `\\mintinline{lang}{...}`: inline code, or a code block when it spans lines."""
        if name in ("lstinline", "Verb"):
            optional = read_optional(self.text, after, end)
            after = optional[2] if optional is not None else after
        if name == "mintinline":
            language = read_group(self.text, after, end)
            after = language[2] if language is not None else after
        if name != "texttt" and after < end and self.text[after] != "{":
            delimiter = self.text[after]
            close = self.text.find(delimiter, after + 1, end)
            if close < 0:
                return after
            raw, stop = self.text[after + 1:close], close + 1
        else:
            argument = self.raw_argument(after, end)
            if argument is None:
                return after
            raw, stop = (alltt_text(argument[0]) if name == "texttt" else argument[0]), argument[1]
        if "\n" in raw.strip("\n"):
            out.append(self.slot(_code_block(raw, ""), "c"))
        else:
            out.append(self.slot(_code_span(raw.strip("\n"))))
        return stop

    def environment(self, i: int, after: int, end: int, out: list[str]) -> int:
        name_group = read_group(self.text, after, end)
        if name_group is None:
            return after
        name = self.text[name_group[0]:name_group[1]].strip()
        body_start = name_group[2]
        found = find_environment_end(self.text, name, body_start, end)
        if found is None:  # reported by check_structure
            return end
        body_end, stop = found
        if name in _MATH_ENVS:
            inner = textwrap.dedent(self.text[body_start:body_end].strip("\n")).strip()
            wrapper = _MATH_ENVS[name]
            tex = f"\\begin{{{wrapper}}}\n{inner}\n\\end{{{wrapper}}}" if wrapper else inner
            out.append(self.slot(math_to_markdown(tex, True, self.ctx.macros, self.ctx), "d"))
        elif name == "math":
            out.append(self.slot(math_to_markdown(self.text[body_start:body_end], False, self.ctx.macros, self.ctx), "m"))
        elif name in _LISTS:
            options = read_optional(self.text, body_start, body_end)  # enumitem: [label=(\alph*)]
            start = options[2] if options and self.text[body_start:options[0] - 1].strip() == "" else body_start
            out.append(self.list_items(name, start, body_end))
        elif name in _TABLES and (table := self.table(name, body_start, body_end)) is not None:
            out.append(self.slot(table, "c"))
        elif name in _UNWRAPPED_ENVS:
            start = self.skip_arguments(body_start, body_end, _UNWRAPPED_ENVS[name])
            out.append("\n\n" + self.convert(start, body_end) + "\n\n")
        elif name == "alltt":
            out.append(self.slot(_code_block(alltt_text(self.text[body_start:body_end]), ""), "c"))
        elif name in COMPUTED_ENVS:
            self.ctx.met.computed.append(f"\\begin{{{name}}}")
            out.append(self.slot(_code_block(self.text[body_start:body_end], ""), "c"))
        else:
            if name in PICTURE_ENVS:
                self.ctx.met.pictures.append(name)
            self.ctx.warn(self.line_of(i), f"unknown LaTeX environment {name!r} kept verbatim as a code block")
            raw = textwrap.dedent(self.text[i:stop])
            out.append(self.slot("\n\n```latex\n" + raw.strip("\n") + "\n```\n\n", "c"))
        return stop

    def table(self, name: str, start: int, end: int) -> str | None:
        """A simple `tabular` as a Markdown table (its first row the header); None when it has merged
        cells, paragraphs or a `|` in a cell (Markdown would split it), so it is kept as source."""
        i = start
        for _ in range(_TABLES[name]):
            optional = read_optional(self.text, i, end)
            if optional is not None and self.text[i:optional[0] - 1].strip() == "":
                i = optional[2]
            group = read_group(self.text, i, end)
            if group is None:
                return None
            i = group[2]
        rows: list[list[tuple[int, int]]] = [[]]
        cell_start, depth, k = i, 0, i
        while k < end:
            c = self.text[k]
            if c == "\\" and self.text.startswith("\\\\", k) and depth == 0:
                rows[-1].append((cell_start, k))
                k += 2
                optional = read_optional(self.text, k, end)  # \\[2pt]
                if optional is not None and self.text[k:optional[0] - 1].strip() == "":
                    k = optional[2]
                rows.append([])
                cell_start = k
                continue
            if c == "\\":
                k += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            elif c == "&" and depth == 0:
                rows[-1].append((cell_start, k))
                cell_start = k + 1
            k += 1
        rows[-1].append((cell_start, end))
        cells: list[list[str]] = []
        for row in rows:
            raw = [self.text[a:b] for a, b in row]
            if any(re.search(r"\\(?:multicolumn|multirow|begin)\b", r) for r in raw):
                return None
            converted = [self.finish_cell(a, b) for a, b in row]
            if all(not c for c in converted):
                continue
            if any("\n" in c or "|" in c for c in converted):
                return None
            cells.append(converted)
        if not cells:
            return None
        width = max(len(r) for r in cells)
        cells = [r + [""] * (width - len(r)) for r in cells]
        lines = ["| " + " | ".join(r) + " |" for r in cells]
        lines.insert(1, "|" + "---|" * width)
        return "\n\n" + "\n".join(lines) + "\n\n"

    def finish_cell(self, start: int, end: int) -> str:
        """One table cell as finished inline Markdown (rules like \\hline dropped)."""
        cell = _Converter(self.text, self.ctx, self.line_of, self.skip, self.depth)
        return cell.finish(cell.convert(start, end)).strip()

    def list_items(self, name: str, start: int, end: int) -> str:
        self.list_depth += 1
        body = self.convert(start, end)
        self.list_depth -= 1
        if name == "enumerate":
            counter = iter(range(1, 1000))
            indent = "  " * self.list_depth
            body = re.sub(
                r"\x00l(\d+)\x00",
                lambda m: self.slot(f"{indent}{next(counter)}. ", "l")
                if self.slots[int(m.group(1)) - 1] == f"{indent}- " else m.group(),
                body,
            )
        return "\n\n" + body.strip() + "\n\n"

    def user_macro(self, name: str, after: int, end: int, out: list[str]) -> int:
        macro = self.ctx.macros[name]
        args, stop = _macro_arguments(self.text[:end], after, macro)
        if args is None:
            return after
        body = macro.body
        for k, arg in enumerate(args, start=1):
            body = body.replace(f"#{k}", arg)
        line = self.line_of(after)
        inner = _Converter(body, self.ctx, lambda _offset: line, [], self.depth + 1)
        inner.slots = self.slots  # one slot table, so markers stay unique
        out.append(inner.convert(0, len(body)))
        return stop

    def unknown(self, raw: str, line: int, after: int, end: int, out: list[str]) -> int:
        """Keep `\\name[opt]{arg}` exactly as written, as code, and say so. AMC's own commands (`\\AMC...`)
        are layout or grading, never text: dropped with their arguments, and said so."""
        start = after - len(raw)
        if raw.startswith("\\AMC"):
            self.ctx.warn(line, f"AMC command {raw} (layout or grading) left out of the card")
            return self.skip_arguments(after, end, 9)
        self.ctx.warn(line, f"unknown LaTeX macro {raw} kept verbatim")
        optional = read_optional(self.text, after, end)
        if optional is not None and self.text[after:optional[0] - 1].strip() == "":
            after = optional[2]
        while after < end and self.text[after] == "{":
            close = match_brace(self.text, after)
            if close < 0 or close >= end:
                break
            after = close + 1
        out.append(self.slot(_code_span(self.text[start:after])))
        return after

    def finish(self, markdown: str) -> str:
        """Tidy lines (no indentation, no accidental list or heading), then put the slots back."""
        markdown = re.sub(r"[ \t]+", " ", markdown)
        markdown = re.sub(r" ?(\x00[dc]\d+\x00) ?", r"\1", markdown)  # blocks stand on their own lines
        lines = [_escape_line_start(line.strip()) for line in markdown.split("\n")]
        markdown = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
        markdown = re.sub(r"(\d)(\x00m)", r"\1 \2", markdown)
        markdown = re.sub(r"(\x00m\d+\x00)(\d)", r"\1 \2", markdown)
        markdown = re.sub(r"\s*" + re.escape(_BREAK) + r"\s*(?=\n\n|$)", "", markdown)
        markdown = markdown.replace(_BREAK, "\\")
        for _ in range(3):  # slots nest at most through user macros
            markdown = _SLOT.sub(lambda m: self.slots[int(m.group(2)) - 1], markdown)
        markdown = re.sub(r"[ \t]+\n", "\n", markdown)
        return re.sub(r"\n{3,}", "\n\n", markdown).strip()


def _wrap(markdown: str, marker: str) -> str:
    """`*text*` with the spaces outside the markers, as Markdown needs."""
    if not marker:
        return markdown
    core = markdown.strip()
    if not core:
        return markdown
    lead = markdown[: len(markdown) - len(markdown.lstrip())]
    trail = markdown[len(markdown.rstrip()):]
    return f"{lead}{marker}{core}{marker}{trail}"


def _find_unescaped(text: str, needle: str, start: int, end: int) -> int:
    i = start
    while i < end:
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def _eat_space_after_word(text: str, after: int, end: int, name: str) -> int:
    """As TeX reads it: a control word swallows the blanks after it (one line end included); `{}` ends it."""
    if not name[:1].isalpha():
        return after
    if text.startswith("{}", after):
        return after + 2
    return _skip_line_end(text, after, end)


def _skip_line_end(text: str, i: int, end: int) -> int:
    """Blanks, then at most one line end: a blank line after stays a paragraph break."""
    while i < end and text[i] in " \t":
        i += 1
    if i < end and text[i] == "\n":
        i += 1
        while i < end and text[i] in " \t":
            i += 1
    return i


def _code_span(raw: str) -> str:
    """Inline code showing `raw` exactly (Markdown: a fence longer than any run of backticks inside)."""
    raw = re.sub(r"\s*\n\s*", " ", raw)
    longest = max((len(run) for run in re.findall(r"`+", raw)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if raw.startswith("`") or raw.endswith("`") else ""
    return f"{fence}{pad}{raw}{pad}{fence}"


def _code_block(code: str, language: str) -> str:
    """A fenced code block showing `code` as printed (common indentation removed)."""
    code = textwrap.dedent(code.expandtabs(4).strip("\n")).rstrip()
    longest = max((len(run) for run in re.findall(r"^\s*(`{3,})", code, re.MULTILINE)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"\n\n{fence}{language.lower()}\n{code}\n{fence}\n\n"


_ALLTT_TEXT = {"%": "%", "#": "#", "$": "$", "&": "&", "_": "_", "{": "{", "}": "}", " ": " ", "\\": "\n",
               "textbackslash": "\\", "^": "^", "~": "~", "textasciicircum": "^", "textasciitilde": "~",
               "textless": "<", "textgreater": ">", "textbar": "|", "textquotesingle": "'", "textasciigrave": "`",
               "ldots": "...", "dots": "...", "-": "", "/": "", "textunderscore": "_", "newline": "\n", "par": "\n"}
_ALLTT_DROP_ARGS = frozenset({"texttt", "textbf", "textit", "emph", "textsl", "textrm", "textsf", "underline", "textup",
                              "textmd", "textnormal", "mbox", "hbox", "textcolor", "colorbox"})


def alltt_text(body: str) -> str:
    """What an `alltt` body prints: spaces and line ends kept; `\\%`, `\\#`, `\\{` are the characters,
    `\\\\` a line end, `\\texttt{x}` (and other font changes) just x, braces group without printing."""
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == "\\":
            token = _MACRO.match(body, i)
            name = token.group(1) if token else ""
            after = token.end() if token else i + 1
            if name == "\\":
                optional = read_optional(body, after)
                after = optional[2] if optional and body[after:optional[0] - 1].strip(" ") == "" else after
                if after < n and body[after] == "\n":
                    after += 1  # `\\` at a line end is that line end
                out.append("\n")
            elif name in _ALLTT_TEXT:
                out.append(_ALLTT_TEXT[name])
                if body.startswith("{}", after):
                    after += 2
            elif name in ("hspace", "hspace*", "quad", "qquad", "phantom", "hphantom"):
                group = read_group(body, after + (name == "hspace" and body.startswith("*", after)))
                if name in ("quad", "qquad"):
                    out.append(" " * (2 if name == "quad" else 4))
                elif group is not None:
                    out.append(" " * (_tt_width(body[group[0]:group[1]]) if name.startswith("hspace")
                                      else len(alltt_text(body[group[0]:group[1]]))))
                    after = group[2]
            elif name in _ALLTT_DROP_ARGS:
                if name in ("textcolor", "colorbox"):
                    group = read_group(body, after)
                    after = group[2] if group else after
            elif name in _SYMBOLS and name.isalpha():
                out.append(_SYMBOLS[name].replace("\\", ""))
                if body.startswith("{}", after):
                    after += 2
            else:
                out.append(body[i:after])
            i = after
        elif c in "{}":
            i += 1
        elif c == "~":
            out.append(" ")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _tt_width(length: str) -> int:
    """How many typewriter characters a TeX length spans (a character is 0.525em; 1em is 10pt)."""
    match = re.fullmatch(r"\s*(-?[\d.]+)\s*(em|ex|pt|cm|mm|in)\s*", length)
    if match is None:
        return 1
    points = float(match.group(1)) * {"em": 10, "ex": 4.3, "pt": 1, "cm": 28.45, "mm": 2.845, "in": 72.27}[match.group(2)]
    return max(0, round(points / 5.25))


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")


def load_image(ctx: Context, name: str, line: int) -> Image | None:
    """The image `\\includegraphics{name}` shows, registered in `ctx.images` (PDF: first page as PNG).

    Looks for `name` as given, then with .pdf, .png, .jpg, .jpeg (LaTeX's order), relative to the exam
    and its `\\graphicspath`. None, with a located warning, when it is missing or cannot be converted.
    """
    found = find_exam_file(ctx, name, ("", ".pdf", ".png", ".jpg", ".jpeg", ".PDF", ".PNG", ".JPG", ".JPEG"))
    if isinstance(found, str):
        ctx.warn(line, f"image {name!r} not imported: {found}; the card is a draft with a placeholder")
        return None
    for image in ctx.images.values():
        if image.source == str(found):
            return image
    suffix = found.suffix.lower()
    data = found.read_bytes()
    if suffix == ".pdf":
        converted = pdf_to_png(data)
        if isinstance(converted, str):
            ctx.warn(line, f"image {name!r} ({found.name}) not imported: {converted}; the card is a draft with a placeholder")
            return None
        data, suffix = converted, ".png"
    elif suffix not in IMAGE_EXTENSIONS:
        ctx.warn(line, f"image {name!r} ({found.name}) not imported: Anki shows PNG, JPEG, GIF, SVG or WebP, not {suffix}; "
                       "the card is a draft with a placeholder")
        return None
    from .model import slugify

    stem = slugify(found.stem) or "image"
    file_name, n = f"{stem}{'.jpg' if suffix == '.jpeg' else suffix}", 2
    while file_name in ctx.images:
        file_name, n = f"{stem}-{n}{suffix}", n + 1
    image = Image(file_name, data, str(found))
    ctx.images[file_name] = image
    return image


def pdf_to_png(data: bytes, dpi: int = 150) -> bytes | str:
    """The first page of a PDF as PNG bytes (pypdfium2, PDFium's renderer), or why it cannot be."""
    try:
        import pypdfium2
    except ImportError:
        return "converting a PDF image needs pypdfium2 (pip install pypdfium2), or convert it to PNG yourself"
    import io

    try:
        pdf = pypdfium2.PdfDocument(data)
        page = pdf[0]
        bitmap = page.render(scale=dpi / 72)
        buffer = io.BytesIO()
        bitmap.to_pil().save(buffer, format="PNG", optimize=True)
        pdf.close()
    except Exception as exc:  # pdfium raises its own errors for damaged files
        return f"the PDF could not be rendered ({exc})"
    return buffer.getvalue()


def find_exam_file(ctx: Context, name: str, extensions: tuple[str, ...]) -> Path | str:
    """A file the exam refers to, relative to its folder (and `\\graphicspath`); a message if none fits."""
    if ctx.base_dir is None:
        return f"the exam was given as text, so {name!r} cannot be looked up"
    base = ctx.base_dir.resolve()
    tried = []
    for folder in ctx.graphics_path:
        for extension in extensions:
            candidate = (base / folder / (name + extension)).resolve()
            tried.append(str(Path(folder) / (name + extension)))
            if not candidate.is_relative_to(base):
                return f"{name!r} is outside the exam's folder {base}: copy it into the folder"
            if candidate.is_file():
                return candidate
    shown = tried[:1] + ([f"with {'/'.join(e for e in extensions[1:] if e.islower())}"] if len(extensions) > 1 else [])
    where = " and ".join(repr(f) for f in ctx.graphics_path if f)
    return f"file not found in the exam's folder {base}{' or ' + where if where else ''} (tried {', '.join(shown)})"


def _unescape_code(raw: str) -> str:
    raw = raw.replace("\\textbackslash{}", "\\").replace("\\textbackslash", "\\")
    return re.sub(r"\\([_%&#${}])", r"\1", raw)


def _escape_inline(text: str) -> str:
    return re.sub(r"([\\`*_\[\]$])", r"\\\1", text)


_LINE_START = re.compile(r"^(?:([-+>]|#{1,6})(?=\s|$)|(\d{1,9})([.)])(?=\s|$)|(=+|-+)$)")


def _escape_line_start(line: str) -> str:
    """A line that Markdown would read as a list item, quote or heading is escaped to stay text."""
    match = _LINE_START.match(line)
    if match is None:
        return line
    if match.group(2):
        return f"{match.group(2)}\\{line[len(match.group(2)):]}"
    return "\\" + line
