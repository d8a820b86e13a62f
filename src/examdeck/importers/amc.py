"""Import auto-multiple-choice (AMC) LaTeX exams: each question environment becomes a card.

`question` -> mcq, `questionmult` -> mcq with `multiple: true`, choices exactly TRUE/FALSE ->
truefalse, `\\AMCOpen` -> open; `\\element{group}` -> the card's topic; the AMC id -> the card id.
Headers (`\\onecopy`), `\\insertgroup`, `\\namefield` and comments never become cards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import InvalidSources, Problem
from ..model import Topic
from .latex import (
    Context,
    TexDocument,
    check_structure,
    collect_macros,
    find_environment_end,
    latex_to_markdown,
    macro_tokens,
    read_document,
    read_group,
    read_optional,
)
from .model import ImportedCard, ImportedChoice, ImportResult, slugify, topic_title

QUESTION_ENVS = {"question": False, "questionmult": True, "questionmultx": True}
CHOICE_ENVS = frozenset({"choices", "choiceshoriz", "choicescustom", "reponses", "reponseshoriz"})
CORRECT = frozenset({"correctchoice", "bonne"})
WRONG = frozenset({"wrongchoice", "mauvaise"})
NO_GROUP = Topic("questions", "Questions")
NONE_CORRECT = "None of these answers are correct."
_QUESTION_BEGIN = re.compile(r"\\begin\s*\{(" + "|".join(QUESTION_ENVS) + r")\}")
_IMAGE_PLACEHOLDER = re.compile(r"\*\[image not imported: (.*?)\]\*")
_CHOICES_BEGIN = re.compile(r"\\begin\s*\{(" + "|".join(CHOICE_ENVS) + r")\}")


@dataclass(frozen=True)
class AmcChoice:
    text: str
    correct: bool
    line: int


@dataclass(frozen=True)
class AmcQuestion:
    """One question environment, its text already Markdown."""

    amc_id: str
    multiple: bool
    group: str | None
    line: int
    question: str
    choices: tuple[AmcChoice, ...]
    explanation: str
    open_answer: str | None  # set for \AMCOpen and \AMCnumericChoices questions ("" when none is given)


def import_amc(path: Path) -> ImportResult:
    """Read an AMC .tex file into cards; raise InvalidSources (with line numbers) on malformed LaTeX."""
    from ..sources import read_utf8

    shown, text = read_utf8(path)
    return parse_amc(text, shown)


def parse_amc(text: str, path: str) -> ImportResult:
    """Cards from AMC LaTeX source `text` (named `path` in messages)."""
    doc = read_document(text, path)
    problems = check_structure(doc)
    if problems:
        raise InvalidSources(problems)
    ctx = Context(path)
    ctx.macros = collect_macros(doc, ctx)
    groups = element_groups(doc)
    questions = [parse_question(doc, ctx, match, groups) for match in _QUESTION_BEGIN.finditer(doc.text)]
    cards, topics = questions_to_cards([q for q in questions if q is not None], ctx)
    if ctx.problems:
        raise InvalidSources(ctx.problems)
    if not cards:
        raise InvalidSources([Problem(path, 1, "", "no AMC question found (expected \\begin{question}{id} ...)")])
    return ImportResult(tuple(cards), tuple(topics), tuple(sorted(ctx.warnings, key=lambda w: w.line)))


def element_groups(doc: TexDocument) -> list[tuple[str, int, int]]:
    """`\\element{group}{...}`: (group name, body start, body end), in order."""
    groups = []
    for token in macro_tokens(doc.text, 0, len(doc.text)):
        if token.group(1) != "element":
            continue
        name = read_group(doc.text, token.end())
        body = read_group(doc.text, name[2]) if name else None
        if name and body:
            groups.append((doc.text[name[0]:name[1]].strip(), body[0], body[1]))
    return groups


def parse_question(
    doc: TexDocument, ctx: Context, begin: re.Match[str], groups: list[tuple[str, int, int]]
) -> AmcQuestion | None:
    text = doc.text
    env = begin.group(1)
    line = doc.line(begin.start())
    id_group = read_group(text, begin.end())
    if id_group is None:
        ctx.error(line, f"\\begin{{{env}}} needs the question's id: \\begin{{{env}}}{{my-id}}")
        return None
    found = find_environment_end(text, env, id_group[2])
    if found is None:  # check_structure reported it
        return None
    body_start, body_end = id_group[2], found[0]
    skip: list[tuple[int, int]] = []
    choices: list[AmcChoice] = []
    explanations: list[str] = []
    open_answer: str | None = None
    for token in macro_tokens(text, body_start, body_end):
        if any(s <= token.start() < e for s, e in skip):
            continue
        name = token.group(1)
        if name == "begin":
            choices_env = _CHOICES_BEGIN.match(text, token.start())
            if choices_env is None:
                continue
            ends = find_environment_end(text, choices_env.group(1), choices_env.end(), body_end)
            if ends is None:
                continue
            skip.append((token.start(), ends[1]))
            choices += parse_choices(doc, ctx, choices_env.end(), ends[0])
        elif name == "explain":
            group = read_group(text, token.end(), body_end)
            if group is not None:
                skip.append((token.start(), group[2]))
                explanations.append(latex_to_markdown(text, group[0], group[1], ctx, doc.line))
        elif name == "AMCOpen":
            options = read_group(text, token.end(), body_end)
            boxes = read_group(text, options[2], body_end) if options else None
            if options is None or boxes is None:
                ctx.error(doc.line(token.start()), "\\AMCOpen needs two arguments: \\AMCOpen{options}{grading boxes}")
                continue
            skip.append((token.start(), boxes[2]))
            open_answer = _open_answer_option(doc, ctx, options[0], options[1])
        elif name == "AMCnumericChoices":
            value = read_group(text, token.end(), body_end)
            options = read_group(text, value[2], body_end) if value else None
            if value is None:
                continue
            skip.append((token.start(), options[2] if options else value[2]))
            open_answer = latex_to_markdown(text, value[0], value[1], ctx, doc.line)
    question = latex_to_markdown(text, body_start, body_end, ctx, doc.line, skip)
    return AmcQuestion(
        amc_id=text[id_group[0]:id_group[1]].strip(),
        multiple=QUESTION_ENVS[env],
        group=_group_of(groups, begin.start()),
        line=line,
        question=question,
        choices=tuple(choices),
        explanation="\n\n".join(e for e in explanations if e),
        open_answer=open_answer,
    )


def parse_choices(doc: TexDocument, ctx: Context, start: int, end: int) -> list[AmcChoice]:
    """`\\correctchoice{...}` / `\\wrongchoice{...}` in a choices body; `\\scoring` and layout ignored."""
    text = doc.text
    options = read_optional(text, start, end)  # e.g. [o]: keep the order (we always do)
    i = options[2] if options and text[start:options[0] - 1].strip() == "" else start
    choices = []
    for token in macro_tokens(text, i, end):
        name = token.group(1)
        if token.start() < i or name not in CORRECT | WRONG | {"scoring"}:
            continue
        _warn_stray(doc, ctx, i, token.start())
        label = read_optional(text, token.end(), end) if name != "scoring" else None
        group = read_group(text, label[2] if label else token.end(), end)
        if group is None:
            ctx.error(doc.line(token.start()), f"\\{name} needs its argument in braces: \\{name}{{...}}")
            i = token.end()
            continue
        if name != "scoring":
            choice = latex_to_markdown(text, group[0], group[1], ctx, doc.line)
            choices.append(AmcChoice(choice, name in CORRECT, doc.line(token.start())))
        i = group[2]
    _warn_stray(doc, ctx, i, end)
    return choices


def _warn_stray(doc: TexDocument, ctx: Context, start: int, end: int) -> None:
    """Layout macros between choices convert to nothing; anything else is worth a warning."""
    stray = latex_to_markdown(doc.text, start, end, ctx, doc.line)
    if stray:
        first = start + len(doc.text[start:end]) - len(doc.text[start:end].lstrip())
        ctx.warn(doc.line(first), f"text in a choices list outside any choice was ignored: {stray[:40]!r}")


def questions_to_cards(questions: list[AmcQuestion], ctx: Context) -> tuple[list[ImportedCard], list[Topic]]:
    topics: dict[str, Topic] = {}
    cards: list[ImportedCard] = []
    seen_amc: dict[str, int] = {}
    used_ids: set[str] = set()
    for index, question in enumerate(questions, start=1):
        if question.amc_id in seen_amc:
            ctx.error(question.line, f"duplicate question id {question.amc_id!r} (first at line {seen_amc[question.amc_id]})")
            continue
        seen_amc[question.amc_id] = question.line
        topic = _topic(question.group)
        topics.setdefault(topic.slug, topic)
        card_id = _card_id(question, index, used_ids, ctx)
        card = question_to_card(question, card_id, topics[topic.slug].slug, ctx)
        if card is not None:
            cards.append(card)
    return cards, list(topics.values())


def question_to_card(question: AmcQuestion, card_id: str, topic: str, ctx: Context) -> ImportedCard | None:
    """The card for one question, by the rules in the module docstring."""
    card = _question_to_card(question, card_id, topic, ctx)
    if card is None:
        return None
    texts = [question.question, question.explanation, question.open_answer or "", *(c.text for c in question.choices)]
    images = sorted({m for t in texts for m in _IMAGE_PLACEHOLDER.findall(t)})
    if not images:
        return card
    # Our cards show only generated figures: say what is missing where the editor will look.
    missing = "".join(f"\nImage {name!r} (\\includegraphics in the exam) was not imported: replace the placeholder "
                      "with a generated figure (figure:NAME) or describe it in words." for name in images)
    return _replace(card, notes=(card.notes + missing).strip())


def _question_to_card(question: AmcQuestion, card_id: str, topic: str, ctx: Context) -> ImportedCard | None:
    file = "questions.yaml" if topic == NO_GROUP.slug else f"{'deck-' if topic == 'deck' else ''}{topic}.yaml"
    base = ImportedCard(id=card_id, type="open", topics=(topic,), question=question.question or "(no text)",
                        file=file, line=question.line)
    if not question.question:
        ctx.warn(question.line, f"question {question.amc_id!r} has no text")
    if question.open_answer is not None or not question.choices:
        return _open_card(question, base, ctx)
    texts = sorted(re.sub(r"[*_\s]", "", c.text).lower() for c in question.choices)
    correct = [c for c in question.choices if c.correct]
    if texts == ["false", "true"] and len(correct) == 1:
        return _replace(base, type="truefalse", answer="true" in correct[0].text.lower(),
                        explanation=question.explanation)
    return _mcq_card(question, base, correct, ctx)


def _open_card(question: AmcQuestion, base: ImportedCard, ctx: Context) -> ImportedCard:
    if question.open_answer is None:
        ctx.warn(question.line, f"question {question.amc_id!r} has no choices and no \\AMCOpen: imported as open")
    answer = question.open_answer or question.explanation
    explanation = question.explanation if question.open_answer else ""
    if answer:
        return _replace(base, answer=answer, explanation=explanation)
    ctx.warn(question.line, f"open question {question.amc_id!r} has no \\explain{{...}}: imported as a draft "
                            "with a placeholder answer")
    return _replace(base, answer="(no solution in the exam source: write one)", status="draft",
                    notes="The AMC source has no \\explain{...} for this open question: write the answer, "
                          "then remove `status: draft`.")


def _mcq_card(question: AmcQuestion, base: ImportedCard, correct: list[AmcChoice], ctx: Context) -> ImportedCard | None:
    choices = [ImportedChoice(c.text, c.correct) for c in question.choices]
    multiple, notes = question.multiple, ""
    if len(choices) < 2:
        ctx.error(question.line, f"question {question.amc_id!r} has a single choice: an mcq needs at least two")
        return None
    if not correct and not multiple:
        ctx.error(question.line, f"question {question.amc_id!r} has no \\correctchoice")
        return None
    if not correct:
        # What AMC's `completemulti` prints: the box to tick when no other answer is right.
        choices.append(ImportedChoice(NONE_CORRECT, True))
        notes = f"No choice is correct in the AMC source: the choice {NONE_CORRECT!r} was added."
        ctx.warn(question.line, f"questionmult {question.amc_id!r} has no correct choice: "
                                f"added {NONE_CORRECT!r} as the correct one")
    elif len(correct) > 1 and not multiple:
        ctx.warn(question.line, f"question {question.amc_id!r} has {len(correct)} correct choices: "
                                "imported with multiple: true")
        multiple = True
    return _replace(base, type="mcq", choices=tuple(choices), multiple=multiple, explanation=question.explanation,
                    notes=notes)


def _open_answer_option(doc: TexDocument, ctx: Context, start: int, end: int) -> str:
    """The `answer=...` option of \\AMCOpen (AMC prints it on the corrected copy), else ""."""
    text = doc.text
    match = re.search(r"(?:^|,)\s*answer\s*=\s*", text[start:end])
    if match is None:
        return ""
    i = start + match.end()
    group = read_group(text, i, end)
    if group is not None and text[i:group[0] - 1].strip() == "":
        return latex_to_markdown(text, group[0], group[1], ctx, doc.line)
    stop = text.find(",", i, end)
    return latex_to_markdown(text, i, end if stop < 0 else stop, ctx, doc.line)


def _group_of(groups: list[tuple[str, int, int]], offset: int) -> str | None:
    inside = [(name, s, e) for name, s, e in groups if s <= offset < e]
    return min(inside, key=lambda g: g[2] - g[1])[0] if inside else None


def _topic(group: str | None) -> Topic:
    if group is None:
        return NO_GROUP
    return Topic(slugify(group) or "group", topic_title(group))


def _card_id(question: AmcQuestion, index: int, used: set[str], ctx: Context) -> str:
    """The AMC id as a card id: stable across imports as long as the AMC id is."""
    card_id = slugify(question.amc_id, keep_underscore=True)
    if not card_id:
        card_id = f"q{index}"
        ctx.warn(question.line, f"question id {question.amc_id!r} gives no usable card id: using {card_id!r}")
    if card_id in used:
        base, n = card_id, 2
        while f"{base}-{n}" in used:
            n += 1
        card_id = f"{base}-{n}"
        ctx.warn(question.line, f"question id {question.amc_id!r} gives the same card id as an earlier one: "
                                f"using {card_id!r}")
    used.add(card_id)
    return card_id


def _replace(card: ImportedCard, **changes: object) -> ImportedCard:
    return replace(card, **changes)  # type: ignore[arg-type]
