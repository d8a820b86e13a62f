"""A fast path for the Markdown that most cards use, giving exactly markdown-it's HTML.

markdown-it-py costs about 100 µs a field; most fields are a few paragraphs with `**bold**`,
`` `code` ``, formulas, tight `- ` lists, ```` ``` ```` fences and display formulas alone on their
lines. For that subset ``render_simple`` writes the same HTML in a few µs. It reads text whose
formulas were lifted out (``mathspans.lift_math``): a formula is a placeholder, text to both
renderers, and a display block's placeholder alone on its line is a ``math-display`` block.
Anything outside it (links, images, emphasis with `_` or one `*`, escapes, entities, HTML,
headings, quotes, ordered or loose lists, indentation, ...) returns None, and
the caller renders with markdown-it: the subset is an optimisation, never a dialect.
tests/test_fastmd.py compares the two on the shipped decks, the benchmark corpus and fuzzed text.
"""

from __future__ import annotations

import re

__all__ = ["escape_html", "render_simple"]

# Outside math and code, these start a construct beyond the subset.
# A display block's placeholder (mathspans.BLOCK) anywhere but alone on its line is beyond it too.
_SPECIAL = re.compile("[`*\\\\_\\[\\]<&\ue001]")
_TEXT_UNSAFE = re.compile("[\\\\_\\[\\]<&*`\ue001]")
_BLOCK_LINE = re.compile("\ue001[\ue010-\ue019]+\ue002")
# Whitespace other than space and newline (tabs, CR, form feeds, Unicode spaces: every character
# but those two for which str.isspace() is true), and NUL: markdown-it expands, strips or
# normalises them; leave that to markdown-it. ASCII text is checked with `in`, faster than a regex.
_ODD_ASCII = "\0\t\v\f\r\x1c\x1d\x1e\x1f"
_ODD_SPACE = re.compile("[\0\t\v\f\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
# First characters of a line that may open a block outside the subset (or a table row).
_LINE_START_UNSAFE = frozenset("#>-*+=|:`~<[!\\&_ 0123456789")
_FENCE_CLOSE_LIKE = re.compile(r" {0,3}(?:`{3,}|~{3,})")
_FENCE_INFO = re.compile(r"[A-Za-z0-9_+-]*")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_AFTER_STRONG = frozenset(" \n.,:;?!)")


def escape_html(raw: str) -> str:
    """markdown-it's escapeHtml: `&`, `<`, `>` and `"` (not `'`)."""
    if "&" in raw:
        raw = raw.replace("&", "&amp;")
    if "<" in raw:
        raw = raw.replace("<", "&lt;")
    if ">" in raw:
        raw = raw.replace(">", "&gt;")
    if '"' in raw:
        raw = raw.replace('"', "&quot;")
    return raw


def render_simple(text: str) -> str | None:
    """The HTML markdown-it renders for `text` (formulas lifted out: see ``mathspans``) with
    examdeck's rules; None when `text` is outside the subset."""
    if any(c in text for c in _ODD_ASCII) if text.isascii() else _ODD_SPACE.search(text):
        return None
    lines = text.split("\n")
    out: list[str] = []
    n = len(lines)
    i = 0
    previous = "blank"  # the previous line: blank, paragraph, list or closed (a fence or display block)
    while i < n:
        line = lines[i]
        if not line:
            previous = "blank"
            i += 1
            continue
        if line[-1] == " ":
            return None
        if line.startswith("```"):
            if previous != "blank":
                return None
            info = line[3:]
            if not _FENCE_INFO.fullmatch(info):
                return None
            end = i + 1
            while end < n and not _FENCE_CLOSE_LIKE.match(lines[end]):
                end += 1
            if end >= n or lines[end] != "```":
                return None
            body = "".join(escape_html(body_line) + "\n" for body_line in lines[i + 1 : end])
            attr = f' class="language-{info}"' if info else ""
            out.append(f"<pre><code{attr}>{body}</code></pre>\n")
            previous = "closed"
            i = end + 1
            continue
        if line[0] == "\ue001":
            # A display block starts a block; after text lines it belongs to their paragraph.
            if previous not in ("blank", "closed") or not _BLOCK_LINE.fullmatch(line):
                return None
            out.append(f'<div class="math-display">{line}</div>\n')
            previous = "closed"
            i += 1
            continue
        if line.startswith("- "):
            if previous == "blank" and out and out[-1] == "</ul>\n":
                return None  # a blank line between items: a loose list
            if previous not in ("blank", "list"):
                return None  # a list interrupting a paragraph
            content = line[2:]
            if not _safe_line_start(content):
                return None
            html = _inline(content)
            if html is None:
                return None
            if previous != "list":
                out.append("<ul>\n")
            out.append(f"<li>{html}</li>\n")
            if i + 1 >= n or not lines[i + 1].startswith("- "):
                out.append("</ul>\n")
            previous = "list"
            i += 1
            continue
        # A paragraph: this line and the following ones up to a blank line.
        if previous not in ("blank", "closed") or not _safe_line_start(line):
            return None
        end = i + 1
        while end < n and lines[end]:
            following = lines[end]
            if following[-1] == " " or not _safe_line_start(following):
                return None
            end += 1
        html = _inline("\n".join(lines[i:end]))
        if html is None:
            return None
        out.append(f"<p>{html}</p>\n")
        previous = "paragraph"
        i = end
    return "".join(out)


def _safe_line_start(line: str) -> bool:
    first = line[0]
    if first in _LINE_START_UNSAFE:
        # `**bold**` may open a line: it is neither a list marker nor a thematic break.
        return line.startswith("**") and len(line) > 2 and line[2] in _ALNUM
    return True


def _inline(src: str) -> str | None:
    """The inline HTML of one paragraph or list item, or None outside the subset."""
    out: list[str] = []
    pos = 0
    size = len(src)
    while True:
        match = _SPECIAL.search(src, pos)
        if match is None:
            out.append(escape_html(src[pos:]))
            return "".join(out)
        at = match.start()
        char = src[at]
        text = src[pos:at]
        if char == "`":
            close = src.find("`", at + 1)
            if close <= at + 1 or src[at + 1] == "`" or src[close + 1 : close + 2] == "`":
                return None
            code = src[at + 1 : close]
            if "\n" in code or code[0] == " " or code[-1] == " ":
                return None
            out.append(escape_html(text))
            out.append(f"<code>{escape_html(code)}</code>")
            pos = close + 1
        elif char == "*":
            strong_end = _strong_end(src, at)
            if strong_end is None:
                return None
            out.append(escape_html(text))
            out.append(f"<strong>{escape_html(src[at + 2 : strong_end])}</strong>")
            pos = strong_end + 2
        else:
            return None  # an escape, emphasis with _, a link or image, HTML, an entity, a display block
        if pos > size:
            return None


def _strong_end(src: str, pos: int) -> int | None:
    """The closing `**` of a `**word ...**` span opened at `pos`, within the subset."""
    if src[pos + 1 : pos + 2] != "*" or pos + 2 >= len(src) or src[pos + 2] not in _ALNUM:
        return None
    close = src.find("**", pos + 2)
    if close < 0:
        return None
    body = src[pos + 2 : close]
    if "\n" in body or _TEXT_UNSAFE.search(body) or body[-1] not in _ALNUM:
        return None
    after = src[close + 2 : close + 3]
    if after and after not in _AFTER_STRONG:
        return None
    return close
