"""Formulas lifted out of a Markdown field before Markdown sees it, and put back after.

``lift_math`` replaces every formula of a text by a placeholder (private-use characters that no
Markdown rule reads), so that tables, emphasis, escapes, entities and HTML never reach TeX; the
Markdown renderers (``fastmd`` and markdown-it) see only the placeholders, and ``restore_math``
puts the formulas back into their HTML as MathJax's ``\\(...\\)`` / ``\\[...\\]``, HTML-escaped.
Both renderers thus agree on formulas by construction.

Which ``$`` opens a formula is Pandoc's rule (``tex_math_dollars``), with money kept as text:

- ``$...$`` is inline math when the opening ``$`` is followed by a non-space and the closing ``$``
  is preceded by a non-space and not followed by a digit; the formula holds no other ``$``.
- A ``$`` right after a digit never opens a formula (``5$``), and ``$5 or $10`` is text: a
  ``$`` followed by a digit that finds no closing ``$`` is money.
- A ``$`` followed by a space, or by punctuation with no closing ``$``, is a dollar sign.
- ``$$...$$`` is display math; it may span lines but not a blank line. Alone on its lines it
  is a display block (``<div class="math-display">``), else it is typeset in the line.
- ``\\(...\\)`` and ``\\[...\\]`` (Anki's own delimiters) are math too.
- ``\\$`` is a dollar sign; nothing inside code spans or fenced code is math.

What looks like a broken formula is a problem with its cause (a formula not closed, a closing
``$`` after a space or before a digit, spaces inside the dollars of TeX); an unclosed ``$$``,
``\\(`` or ``\\[`` never runs into the next paragraph.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import NamedTuple

from .fastmd import escape_html

__all__ = ["BLOCK", "INLINE", "PLACEHOLDER", "Lifted", "MathSpan", "decode", "lift_math", "restore_math"]

INLINE, BLOCK, END = "\ue000", "\ue001", "\ue002"
_DIGIT0 = 0xE010
RESERVED = re.compile("[\ue000-\ue01f]")
PLACEHOLDER = re.compile("[\ue000\ue001]([\ue010-\ue019]+)\ue002")
# In rendered HTML: a code element or a tag with text in attributes (an image's alt text, a link's
# title: markdown-it writes no other), where a formula is shown as written, or a placeholder in
# text, where it is typeset.
_HTML_PART = re.compile("(<code[^>]*>.*?</code>|<(?:img|a) [^>]*>)|[\ue000\ue001]([\ue010-\ue019]+)\ue002", re.DOTALL)
_AS_WRITTEN = re.compile("<code[^>]*>.*?</code>|<(?:img|a) [^>]*>", re.DOTALL)
_NEXT = re.compile(r"[$`\\!]")
# A fence at the top level or in a list item (up to 3 spaces in). A fence this misses (in a quote,
# deeper in a list) is code all the same: a formula lifted from it comes back as written.
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_BLANK_LINE = re.compile(r"\n[ \t]*(?=\n|$)")
# What may precede a display block on its line: indentation, quote and list markers.
_CONTAINER_PREFIX = re.compile(r"[ \t]*(?:(?:>|[-+*][ \t]|\d{1,9}[.)][ \t])[ \t]*)*")
_BLOCK_START = re.compile(r"\n {0,3}(?:[-+*](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|>|#{1,6}(?:[ \t]|$)|```|~~~)", re.MULTILINE)
_ONE_LINE_BLOCK = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)| {0,3}\t| {4}", re.MULTILINE)
_TEX_LIKE = re.compile(r"\\[A-Za-z]|\^|\{")
_FORMULA_START = re.compile(r"[A-Za-z\\{(|]")
_IMAGE_WITH_SPACES = re.compile(r"!\[((?:[^\]\\\n]|\\.)*)\]\(([^()<>\n]*[ \t][^()<>\n]*)\)")
_TITLE = re.compile(r"""^(\S*)[ \t]+(?:"[^"]*"|'[^']*')[ \t]*$""")


class MathSpan(NamedTuple):
    """A formula of a text: as written (delimiters included), its TeX, and where it opens."""

    source: str
    tex: str  # between the delimiters; a display block's without surrounding whitespace
    display: bool
    line: int  # 0-based line of the text where the formula opens
    block: bool  # a display formula alone on its lines


