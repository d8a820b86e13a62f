"""Import an exam that exists only as text extracted from its PDF (e.g. an AMC-typeset exam).

The layout is read from the text's landmarks: `First part: multiple choice questions` sets the card
type, `Question N` starts a question, `Solution:` its solution, a short title line between
questions is a section heading (the topic), `TRUE FALSE` ends a true/false statement. The PDF's
ticked boxes and its formulas do not survive extraction, so every card is a `draft` whose notes
say what to review. An answer the text does not give is left unknown (no choice marked correct, no
true/false answer: see `MCQ_PLACEHOLDER`); such drafts are never built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import InvalidSources, Problem
from ..model import CardType, SourceRef, Topic
from .model import ImportedCard, ImportedChoice, ImportResult, ImportWarning, slugify

PART = re.compile(r"^(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\s+part\b[\s:,.-]*(.*)$",
                  re.IGNORECASE)
QUESTION = re.compile(r"^Question\s+(\d+)\s*:?\s*(.*)$")
SOLUTION = re.compile(r"^Solution\s*:?\s*(.*)$")
POINTS = re.compile(r"^\(\s*(\d+(?:\.\d+)?)\s*points?\.?\s*\)\s*(.*)$", re.IGNORECASE)
LABEL = re.compile(r"^\(([^()]{2,60})\)\s*(.*)$")
TRUE_FALSE_BOXES = re.compile(r"^TRUE\s+FALSE$", re.IGNORECASE)
GRADING_BOXES = re.compile(r"^0(\s+\d+)+$")
# AMC page furniture: corner marks, the footer, the DRAFT watermark split over lines, page ids.
NOISE = (
    re.compile(r"^y$"),
    re.compile(r"^y For your examination, preferably print documents compiled from auto-$"),
    re.compile(r"^multiple-choice\.$"),
    re.compile(r"^(D|RA|FT)$"),
    re.compile(r"^y \+\d+/\d+/\d+\+ y$"),
)
MCQ_PLACEHOLDER = (
    "ANSWER UNKNOWN: no choice is marked correct, because the ticked box is not in the extracted text. "
    "Mark the right choice from the solution (`multiple: true` when several are right), then remove "
    "`status: draft`; until then the card is never built, even with --include-drafts."
)
TRUEFALSE_PLACEHOLDER = (
    "ANSWER UNKNOWN: the ticked box is not in the extracted text and the solution does not start with "
    "True/False. Add `answer: true` or `answer: false` from the solution, then remove `status: draft`; "
    "until then the card is never built, even with --include-drafts."
)


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, in the text file
    text: str  # stripped
    page_start: bool  # first line of a page (the extraction indents it, or furniture precedes it)


@dataclass(frozen=True)
class _Part:
    index: int  # 1 for the first part
    type: CardType
    points: float | None


@dataclass
class _Question:
    number: int
    line: int
    part: _Part
    topic: Topic | None
    context: list[Line]  # the section's introduction, shared by its questions
    body: list[Line] = field(default_factory=list)


def import_text(path: Path) -> ImportResult:
    """Read an extracted-text exam into draft cards."""
    from ..sources import read_utf8

    shown, text = read_utf8(path)
    return parse_exam_text(text, shown)


def parse_exam_text(text: str, path: str) -> ImportResult:
    """Cards from the text of an exam (named `path` in messages)."""
    lines = read_lines(text)
    warnings: list[ImportWarning] = []
    questions = split_questions(lines, header_points(lines), path, warnings)
    if not questions:
        raise InvalidSources([Problem(path, 1, "", "no questions found: expected lines like 'Question 1 ...' "
                                                  "after a part heading like 'First part: multiple choice questions'")])
    topics: dict[str, Topic] = {}
    cards = []
    for question in questions:
        card, topic = question_card(question, path, warnings)
        cards.append(card)
        topics.setdefault(topic.slug, topic)
    return ImportResult(tuple(cards), tuple(topics.values()), tuple(warnings))


GENERAL = Topic("general", "General")  # for questions before any section heading


def read_lines(text: str) -> list[Line]:
    """The text's lines without page furniture, each knowing whether it starts a page."""
    out: list[Line] = []
    after_noise = False
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\f", "\n").split("\n"), start=1):
        stripped = raw.strip()
        if any(p.match(stripped) for p in NOISE):
            after_noise = True
            continue
        out.append(Line(number, stripped, after_noise or raw[:1] == " "))
        if stripped:
            after_noise = False
    return out


