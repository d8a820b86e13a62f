"""LaTeX text to our Markdown: math kept as TeX in `$...$` / `$$...$$`, text macros to Markdown.

Not a TeX engine: it knows the macros exams use (emphasis, accents, quotes, lists, math
environments, `\\newcommand` shorthands) and keeps anything else verbatim, with a warning that
names the line. Offsets index the source text, so every message can say `path:line`.
"""

from __future__ import annotations

import bisect
import re
import textwrap
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import Problem
from ..tex import match_brace
from .model import ImportWarning

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


@dataclass(frozen=True)
class TexDocument:
    """LaTeX source with comments blanked out (same length, so offsets and lines stay true)."""

    path: str
    text: str
    newlines: tuple[int, ...]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.newlines, offset - 1) + 1


@dataclass
class Context:
    """What a conversion reports to: warnings and errors, each located."""

    path: str
    macros: dict[str, Macro] = field(default_factory=dict)
    warnings: list[ImportWarning] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def warn(self, line: int, message: str) -> None:
        warning = ImportWarning(self.path, line, message)
        if warning not in self.warnings:
            self.warnings.append(warning)

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, "latex", message))


def read_document(text: str, path: str) -> TexDocument:
    """Blank out `%` comments and index the lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    stripped = strip_comments(text)
    return TexDocument(path, stripped, tuple(i for i, c in enumerate(stripped) if c == "\n"))


def strip_comments(text: str) -> str:
    """Replace each `%` comment by spaces, keeping `\\%` and every newline where it was."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == "%":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out[i:end] = " " * (end - i)
            i = end
        else:
            i += 1
    return "".join(out)


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
                problems.append(Problem(doc.path, doc.line(i), "latex", "unbalanced braces: '}' closes nothing"))
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
            Problem(doc.path, doc.line(offset), "latex", f"\\begin{{{name}}} is never ended (missing \\end{{{name}}})")
        )
    for offset in braces:
        problems.append(Problem(doc.path, doc.line(offset), "latex", "unbalanced braces: '{' is never closed"))
    return problems


