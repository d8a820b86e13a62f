"""An exam's LaTeX files read into one document: `\\input`/`\\include` followed, comments blanked,
verbatim-like bodies set aside, and every offset traceable to `file:line`.

AMC exams are often a main file and question banks it `\\input`s. The reader splices each file in
where TeX would, so the rest of the importer sees one text; `TexDocument.line(offset)` returns a
`Loc` (an int line number that also knows its file), so every message names the file it is about.

Rules (those of TeX, restricted for safety):

- `\\input{name}`, `\\input name`, `\\include{name}`, `\\subfile{name}`: `name` relative to the
  main exam's folder, tried as given and with `.tex`; it must stay inside that folder.
- A file that inputs itself (directly or not) is an error naming the chain.
- Comments (`%` to the line end, not `\\%`) are blanked, except inside verbatim-like environments
  and `\\verb`, whose text is code.
- Bodies of `verbatim`, `Verbatim`, `BVerbatim`, `lstlisting`, `minted`, `SaveVerbatim`, `comment`
  are replaced by `\\examdeckverbatim{N}` (a `Verbatim` record, raw text kept byte for byte), so
  that braces or `%` in code never disturb the reading of the LaTeX around them.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem

VERBATIM_ENVS = frozenset(
    {"verbatim", "verbatim*", "Verbatim", "Verbatim*", "BVerbatim", "LVerbatim", "lstlisting", "minted",
     "SaveVerbatim", "comment", "filecontents", "filecontents*"}
)
VERBATIM_MACRO = "examdeckverbatim"
_BEGIN_VERBATIM = re.compile(r"\\begin\s*\{(" + "|".join(re.escape(e) for e in sorted(VERBATIM_ENVS)) + r")\}")
_INPUT = re.compile(r"\\(input|include|subfile|subimport|import|InputIfFileExists)(?![A-Za-z@])\s*")
_LINE_BASE = 10_000_000  # a location is file_index * _LINE_BASE + line


class Loc(int):
    """A line number that also knows its file: `str(path)` for messages (`Loc(12, 'bank.tex')`)."""

    path: str

    def __new__(cls, line: int, path: str) -> Loc:
        self = super().__new__(cls, line)
        self.path = path
        return self


@dataclass(frozen=True)
class Verbatim:
    """A verbatim-like environment set aside: its name, the text between `\\begin{env}` and the end
    of its arguments (`[language=Python]`, `{name}`), and its body exactly as written."""

    env: str
    arguments: str
    body: str


@dataclass
class TexDocument:
    """The spliced exam text (comments blanked) with the file and line of every character."""

    path: str
    text: str
    locs: array
    paths: list[str]
    base_dir: Path | None = None
    verbatims: list[Verbatim] = field(default_factory=list)

    def line(self, offset: int) -> Loc:
        if not self.locs:
            return Loc(1, self.path)
        value = self.locs[max(0, min(offset, len(self.locs) - 1))]
        return Loc(value % _LINE_BASE, self.paths[value // _LINE_BASE])

    def replaced(self, spans: list[tuple[int, int, str]]) -> TexDocument:
        """A copy with text[start:end] replaced by each new text (sorted, not overlapping); new text
        is located at the line of the text it replaces (e.g. a macro use expanded)."""
        parts: list[str] = []
        locs = array("q")
        i = 0
        for start, end, new in spans:
            parts.append(self.text[i:start])
            locs.extend(self.locs[i:start])
            at = self.locs[min(start, len(self.locs) - 1)] if self.locs else 1
            parts.append(new)
            locs.extend([at] * len(new))
            i = end
        parts.append(self.text[i:])
        locs.extend(self.locs[i:])
        return TexDocument(self.path, "".join(parts), locs, self.paths, self.base_dir, self.verbatims)


def from_text(text: str, path: str, base_dir: Path | None = None) -> tuple[TexDocument, list[Problem]]:
    """One exam given as text (`path` names it in messages; `base_dir` is where `\\input` looks)."""
    reader = _Reader(base_dir)
    doc = reader.document(text, path)
    return doc, reader.problems


def read_exam(path: Path) -> tuple[TexDocument, list[Problem]]:
    """The exam `path` and every file it inputs, as one document, with the problems found."""
    from ..sources import read_utf8

    shown, text = read_utf8(path)
    reader = _Reader(path.parent.resolve(), main=path.resolve())
    doc = reader.document(text, shown)
    return doc, reader.problems


class _Reader:
    def __init__(self, base_dir: Path | None, main: Path | None = None) -> None:
        self.base_dir = base_dir
        self.problems: list[Problem] = []
        self.paths: list[str] = []
        self.verbatims: list[Verbatim] = []
        self.stack: list[Path] = [main] if main else []

    def document(self, text: str, shown: str) -> TexDocument:
        parts: list[str] = []
        locs = array("q")
        self.splice(text, shown, parts, locs)
        return TexDocument(shown, "".join(parts), locs, self.paths, self.base_dir, self.verbatims)

    def file_index(self, shown: str) -> int:
        if shown not in self.paths:
            self.paths.append(shown)
        return self.paths.index(shown)

    def splice(self, text: str, shown: str, parts: list[str], locs: array) -> None:
        """Append `text` (file `shown`) to parts, following inputs, blanking comments."""
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        base = self.file_index(shown) * _LINE_BASE
        line = 1
        i, n = 0, len(text)
        start = 0  # start of the run of text not yet appended

        def flush(upto: int) -> None:
            nonlocal start, line
            chunk = text[start:upto]
            parts.append(chunk)
            for c in chunk:
                locs.append(base + line)
                if c == "\n":
                    line += 1
            start = upto

        def emit(new: str, at_line: int) -> None:
            parts.append(new)
            locs.extend([base + at_line] * len(new))

        while i < n:
            c = text[i]
            if c == "%":
                flush(i)
                end = text.find("\n", i)
                end = n if end < 0 else end
                emit(" " * (end - i), line)
                start = i = end
            elif c == "\\":
                if text.startswith("\\verb", i) and i + 5 < n and not text[i + 5].isalpha() and text[i + 5] != "*":
                    close = text.find(text[i + 5], i + 6)
                    i = n if close < 0 or "\n" in text[i + 6:close] else close + 1
                    continue
                begin = _BEGIN_VERBATIM.match(text, i)
                if begin is not None:
                    i = self.verbatim(text, i, begin, flush, emit, line)
                    start = i
                    line = 1 + text.count("\n", 0, i)
                    continue
                include = _INPUT.match(text, i)
                if include is not None:
                    target = self.input_target(text, include.end(), include.group(1))
                    if target is not None:
                        flush(i)
                        name, stop = target
                        self.follow(include.group(1), name, shown, line, parts, locs)
                        line += text.count("\n", i, stop)
                        start = i = stop
                        continue
                i += 2
            else:
                i += 1
        flush(n)

    def verbatim(self, text: str, i: int, begin: re.Match[str], flush, emit, line: int) -> int:
        env = begin.group(1)
        end_tag = re.compile(r"\\end\s*\{" + re.escape(env) + r"\}")
        close = end_tag.search(text, begin.end())
        if close is None:
            return begin.end()  # the structure check reports the missing \end
        # Arguments on the \begin line: [options], {name} (SaveVerbatim), {language} (minted).
        j = begin.end()
        while True:
            m = re.match(r"[ \t]*(\[[^\]\n]*\]|\{[^{}\n]*\})", text[j:close.start()])
            if m is None:
                break
            j += m.end()
        body = text[j:close.start()]
        body = body[1:] if body.startswith("\n") else body
        flush(i)
        self.verbatims.append(Verbatim(env, text[begin.end():j], body))
        emit(f"\\{VERBATIM_MACRO}{{{len(self.verbatims) - 1}}}", line)
        # Keep the line count of what was set aside, so lines after it stay true.
        emit("\n" * text.count("\n", i, close.end()), line)
        return close.end()

    def input_target(self, text: str, i: int, command: str = "input") -> tuple[str, int] | None:
        """The file name after `\\input` ({name} or a bare name), and the offset after it; the import
        package's `\\import{dir/}{name}` joins its two arguments."""
        if command in ("import", "subimport", "InputIfFileExists") and text.startswith("{", i):
            first = text.find("}", i)
            if first < 0:
                return None
            if command == "InputIfFileExists":
                return text[i + 1:first].strip(), first + 1  # its {then}{else} arguments stay as text
            rest = self.input_target(text, first + 1)
            if rest is None:
                return None
            folder = text[i + 1:first].strip()
            return (folder.rstrip("/") + "/" + rest[0]) if folder else rest[0], rest[1]
        if text.startswith("{", i):
            close = text.find("}", i)
            if close < 0 or "\n" in text[i:close].strip("\n"):
                return None
            return text[i + 1:close].strip(), close + 1
        bare = re.match(r"[A-Za-z0-9_./-]+", text[i:])
        if bare is None:
            return None
        return bare.group(), i + bare.end()

    def follow(self, command: str, name: str, shown: str, line: int, parts: list[str], locs: array) -> None:
        here = f"\\{command}{{{name}}}"
        if self.base_dir is None:
            self.problems.append(Problem(shown, line, "latex", f"{here}: cannot follow inputs of an exam given as text"))
            return
        found = self.resolve(name)
        if found is None:
            self.problems.append(Problem(shown, line, "latex", f"{here}: file not found in the exam's folder "
                                                               f"{self.base_dir} (tried {name!r} and {name + '.tex'!r})"))
            return
        if isinstance(found, str):
            self.problems.append(Problem(shown, line, "latex", f"{here}: {found}"))
            return
        if found in self.stack:
            chain = " -> ".join(p.name for p in [*self.stack[self.stack.index(found):], found])
            self.problems.append(Problem(shown, line, "latex", f"{here}: the files input each other ({chain}): "
                                                               "remove one of the inputs"))
            return
        try:
            raw = found.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            self.problems.append(Problem(shown, line, "latex", f"{here}: {found.name} is not UTF-8: save it as UTF-8"))
            return
        self.stack.append(found)
        child = found.relative_to(self.base_dir).as_posix()
        child_shown = str(Path(shown).parent / child) if Path(shown).parent != Path(".") else child
        self.splice(raw, child_shown, parts, locs)
        self.stack.pop()
        # \include starts a new page: a paragraph break keeps the text apart.
        parts.append("\n")
        locs.append(self.file_index(shown) * _LINE_BASE + line)

    def resolve(self, name: str) -> Path | str | None:
        assert self.base_dir is not None
        for candidate in (name, name + ".tex") if not name.endswith(".tex") else (name,):
            path = (self.base_dir / candidate).resolve()
            if not path.is_relative_to(self.base_dir):
                return f"{candidate!r} is outside the exam's folder {self.base_dir}: copy it into the folder"
            if path.is_file():
                return path
        return None