def header_points(lines: list[Line]) -> dict[CardType, float]:
    """Points per question type from the cover page, e.g. `For the true/false questions ... +1.5 points`."""
    points: dict[CardType, float] = {}
    current: CardType | None = None
    for line in lines:
        if PART.match(line.text):
            break
        kind = _part_type(line.text) if re.match(r"^\W*for the\b", line.text, re.IGNORECASE) else None
        if kind is not None:
            current = kind
            continue
        found = re.search(r"\+\s*(\d+(?:\.\d+)?)\s*points?", line.text)
        if found and current is not None and current not in points:
            points[current] = float(found.group(1))
    return points


def split_questions(lines: list[Line], points: dict[CardType, float], path: str,
                    warnings: list[ImportWarning]) -> list[_Question]:
    """Walk the lines: parts, section headings with their introductions, and each question's lines."""
    questions: list[_Question] = []
    part: _Part | None = None
    topic: Topic | None = None
    context: list[Line] = []
    collecting_context = False
    current: _Question | None = None
    last_number = 0
    for index, line in enumerate(lines):
        part_match = PART.match(line.text)
        if part_match:
            kind = _part_type(part_match.group(2))
            if kind is None:
                warnings.append(ImportWarning(path, line.number, f"part heading {line.text!r} names no question "
                                                                 "type (multiple choice, true/false, open)"))
                kind = "open"
            part = _Part(part.index + 1 if part else 1, kind, points.get(kind))
            topic, context, collecting_context, current = None, [], False, None
            continue
        if part is None:
            continue
        question_match = QUESTION.match(line.text)
        if question_match and int(question_match.group(1)) > last_number:
            number = int(question_match.group(1))
            if number != last_number + 1:
                warnings.append(ImportWarning(path, line.number, f"question {number} follows question {last_number}: "
                                                                 "the questions in between were not found"))
            last_number = number
            current = _Question(number, line.number, part, topic, context)
            current.body.append(Line(line.number, question_match.group(2), False))
            questions.append(current)
            collecting_context = False
            continue
        if _is_heading(lines, index, current):
            topic = _heading_topic(line.text)
            context, collecting_context, current = [], True, None
            continue
        if collecting_context:
            context.append(line)
        elif current is not None:
            current.body.append(line)
    return questions


def _part_type(text: str) -> CardType | None:
    lowered = text.lower()
    if "multiple" in lowered and "choice" in lowered:
        return "mcq"
    if "true" in lowered and "false" in lowered:
        return "truefalse"
    if "open" in lowered:
        return "open"
    return None


# A title word: `Optimization`, `networks`, `GMM`, `GMMs`, `k-NN`, `Bias-Variance`, `&`; not `PStest`.
_HEADING_WORD = re.compile(r"^(?:&|/|-|(?:[A-Z]?[a-z]+|[A-Z]+s?)(?:-(?:[A-Z]?[a-z]+|[A-Z]+s?))*)$")


def _is_heading(lines: list[Line], index: int, current: _Question | None) -> bool:
    """A short title line standing alone, after the solution of the previous question (or before any).

    Titles look like `Optimization`, `k-NN`, `GMM & K-means`, `2 GMMs with weights`; solution and
    formula fragments fail at least one test (mixed case like `PStest`, symbols, final period).
    """
    line = lines[index]
    if current is not None and not any(SOLUTION.match(x.text) for x in current.body):
        return False
    text = re.sub(r"^\d{1,2}\s+", "", line.text)
    words = text.split()
    if not (1 <= len(words) <= 6 and 3 <= len(text) <= 60) or re.match(r"^(Figure|Table|Solution|Question)\b", text):
        return False
    if not all(_HEADING_WORD.match(w) for w in words) or not re.search(r"[A-Z]", words[0]):
        return False
    before = lines[index - 1].text if index > 0 else ""
    after = lines[index + 1].text if index + 1 < len(lines) else ""
    return (not before or line.page_start) and (not after or bool(QUESTION.match(after)))


def _heading_topic(text: str) -> Topic:
    title = re.sub(r"^\d{1,2}\s+", "", text).strip()
    return Topic(slugify(title) or "section", title)