class Lifted(NamedTuple):
    """A text with its formulas replaced by placeholders."""

    masked: str
    spans: tuple[MathSpan, ...]
    removed: tuple[tuple[int, int], ...]  # (masked line, newlines removed there): see ``source_line``
    problems: tuple[tuple[int, str], ...]  # (0-based line, message)

    def source_line(self, masked_line: int) -> int:
        """The 0-based line of the text for a 0-based line of ``masked``."""
        return masked_line + sum(count for at, count in self.removed if at < masked_line)


def _encode(index: int) -> str:
    return "".join(chr(_DIGIT0 + int(d)) for d in str(index))


_INLINE_MARKS = tuple(INLINE + _encode(i) + END for i in range(64))
_BLOCK_MARKS = tuple(BLOCK + _encode(i) + END for i in range(64))


def _escaped(text: str, pos: int) -> bool:
    """An odd number of backslashes right before `pos`."""
    count = 0
    while pos > 0 and text[pos - 1] == "\\":
        count += 1
        pos -= 1
    return count % 2 == 1


def lift_math(text: str) -> Lifted:
    """`text` with each formula replaced by a placeholder; see the module's rules."""
    if "$" not in text and "\\" not in text and "![" not in text:
        if RESERVED.search(text):
            return Lifted(text, (), (), ((text.count("\n", 0, RESERVED.search(text).start()), _RESERVED_MESSAGE),))
        return Lifted(text, (), (), ())
    return _lift_simple(text) or _Scanner(text).run()


# The usual formulas, found in one regex pass: `$$tex$$` without `$` inside, and `$tex$` by Pandoc's
# rule with no `$` inside (`\x` pairs are escapes, so an escaped `$` never closes).
_SIMPLE = re.compile(
    r"\$\$((?>[^$\\]*(?:\\.[^$\\]*)*))\$\$|(?<![\d\\$])\$(?![\s$])((?>[^$\\]*(?:\\.[^$\\]*)*))(?<!\s)\$(?![\d$])",
    re.DOTALL,
)
_SIMPLE_LEFT = re.compile(r"[$\\]|!\[")


def _lift_simple(text: str) -> Lifted | None:
    """What ``_Scanner`` gives, once rendered, for a text whose formulas ``_SIMPLE`` finds and whose
    other text holds no `$`, backslash, `![` or reserved character (so no escape, Anki delimiter,
    money or problem), and whose formulas hold no backtick or blank line (so no code span or
    paragraph crosses one); None for any other text. A formula inside code is lifted here (the
    scanner leaves it): it comes back as written, not as a formula (``restore_math``), the same HTML."""
    if RESERVED.search(text):
        return None
    fences = _fences(text)
    pieces = []
    spans: list[MathSpan] = []
    removed = []
    copied = 0
    line = 0
    removed_lines = 0
    for match in _SIMPLE.finditer(text):
        start, end = match.span()
        source = match.group()
        if "`" in source or (fences and any(start < f_end and f_start < end for f_start, f_end in fences)):
            return None  # a formula with a backtick, or in (or across) a fence: the scanner decides
        line += text.count("\n", copied, start)
        tex = match.group(2)
        block = False
        display = tex is None
        if display:
            tex = match.group(1)
            if not tex.strip():
                return None
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", end)
            block = _CONTAINER_PREFIX.fullmatch(text, line_start, start) is not None and not (
                text[end:] if line_end < 0 else text[end:line_end]).strip()
            if block:
                tex = tex.strip()
        index = len(spans)
        pieces.append(text[copied:start])
        pieces.append((_BLOCK_MARKS if block else _INLINE_MARKS)[index] if index < 64
                      else (BLOCK if block else INLINE) + _encode(index) + END)
        spans.append(MathSpan(source, tex, display, line, block))
        if "\n" in source:
            if _BLANK_LINE.search(source):
                return None
            newlines = source.count("\n")
            removed.append((line - removed_lines, newlines))
            removed_lines += newlines
            line += newlines
        copied = end
    pieces.append(text[copied:])
    masked = "".join(pieces)
    if _SIMPLE_LEFT.search(masked):
        return None
    return Lifted(masked, tuple(spans), tuple(removed), ())

