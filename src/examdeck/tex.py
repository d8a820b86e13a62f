"""Small helpers over TeX source text, shared by the formula checker and the LaTeX importer."""

from __future__ import annotations


def match_brace(text: str, start: int) -> int:
    """The offset of the `}` closing the `{` at `start`, or -1."""
    depth = 0
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1