def question_card(question: _Question, path: str, warnings: list[ImportWarning]) -> tuple[ImportedCard, Topic]:
    """One draft card and its topic; the card's notes list what the extraction lost."""
    first, body = _first_line(question.body)
    points = question.part.points
    text = first.text
    points_match = POINTS.match(text)
    if points_match:
        points, text = float(points_match.group(1)), points_match.group(2)
    topic = question.topic or GENERAL
    label_match = LABEL.match(text) if question.part.type == "truefalse" else None
    if label_match:  # `Question 13 (Linear regression) For linear regression ...`
        topic, text = _heading_topic(label_match.group(1)), label_match.group(2)
    body = [Line(first.number, text, False), *body]
    solution_at = next((i for i, x in enumerate(body) if SOLUTION.match(x.text)), len(body))
    statement, solution_lines = body[:solution_at], body[solution_at:]
    if solution_lines:
        head = solution_lines[0]
        solution_lines[0] = Line(head.number, SOLUTION.sub(r"\1", head.text), False)
    solution = lines_to_markdown(solution_lines)
    context = lines_to_markdown(question.context)
    notes = [f"Imported from the PDF-extracted text {path}:{question.line}: review it, then remove `status: draft`.",
             "Formulas were mangled by the PDF extraction: rewrite them as $...$ / $$...$$ LaTeX."]
    notes += _figure_notes(context + "\n" + lines_to_markdown(statement))
    if context:
        notes.append("The section's introduction is repeated at the top of each of its questions.")
    if re.search(r"not counted|removed from the exam|nullif", solution, re.IGNORECASE):
        notes.append("The solution says this question was not counted: consider `status: nullified`.")
    if not solution:
        warnings.append(ImportWarning(path, question.line, f"question {question.number} has no 'Solution:'"))
    base = ImportedCard(
        id=f"q{question.number:02d}", type=question.part.type, topics=(topic.slug,), question="",
        file=f"part{question.part.index}-{question.part.type}.yaml",
        source=SourceRef(question.number, None, points), status="draft", line=question.line,
    )
    if question.part.type == "truefalse":
        card = _truefalse(base, statement, solution, notes)
    elif question.part.type == "mcq":
        card = _mcq(base, statement, solution, notes, path, warnings)
    else:
        card = _open(base, statement, solution, notes)
    if context:
        card = replace(card, question=f"{context}\n\n{card.question}")
    return card, topic


def _first_line(body: list[Line]) -> tuple[Line, list[Line]]:
    """The question's first line of text; `Question 32` may stand alone with the text on the next line."""
    if body[0].text:
        return body[0], body[1:]
    rest = body[1:]
    index = next((i for i, x in enumerate(rest) if x.text), None)
    if index is None:
        return body[0], rest
    return rest[index], rest[index + 1:]


def _truefalse(base: ImportedCard, statement: list[Line], solution: str, notes: list[str]) -> ImportedCard:
    lines = [x for x in statement if not TRUE_FALSE_BOXES.match(x.text)]
    verdict = re.match(r"^(True|False)(?=\s*[.,;:!]|\s*$)", solution)
    if verdict:
        answer = verdict.group(1) == "True"
        notes.append(f"Answer taken from the solution's first word ({verdict.group(1)}): check it.")
    else:
        answer = None
        notes.append(TRUEFALSE_PLACEHOLDER)
    return replace(base, question=lines_to_markdown(lines) or "(no text)", answer=answer, explanation=solution,
                   notes=_bullets(notes))


def _open(base: ImportedCard, statement: list[Line], solution: str, notes: list[str]) -> ImportedCard:
    lines = [x for x in statement if not GRADING_BOXES.match(x.text)]
    if not solution:
        notes.append("PLACEHOLDER ANSWER: the extracted text has no solution for this question: write one.")
    return replace(base, question=lines_to_markdown(lines) or "(no text)",
                   answer=solution or "(no solution in the extracted text: write one)", notes=_bullets(notes))