_RESERVED_MESSAGE = "contains a private-use character (U+E000 to U+E01F) that examdeck reserves: remove it"


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pieces: list[str] = []
        self.spans: list[MathSpan] = []
        self.removed: list[tuple[int, int]] = []
        self.problems: list[tuple[int, str]] = []
        self.copied = 0  # text[:copied] is in pieces
        self.removed_lines = 0
        self.fences: list[tuple[int, int]] = []  # fenced code: [start, end) offsets
        self.barriers: list[int] = []  # offsets no formula crosses: blank lines, fences
        self._line_at = (0, 0)  # (offset, its line): lines are counted from the last one asked
        self._find_blocks()

    def _find_blocks(self) -> None:
        text = self.text
        barriers = [m.start() for m in _BLANK_LINE.finditer(text)]
        self.fences = _fences(text)
        barriers += [start for start, _ in self.fences]
        self.barriers = sorted(barriers)

    def line(self, pos: int) -> int:
        at, line = self._line_at
        if pos >= at:
            line += self.text.count("\n", at, pos)
        else:
            line = self.text.count("\n", 0, pos)
        self._line_at = (pos, line)
        return line

    def limit(self, pos: int) -> int:
        """Where the paragraph holding `pos` ends: no formula crosses it."""
        index = bisect_right(self.barriers, pos)
        return self.barriers[index] if index < len(self.barriers) else len(self.text)

    def fence_end(self, pos: int) -> int | None:
        if not self.fences:
            return None
        for start, end in self.fences:
            if start <= pos < end:
                return end
        return None

    def problem(self, pos: int, message: str) -> None:
        self.problems.append((self.line(pos), message))

    def run(self) -> Lifted:
        text = self.text
        reserved = RESERVED.search(text)
        if reserved:
            self.problem(reserved.start(), _RESERVED_MESSAGE)
            return Lifted(text, (), (), tuple(self.problems))
        pos = 0
        while True:
            match = _NEXT.search(text, pos)
            if match is None:
                break
            at = match.start()
            fence_end = self.fence_end(at)
            if fence_end is not None:
                pos = fence_end
                continue
            char = text[at]
            if char == "\\":
                pos = self._backslash(at)
            elif char == "`":
                pos = self._code_span(at)
            elif char == "!":
                pos = self._image(at)
            elif text.startswith("$$", at):
                pos = self._display(at)
            else:
                pos = self._inline(at)
        self.pieces.append(text[self.copied:])
        return Lifted("".join(self.pieces), tuple(self.spans), tuple(self.removed), tuple(self.problems))

    def _emit(self, start: int, end: int, tex: str, display: bool, block: bool) -> None:
        text = self.text
        line = self.line(start)
        self.pieces.append(text[self.copied:start])
        index = len(self.spans)
        marks = _BLOCK_MARKS if block else _INLINE_MARKS
        self.pieces.append(marks[index] if index < 64 else (BLOCK if block else INLINE) + _encode(index) + END)
        self.spans.append(MathSpan(text[start:end], tex, display, line, block))
        newlines = text.count("\n", start, end)
        if newlines:
            self.removed.append((line - self.removed_lines, newlines))
            self.removed_lines += newlines
        self.copied = end

    def _is_block(self, start: int, end: int) -> bool:
        text = self.text
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        rest = text[end:] if line_end < 0 else text[end:line_end]
        return _CONTAINER_PREFIX.fullmatch(text, line_start, start) is not None and not rest.strip()

    def _backslash(self, at: int) -> int:
        text = self.text
        opener = text[at + 1 : at + 2]
        if opener == "\\" and text[at + 2 : at + 3] in ("(", "["):
            # `\\(` shows as `\(`, which Anki's MathJax would typeset without examdeck checking it.
            self.problem(at, f"\\\\{text[at + 2]} shows as \\{text[at + 2]}, which Anki reads as the start of a formula: "
                         f"write \\{text[at + 2]}...\\{')' if text[at + 2] == '(' else ']'} (one backslash) for math, "
                         "or $...$")
            return at + 3
        if opener not in ("(", "["):
            return at + 2  # an escaped character (`\$`, `\\`, `` \` ``): never a delimiter
        closer = "\\)" if opener == "(" else "\\]"
        limit = self.limit(at)
        pos = at + 2
        while True:
            found = text.find("\\", pos, limit)
            if found < 0 or found + 1 >= limit:
                name = "\\(" if opener == "(" else "\\["
                self.problem(at, f"{name} opens a formula (Anki's delimiter) that is not closed in this paragraph: close it "
                             f"with {closer}, or write {opener} alone (no backslash) for the bracket itself")
                return at + 2
            if text.startswith(closer, found):
                break
            pos = found + 2
        end = found + 2
        tex = text[at + 2 : found]
        display = opener == "["
        if not tex.strip():
            self.problem(at, f"empty formula {text[at:end]}: write the TeX between the delimiters")
            return end
        block = display and self._is_block(at, end)
        self._emit(at, end, tex.strip() if block else tex, display, block)
        return end

    def _code_span(self, at: int) -> int:
        text = self.text
        run = at
        while run < len(text) and text[run] == "`":
            run += 1
        size = run - at
        # Within its paragraph, up to a line that opens a block (a list item, a quote, a heading, a
        # fence), which ends the paragraph; a formula in a span missed here comes back as written.
        line_start = text.rfind("\n", 0, at) + 1
        if size >= 3 and _CONTAINER_PREFIX.fullmatch(text, line_start, at):
            return run  # a fence opening in a list item or a quote: code, whose formulas come back as written
        limit = self.limit(at)
        block = _BLOCK_START.search(text, run, limit)
        if block is not None:
            limit = block.start()
        if _ONE_LINE_BLOCK.match(text, line_start):  # a heading, or a line of an indented code block
            line_end = text.find("\n", run)
            limit = min(limit, len(text) if line_end < 0 else line_end)
        search = run
        while True:
            found = text.find("`" * size, search, limit)
            if found < 0:
                return run  # no closing run: the backticks are text
            end = found + size
            if end < len(text) and text[end] == "`":  # a longer run: not the closing one
                while end < len(text) and text[end] == "`":
                    end += 1
                search = end
                continue
            return end

    def _image(self, at: int) -> int:
        """An image whose address has spaces, like `![d](Lecture 05.png)`: written as CommonMark wants it,
        `![d](<Lecture 05.png>)`; an address followed by a title (`"..."`) is left as it is."""
        text = self.text
        match = _IMAGE_WITH_SPACES.match(text, at)
        if match is None or _TITLE.match(match.group(2)):
            return at + 1
        address = match.group(2).strip()
        self.pieces.append(text[self.copied : match.start(2)])
        self.pieces.append(f"<{address}>)")
        self.copied = match.end()
        return match.end()

    def _display(self, at: int) -> int:
        text = self.text
        limit = self.limit(at)
        pos = at + 2
        while True:
            found = text.find("$$", pos, limit)
            if found < 0:
                self.problem(at, "$$ opens a display formula that is not closed before the end of the paragraph (a "
                             "display formula cannot hold a blank line): close it with $$, or write \\$\\$ for dollar signs")
                return at + 2
            if not _escaped(text, found):
                break
            pos = found + 1
        end = found + 2
        tex = text[at + 2 : found]
        if not tex.strip():
            return end  # `$$$$`: no formula, text
        block = self._is_block(at, end)
        self._emit(at, end, tex.strip() if block else tex, True, block)
        return end

    def _inline(self, at: int) -> int:
        text = self.text
        if _escaped(text, at):
            return at + 1
        if at > 0 and text[at - 1].isdigit():
            return at + 1  # `5$`: money
        following = text[at + 1 : at + 2]
        limit = self.limit(at)
        close = self._next_dollar(at + 1, limit)
        if not following or following.isspace():
            # A dollar sign; but `$ x^2 $` is a formula written with spaces inside the dollars.
            if (close is not None and text[close - 1].isspace() and not text[close + 1 : close + 2].strip()
                    and _TEX_LIKE.search(text, at + 1, close)):
                self.problem(at, f"{_shorten(text[at:close + 1])} is not a formula: an opening $ must be followed by a "
                             "non-space and a closing $ preceded by one; remove the spaces inside the dollars")
            return at + 1
        money = following.isdigit()
        if close is None:
            if not money and _FORMULA_START.match(following):
                self.problem(at, f"{_shorten(text[at:text.find(chr(10), at) if chr(10) in text[at:limit] else limit])} "
                             "opens a formula that is not closed in this paragraph: close it with $, or write \\$ for "
                             "a dollar sign")
            return at + 1
        after = text[close + 1 : close + 2]
        if after == "$" or text[close - 1].isspace() or after.isdigit():
            if not money:
                formula = _shorten(text[at : close + 1])
                if after.isdigit():
                    cause = (f"the closing $ of {formula} is followed by a digit, which makes it money: put a space "
                             "between the formula and the number, or write \\$ for a dollar sign")
                elif after != "$" and (not after or after.isspace() or not _FORMULA_START.match(after)):
                    cause = f"the closing $ of {formula} follows a space: remove the space before it"
                else:
                    cause = f"{_shorten(text[at:close])} opens a formula that is not closed: close it with $, or write \\$ " \
                            "for a dollar sign"
                self.problem(at, cause)
            return at + 1
        self._emit(at, close + 1, text[at + 1 : close], False, False)
        return close + 1

    def _next_dollar(self, pos: int, limit: int) -> int | None:
        text = self.text
        while True:
            found = text.find("$", pos, limit)
            if found < 0:
                return None
            if not _escaped(text, found):
                return found
            pos = found + 1


