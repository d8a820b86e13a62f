"""Markdown-like text recovered from the HTML examdeck renders, for release diffs of packages.

An .apkg holds the note fields as HTML only: the Markdown they came from is not in it. To show a
package's side of a diff in the form an instructor edits, this undoes examdeck's own rendering:
MathJax delimiters back to `$...$` and `$$...$$` with the TeX as written (HTML entities undone),
paragraphs as blank-line separated text keeping their source line breaks, lists as `- ` items
(the choices of a multiple-choice card as `- [x] ` / `- [ ] `), emphasis as `*`/`**`, code as
backticks, images as `![alt](figure:NAME)`. It is exact for formulas and line structure; Markdown
spelled differently with the same result (`_a_` vs `*a*`) comes back in one spelling, so a diff
that has a package on either side compares both sides in this recovered form.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_MATH = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.DOTALL)
_BLOCKS = {"p", "div", "blockquote", "ul", "ol", "pre", "table", "thead", "tbody", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
_INLINE = {"em": "*", "i": "*", "strong": "**", "b": "**", "del": "~~", "s": "~~"}


def html_to_text(html: str) -> str:
    """The Markdown-like text of one rendered field (see the module docstring); '' for ''."""
    if not html:
        return ""
    parser = _Recover()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return _MATH.sub(_dollars, text.strip("\n")).rstrip()


def _dollars(match: re.Match[str]) -> str:
    return f"${match.group(1)}$" if match.group(1) is not None else f"$${match.group(2)}$$"


class _Recover(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[str | int]] = []  # per open list: [kind, next number]
        self.inline_depth = 0  # inside p, li, td, th, pre: whitespace is text
        self.skip_depth = 0  # inside the retired banner (status, not content)
        self.pre = False
        self.links: list[str] = []
        self.cells = 0
        self.item_indents: list[str] = []  # per open list item: how its continuation lines are indented

    def _block(self) -> None:
        if self.out and not "".join(self.out[-2:]).endswith("\n\n"):
            self.out.append("\n\n" if not self.lists else "\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if self.skip_depth:
            self.skip_depth += tag == "div"
            return
        if tag == "div" and "retired-banner" in (attr.get("class") or ""):
            self.skip_depth = 1
            return
        if tag in ("ul", "ol"):
            if not self.lists:
                self._block()
            self.lists.append(["ol" if tag == "ol" and attr.get("type") != "A" else tag, 1])
        elif tag == "li":
            kind, number = self.lists[-1] if self.lists else ["ul", 1]
            indent = "  " * (len(self.lists) - 1)
            if attr.get("class") in ("correct", "choice"):
                marker = "- [x] " if attr["class"] == "correct" else "- [ ] "
            elif kind == "ol":
                marker = f"{number}. "
                self.lists[-1][1] = int(number) + 1
            else:
                marker = "- "
            if self.out and not self.out[-1].endswith("\n"):
                self.out.append("\n")
            self.out.append(indent + marker)
            self.item_indents.append(" " * len(indent + marker))
            self.inline_depth += 1
        elif tag in _BLOCKS:
            if not self.lists:
                self._block()
            if tag == "pre":
                self.out.append("```\n")
                self.pre = True
                self.inline_depth += 1
            elif tag == "p":
                self.inline_depth += 1
            elif tag == "blockquote":
                self.out.append("> ")
            elif tag == "tr":
                self.cells = 0
        elif tag in ("td", "th"):
            self.out.append("| " if self.cells == 0 else " | ")
            self.cells += 1
            self.inline_depth += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in _INLINE:
            self.out.append(_INLINE[tag])
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "img":
            self.out.append(f"![{attr.get('alt') or ''}]({attr.get('src') or ''})")
        elif tag == "a":
            self.links.append(attr.get("href") or "")
            self.out.append("[")

    def handle_endtag(self, tag: str) -> None:
        if self.skip_depth:
            self.skip_depth -= tag == "div"
            return
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            if not self.lists:
                self.out.append("\n\n")
        elif tag == "li":
            self.inline_depth -= 1
            if self.item_indents:
                self.item_indents.pop()
        elif tag == "pre":
            self.pre = False
            self.inline_depth -= 1
            if self.out and not self.out[-1].endswith("\n"):
                self.out.append("\n")
            self.out.append("```\n\n")
        elif tag == "p":
            self.inline_depth -= 1
            self.out.append("\n" if self.lists else "\n\n")
        elif tag in ("td", "th"):
            self.inline_depth -= 1
        elif tag == "tr":
            self.out.append(" |\n")
        elif tag in ("table", "blockquote", "div"):
            self.out.append("\n\n")
        elif tag in _INLINE:
            self.out.append(_INLINE[tag])
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "a" and self.links:
            self.out.append(f"]({self.links.pop()})")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if not self.inline_depth and not data.strip():
            return  # the newlines between block tags
        if self.item_indents and not self.pre:
            data = data.replace("\n", "\n" + self.item_indents[-1])
        self.out.append(data)