def _close_environment(
    doc: TexDocument, name: str, offset: int, envs: list[tuple[str, int, int]], braces: list[int], problems: list[Problem]
) -> None:
    if not any(e[0] == name for e in envs):
        problems.append(Problem(doc.path, doc.line(offset), "latex", f"\\end{{{name}}} without \\begin{{{name}}}"))
        return
    while envs[-1][0] != name:
        other, other_offset, _ = envs.pop()
        problems.append(Problem(
            doc.path, doc.line(other_offset), "latex",
            f"\\begin{{{other}}} is never ended (\\end{{{name}}} at line {doc.line(offset)} comes first)",
        ))
    depth = envs.pop()[2]
    if len(braces) > depth:
        # A brace opened inside the environment is still open at its \end: report the brace.
        problems.append(Problem(
            doc.path, doc.line(braces[depth]), "latex",
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


def collect_macros(doc: TexDocument, ctx: Context) -> dict[str, Macro]:
    """`\\newcommand{\\R}{\\mathbb{R}}`-style shorthands, so formulas can be written out in full."""
    macros: dict[str, Macro] = {}
    text = doc.text
    for token in macro_tokens(text, 0, len(text)):
        if token.group(1) not in _DEFINITIONS:
            continue
        i = token.end()
        name_group = read_group(text, i)
        if name_group is not None:
            name = text[name_group[0]:name_group[1]].strip()
            i = name_group[2]
        else:
            name_match = _MACRO.match(text, skip_blanks(text, i))
            if name_match is None:
                continue
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
            continue
        macros[name[1:]] = Macro(nargs, default, text[body[0]:body[1]])
    return macros


def expand_macros(tex: str, macros: dict[str, Macro], depth: int = 0) -> str:
    """Replace uses of `\\newcommand` shorthands in a formula by their definition."""
    if not macros or depth > 8:
        return tex
    out: list[str] = []
    i = 0
    changed = False
    for token in macro_tokens(tex, 0, len(tex)):
        macro = macros.get(token.group(1))
        if macro is None:
            continue
        args, after = _macro_arguments(tex, token.end(), macro)
        if args is None:
            continue
        body = macro.body
        for k, arg in enumerate(args, start=1):
            body = body.replace(f"#{k}", arg)
        # A body ending in a control word (`\\alpha`) would glue to a letter after it: keep a space.
        glue = after < len(tex) and tex[after].isalpha() and re.search(r"\\[A-Za-z]+$", body)
        out.append(tex[i:token.start()] + body + (" " if glue else ""))
        i = after
        changed = True
    if not changed:
        return tex
    out.append(tex[i:])
    return expand_macros("".join(out), macros, depth + 1)


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
    "textbullet": "•", "checkmark": "✓", "slash": "/", "%": "%", "&": "&", "#": "\\#", "_": "\\_", "$": "\\$",
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
}
_WRAPPERS = {
    "emph": "*", "textit": "*", "textsl": "*", "textbf": "**", "underline": "", "uline": "", "textsc": "",
    "textrm": "", "textsf": "", "textup": "", "textnormal": "", "textmd": "", "mbox": "", "text": "", "fbox": "",
    "hbox": "", "makebox": "", "framebox": "",
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
_STARRED = frozenset({"\\", "vspace", "hspace", "section", "subsection", "subsubsection", "paragraph"})
_LISTS = {"itemize": "-", "enumerate": "1.", "description": "-"}
_LINE_BREAKS = frozenset({"\\", "newline", "linebreak"})


def latex_to_markdown(
    text: str, start: int, end: int, ctx: Context, line_of: Callable[[int], int], skip: Iterable[tuple[int, int]] = ()
) -> str:
    """Markdown for text[start:end], leaving out the `skip` spans (e.g. a question's choices)."""
    converter = _Converter(text, ctx, line_of, sorted(skip))
    return converter.finish(converter.convert(start, end))


def math_to_markdown(tex: str, display: bool, macros: dict[str, Macro]) -> str:
    """A formula in our delimiters: shorthands expanded, numbering and labels dropped."""
    tex = expand_macros(tex, macros)
    tex = re.sub(r"\\label\s*\{[^{}]*\}|\\nonumber\b|\\notag\b", "", tex)
    if display:
        lines = [line.rstrip() for line in textwrap.dedent(tex.strip("\n")).split("\n") if line.strip()]
        return "\n\n$$\n" + "\n".join(lines) + "\n$$\n\n"
    return "$" + re.sub(r"\s*\n\s*", " ", tex) + "$"


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
        out.append(self.slot(math_to_markdown(tex, display, self.ctx.macros), "d" if display else "m"))
        return close + len(opener)

    def delimited_math(self, i: int, after: int, end: int, closer: str, display: bool, out: list[str]) -> int:
        close = self.text.find(closer, after, end)
        if close < 0:
            self.ctx.error(self.line_of(i), f"unbalanced math: {self.text[i:after]} is never closed by {closer}")
            return end
        tex = self.text[after:close]
        out.append(self.slot(math_to_markdown(tex, display, self.ctx.macros), "d" if display else "m"))
        return close + len(closer)

    def group(self, i: int, end: int, out: list[str]) -> int:
        close = match_brace(self.text, i)
        if close < 0 or close >= end:
            return i + 1
        inner = skip_blanks(self.text, i + 1, close)
        token = _MACRO.match(self.text, inner, close)
        wrap = ""
        start = i + 1
        if token is not None and token.group(1) in _DECLARATIONS:
            wrap, start = _DECLARATIONS[token.group(1)], token.end()
        out.append(_wrap(self.convert(start, close), wrap))
        return close + 1

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
        if name in ("texttt", "verb"):
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
            image = raw[0].strip()
            self.ctx.warn(line, f"image {image!r} not imported: cards can only show generated figures "
                                "(figure:NAME); a placeholder was left in the text")
            out.append(self.slot(f"*[image not imported: {_escape_inline(image)}]*"))
            return raw[1]
        if name == "item":
            optional = read_optional(self.text, after, end)
            term = self.convert(optional[0], optional[1]).strip() if optional else ""
            marker = self.slot("  " * max(self.list_depth - 1, 0) + "- ", "l")
            out.append("\n" + marker + (f"**{term}** " if term else ""))
            return _eat_space_after_word(self.text, optional[2] if optional else after, end, name)
        if name in self.ctx.macros and self.depth < 8:
            return self.user_macro(name, after, end, out)
        return self.unknown(token.group(), line, after, end, out)

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
        if name == "verb":
            if after >= end:
                return after
            delimiter = self.text[after]
            close = self.text.find(delimiter, after + 1, end)
            if close < 0:
                return after
            raw, stop = self.text[after + 1:close], close + 1
        else:
            argument = self.raw_argument(after, end)
            if argument is None:
                return after
            raw, stop = _unescape_code(argument[0]), argument[1]
        fence = "``" if "`" in raw else "`"
        pad = " " if raw.startswith("`") or raw.endswith("`") else ""
        out.append(self.slot(f"{fence}{pad}{raw}{pad}{fence}"))
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
            out.append(self.slot(math_to_markdown(tex, True, self.ctx.macros), "d"))
        elif name == "math":
            out.append(self.slot(math_to_markdown(self.text[body_start:body_end], False, self.ctx.macros), "m"))
        elif name in _LISTS:
            out.append(self.list_items(name, body_start, body_end))
        elif name in _UNWRAPPED_ENVS:
            start = self.skip_arguments(body_start, body_end, _UNWRAPPED_ENVS[name])
            out.append("\n\n" + self.convert(start, body_end) + "\n\n")
        elif name == "verbatim":
            out.append(self.slot("\n\n```\n" + self.text[body_start:body_end].strip("\n") + "\n```\n\n", "c"))
        else:
            self.ctx.warn(self.line_of(i), f"unknown LaTeX environment {name!r} kept verbatim as a code block")
            raw = textwrap.dedent(self.text[i:stop])
            out.append(self.slot("\n\n```latex\n" + raw.strip("\n") + "\n```\n\n", "c"))
        return stop

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
        """Keep `\\name[opt]{arg}` as written (arguments still converted), and say so."""
        self.ctx.warn(line, f"unknown LaTeX macro {raw} kept verbatim")
        parts = [self.slot(raw)]
        optional = read_optional(self.text, after, end)
        if optional is not None and self.text[after:optional[0] - 1].strip() == "":
            parts.append(self.slot(self.text[optional[0] - 1:optional[2]]))
            after = optional[2]
        while after < end and self.text[after] == "{":
            close = match_brace(self.text, after)
            if close < 0 or close >= end:
                break
            parts.append("{" + self.convert(after + 1, close) + "}")
            after = close + 1
        out.append("".join(parts))
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