def _mcq(base: ImportedCard, statement: list[Line], solution: str, notes: list[str], path: str,
         warnings: list[ImportWarning]) -> ImportedCard:
    stem, choices = split_choices(statement)
    if len(choices) < 2:
        warnings.append(ImportWarning(path, base.line, f"question {base.source.question if base.source else ''}: "
                                                       "could not separate its choices; imported as an open draft"))
        notes.append("The choices could not be told apart in the extracted text: this multiple-choice question "
                     "was imported as open; turn it back into an mcq.")
        return _open(replace(base, type="open"), statement, solution, notes)
    notes.append(MCQ_PLACEHOLDER)
    return replace(
        base, question=lines_to_markdown(stem) or "(no text)",
        choices=tuple(ImportedChoice(lines_to_markdown(c, separator="\n"), False) for c in choices),
        explanation=solution, notes=_bullets(notes),
    )


def split_choices(statement: list[Line]) -> tuple[list[Line], list[list[Line]]]:
    """The stem and the choices of a multiple-choice question.

    The stem ends at its last line ending with `?`; failing that, at the last paragraph with a
    sentence of six words or more (not ending with a period, which would make it a choice).
    Then each paragraph is a choice, unless it continues the previous one: a formula broken by
    the extraction (`n=1 ...`, `and µk =`, `2];`) that neither starts like the first choice nor
    reads as a sentence.
    """
    paragraphs = _paragraphs(statement)
    if not paragraphs:
        return [], []
    flat = [line for p in paragraphs for line in p]
    question_marks = [i for i, line in enumerate(flat) if line.text.endswith("?")]
    if question_marks:
        cut = question_marks[-1] + 1
        stem = flat[:cut]
        rest = [line for line in statement if line.number > stem[-1].number]
    else:
        sentence = [i for i, p in enumerate(paragraphs) if any(_is_sentence(x.text) for x in p)]
        last = sentence[-1] if sentence else 0
        stem = [line for p in paragraphs[: last + 1] for line in p]
        rest = [line for line in statement if line.number > stem[-1].number]
    choices: list[list[Line]] = []
    for paragraph in _paragraphs(rest):
        head = paragraph[0].text
        starts_like_first = bool(choices) and head[:2] == choices[0][0].text[:2]
        if not choices or starts_like_first or _reads_as_sentence(head) or not _is_fragment(paragraph):
            choices.append(list(paragraph))
        else:
            choices[-1] += paragraph
    return stem, choices


# How a formula broken by the extraction goes on: a sum's index (`n=1`), a brace, a conjunction,
# a lone exponent before an operator (`2 + ...`, `2];`).
_FRAGMENT = re.compile(r"^(?:[a-z]\s*=\s*\d|[{}()\[\]]|(?:and|or|where|with|s\.t\.)\s|\d+\s*[-+=*/\])};,])")


def _is_fragment(paragraph: list[Line]) -> bool:
    text = " ".join(x.text for x in paragraph)
    return bool(_FRAGMENT.match(text)) or (len(text) <= 4 and not text.isalnum())


def _is_sentence(text: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]*", text) if len(w) >= 2]
    return len(words) >= 6 and not text.endswith(".")


def _reads_as_sentence(text: str) -> bool:
    return bool(re.match(r"^[A-Z]", text)) and len([w for w in text.split() if re.search(r"[A-Za-z]{2}", w)]) >= 3


def _paragraphs(lines: list[Line]) -> list[list[Line]]:
    out: list[list[Line]] = []
    current: list[Line] = []
    for line in lines:
        if line.text:
            current.append(line)
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def lines_to_markdown(lines: list[Line], separator: str = "\n\n") -> str:
    """Extracted lines as Markdown text: paragraphs kept, nothing read as Markdown syntax or math."""
    return separator.join("\n".join(_escape(x.text) for x in p) for p in _paragraphs(lines))


def _escape(text: str) -> str:
    text = re.sub(r"([\\`*_$])", r"\\\1", text)
    match = re.match(r"^(?:([-+>]|#{1,6})(?=\s|$)|(\d{1,9})([.)])(?=\s|$)|(=+|-+)$)", text)
    if match is None:
        return text
    if match.group(2):
        return f"{match.group(2)}\\{text[len(match.group(2)):]}"
    return "\\" + text


def _figure_notes(text: str) -> list[str]:
    figures = sorted(set(re.findall(r"\bFigure\s+(\d+)", text)), key=int)
    return [f"Figure {n} is not in the extracted text: describe it in words or add a generated figure."
            for n in figures]


def _bullets(notes: list[str]) -> str:
    return "\n".join(f"- {n}" for n in notes)