def _fences(text: str) -> list[tuple[int, int]]:
    """The fenced code blocks of `text`, as [start, end) offsets (an unclosed one runs to the end)."""
    if "```" not in text and "~~~" not in text:
        return []
    fences = []
    offset = 0
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        start = offset
        offset += len(lines[i]) + 1
        i += 1
        if match is None or (match.group(1)[0] == "`" and "`" in match.group(2)):
            continue
        marker = match.group(1)
        close = re.compile(r"^ {0,3}" + re.escape(marker[0]) + "{" + str(len(marker)) + r",}[ \t]*$")
        while i < len(lines) and not close.match(lines[i]):
            offset += len(lines[i]) + 1
            i += 1
        if i < len(lines):
            offset += len(lines[i]) + 1
            i += 1
        fences.append((start, min(offset, len(text))))
    return fences


def _shorten(source: str, size: int = 40) -> str:
    source = source.replace("\n", " ")
    return source if len(source) <= size else source[: size - 1] + "…"


def restore_math(html: str, spans: tuple[MathSpan, ...]) -> tuple[str, list[bool | None]]:
    """`html` with each placeholder replaced by its formula: typeset (``\\(..\\)``, ``\\[..\\]``) in
    text, as written (escaped) in code and attributes. Also, per span: True typeset, False shown as
    written, None not found (Markdown dropped it, e.g. inside a link address)."""
    if not spans:
        return html, []
    fate: list[bool | None] = [None] * len(spans)

    def as_written(match: re.Match[str]) -> str:
        index = decode(match.group(1))
        fate[index] = False if fate[index] is None else fate[index]
        return escape_html(spans[index].source)

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            part = match.group(1)
            return PLACEHOLDER.sub(as_written, part) if ("\ue000" in part or "\ue001" in part) else part
        return replace_typeset(match.group(2))

    def replace_typeset(digits: str) -> str:
        index = decode(digits)
        span = spans[index]
        fate[index] = True
        tex = escape_html(span.tex)
        return f"\\[{tex}\\]" if span.display else f"\\({tex}\\)"

    if not any(("\ue000" in part or "\ue001" in part) for part in _AS_WRITTEN.findall(html)):
        # No formula in code or in an attribute: each placeholder, once in the text, typesets.
        for index, span in enumerate(spans):
            mark = (_BLOCK_MARKS if span.block else _INLINE_MARKS)[index] if index < 64 else \
                (BLOCK if span.block else INLINE) + _encode(index) + END
            if mark in html:
                tex = escape_html(span.tex)
                html = html.replace(mark, f"\\[{tex}\\]" if span.display else f"\\({tex}\\)")
                fate[index] = True
        return html, fate
    return _HTML_PART.sub(replace, html), fate


_DECODED = {_encode(i): i for i in range(64)}


def decode(digits: str) -> int:
    """The index of a placeholder's digits."""
    index = _DECODED.get(digits)
    return index if index is not None else int("".join(str(ord(c) - _DIGIT0) for c in digits))
