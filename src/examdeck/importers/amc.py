"""Import auto-multiple-choice (AMC) LaTeX exams: each question environment becomes a card.

`question` -> mcq, `questionmult` -> mcq with `multiple: true`, two choices that say true and false
in the exam's language (TRUE/FALSE, Vrai/Faux, Wahr/Falsch, Verdadero/Falso...) -> truefalse,
`\\AMCOpen` / `\\AMCnumericChoices` -> open; `\\element{group}` -> the card's topic (slug
transliterated, the group name as title); the AMC id -> the card id. AMC's commands under all their
names (`\\bonne`, `\\mauvaise`, `reponses`, `\\bareme`, `\\restituegroupe`...) are read, never shown.

Multi-file exams are read as one (see texfiles). Text outside the questions of an `\\element`, and
text just before `\\insertgroup{g}`, is each question's context (put before its text). Questions
whose values LaTeX computes when it compiles, or whose images are missing, are drafts whose notes
say why. Headers (`\\onecopy`), `\\namefield` and comments never become cards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import InvalidSources, Problem
from ..model import Topic
from .latex import (
    Context,
    Definitions,
    Met,
    TexDocument,
    _macro_arguments,
    check_structure,
    collect_definitions,
    find_environment_end,
    latex_to_markdown,
    macro_tokens,
    read_group,
    read_optional,
)
from .model import ImportedCard, ImportedChoice, ImportResult, slugify, topic_title, unique_slug
from .texfiles import from_text, read_exam

QUESTION_ENVS = {"question": False, "questionmult": True, "questionmultx": True}
CHOICE_ENVS = frozenset({"choices", "choiceshoriz", "choicescustom", "reponses", "reponseshoriz"})
CHOICE_ENVS = CHOICE_ENVS | {"reponsesperso"}
CORRECT = frozenset({"correctchoice", "bonne"})
WRONG = frozenset({"wrongchoice", "mauvaise"})
LAST_CHOICES = frozenset({"lastchoices", "alafin"})
SCORING = frozenset({"scoring", "bareme"})
INSERT_GROUP = frozenset({"insertgroup", "restituegroupe"})
# The two choices of a true/false question, by language: (true, false).
TRUE_FALSE = {
    ("true", "false"), ("vrai", "faux"), ("wahr", "falsch"), ("richtig", "falsch"), ("verdadero", "falso"),
    ("verdadeiro", "falso"), ("vero", "falso"), ("waar", "onwaar"), ("juist", "onjuist"), ("prawda", "fałsz"),
    ("sant", "falskt"), ("sand", "falsk"), ("riktig", "feil"), ("tosi", "epätosi"), ("adevărat", "fals"),
    ("pravda", "nepravda"), ("igaz", "hamis"), ("doğru", "yanlış"), ("верно", "неверно"), ("правда", "ложь"),
    ("истина", "ложь"), ("αληθές", "ψευδές"), ("σωστό", "λάθος"), ("จริง", "เท็จ"), ("ถูก", "ผิด"),
    ("đúng", "sai"), ("benar", "salah"), ("正确", "错误"), ("对", "错"), ("正しい", "誤り"), ("참", "거짓"),
    ("verdade", "mentira"), ("cierto", "falso"), ("certo", "errado"),
}
NO_GROUP = Topic("questions", "Questions")
NONE_CORRECT = "None of these answers are correct."
_QUESTION_BEGIN = re.compile(r"\\begin\s*\{(" + "|".join(QUESTION_ENVS) + r")\}")
_IMAGE_PLACEHOLDER = re.compile(r"\*\[image not imported: (.*?)\]\*")
_CHOICES_BEGIN = re.compile(r"\\begin\s*\{(" + "|".join(sorted(CHOICE_ENVS, key=len, reverse=True)) + r")\}")


@dataclass(frozen=True)
class AmcChoice:
    text: str
    correct: bool
    line: int
    pin_last: bool = False  # after \\lastchoices: stays last when choices are shuffled (`pin: last`)


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
    context: str = ""  # shared text of its \element or before its \insertgroup, Markdown
    met: Met | None = None  # what its conversion met (compile-time values, images)
    indicative: bool = False  # \QuestionIndicative: not scored (e.g. a survey)


def import_amc(path: Path) -> ImportResult:
    """Read an AMC exam (its main .tex file and every file it inputs) into cards.

    :raises InvalidSources: malformed LaTeX, a missing or cyclic input, no question: located problems.
    """
    doc, problems = read_exam(path)
    if problems:
        raise InvalidSources(problems)
    return parse_document(doc)


def parse_amc(text: str, path: str, base_dir: Path | None = None) -> ImportResult:
    """Cards from AMC LaTeX source `text` (named `path` in messages; inputs and images looked up in `base_dir`)."""
    doc, problems = from_text(text, path, base_dir)
    if problems:
        raise InvalidSources(problems)
    return parse_document(doc)


def parse_document(doc: TexDocument) -> ImportResult:
    problems = check_structure(doc)
    if problems:
        raise InvalidSources(problems)
    ctx = Context(doc.path, base_dir=doc.base_dir, verbatims=doc.verbatims)
    doc, definitions = expand_question_macros(doc, ctx)
    groups = element_groups(doc)
    inserted = inserted_groups(doc, definitions)
    questions: list[AmcQuestion] = []
    spans: list[tuple[int, int]] = []  # of the questions, for the context around them
    for match in _QUESTION_BEGIN.finditer(doc.text):
        if _inside(definitions.spans, match.start()) or (spans and match.start() < spans[-1][1]):
            continue
        ctx.met = Met()
        question = parse_question(doc, ctx, match, groups)
        if question is not None:
            questions.append(replace(question, met=ctx.met))
            spans.append((match.start(), question_end(doc, match)))
    contexts = element_contexts(doc, ctx, groups, spans)
    contexts.update({(name, -1): text for name, text in group_contexts(doc, ctx, definitions, spans).items()})
    questions = [_with_context(q, s, groups, contexts) for q, s in zip(questions, spans)]
    _warn_loose_text(doc, ctx, groups, spans, definitions)
    cards, topics = questions_to_cards(questions, ctx, inserted)
    if ctx.problems:
        raise InvalidSources(ctx.problems)
    if not cards:
        raise InvalidSources([Problem(doc.path, 1, "", "no AMC question found (expected \\begin{question}{id} ...)")])
    cards = repair_formulas(cards, ctx)
    used_images = {name for card in cards for name in re.findall(r"\]\(images/([^)\s]+)\)", _all_text(card))}
    images = tuple((name, image.data) for name, image in ctx.images.items() if name in used_images)
    warnings = sorted(ctx.warnings, key=lambda w: (w.path != doc.path, w.path, w.line))
    return ImportResult(tuple(cards), tuple(topics), tuple(warnings), images)


def _inside(spans: tuple[tuple[int, int], ...] | list[tuple[int, int]], offset: int) -> bool:
    return any(s <= offset < e for s, e in spans)


def question_end(doc: TexDocument, begin: re.Match[str]) -> int:
    found = find_environment_end(doc.text, begin.group(1), begin.end())
    return found[1] if found else len(doc.text)


def expand_question_macros(doc: TexDocument, ctx: Context) -> tuple[TexDocument, Definitions]:
    """Uses of the exam's macros whose body writes a question (`\\newcommand{\\q}[2]{\\begin{question}{#1}...}`)
    replaced by their body, as TeX would, so that each use becomes its own question."""
    for _ in range(8):
        ctx.macros = {}
        definitions = collect_definitions(doc, ctx)
        if not definitions.question_macros and not definitions.question_envs:
            return doc, definitions
        replacements: list[tuple[int, int, str]] = []
        end = 0
        for token in macro_tokens(doc.text, 0, len(doc.text)):
            name = token.group(1)
            if name in ("begin", "end") and definitions.question_envs and not _inside(definitions.spans, token.start()):
                group = read_group(doc.text, token.end())
                env = definitions.question_envs.get(doc.text[group[0]:group[1]].strip()) if group else None
                if env is not None and group is not None and token.start() >= end:
                    if name == "end":
                        replacements.append((token.start(), group[2], env[1]))
                        end = group[2]
                        continue
                    args, stop = _macro_arguments(doc.text, group[2], env[0])
                    if args is not None:
                        body = env[0].body
                        for k, arg in enumerate(args, start=1):
                            body = body.replace(f"#{k}", arg)
                        replacements.append((token.start(), stop, body))
                        end = stop
                continue
            if name not in definitions.question_macros or token.start() < end or _inside(definitions.spans, token.start()):
                continue
            macro = ctx.macros[name]
            args, stop = _macro_arguments(doc.text, token.end(), macro)
            if args is None:
                continue
            body = macro.body
            for k, arg in enumerate(args, start=1):
                body = body.replace(f"#{k}", arg)
            replacements.append((token.start(), stop, body))
            end = stop
        if not replacements:
            return doc, definitions
        doc = doc.replaced(replacements)
    ctx.macros = {}
    return doc, collect_definitions(doc, ctx)


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


def inserted_groups(doc: TexDocument, definitions: Definitions) -> set[str] | None:
    """Groups that `\\insertgroup` / `\\restituegroupe` put in the exam; None when the exam inserts none."""
    names: set[str] = set()
    for token in macro_tokens(doc.text, 0, len(doc.text)):
        if token.group(1) in INSERT_GROUP and not _inside(definitions.spans, token.start()):
            optional = read_optional(doc.text, token.end())
            group = read_group(doc.text, optional[2] if optional else token.end())
            if group:
                names.add(doc.text[group[0]:group[1]].strip())
    return names or None


def element_contexts(doc: TexDocument, ctx: Context, groups: list[tuple[str, int, int]],
                     spans: list[tuple[int, int]]) -> dict[tuple[str, int], tuple[str, Met]]:
    """The text of each `\\element` outside its questions (a shared statement, data, a figure)."""
    contexts: dict[tuple[str, int], tuple[str, Met]] = {}
    for name, start, end in groups:
        if not any(start <= s < end for s, _ in spans):
            continue
        ctx.met = Met()
        text = latex_to_markdown(doc.text, start, end, ctx, doc.line, [sp for sp in spans if start <= sp[0] < end])
        if text:
            contexts[(name, start)] = (text, ctx.met)
    return contexts


_BOUNDARIES = frozenset({"namefield", "champnom", "AMCcleardoublepage", "clearpage", "newpage", "cleargroup",
                         "onecopy", "exemplaire", "section", "subsection", "section*", "subsection*", "maketitle"})


def boundaries(doc: TexDocument, definitions: Definitions) -> list[int]:
    """Offsets where the exam's body starts anew: after a copy's header (`\\onecopy{n}{`), the name
    field, a heading, a page break. Text before them is the exam's furniture, not a question's context."""
    text = doc.text
    found = []
    for token in macro_tokens(text, 0, len(text)):
        name = token.group(1)
        if name not in _BOUNDARIES or _inside(definitions.spans, token.start()):
            continue
        after = token.end() + text.startswith("*", token.end())
        group = read_group(text, after)
        if name in ("onecopy", "exemplaire") and group:
            body = read_group(text, group[2])
            found.append(body[0] if body else group[2])
        elif group and name not in ("AMCcleardoublepage", "clearpage", "newpage", "maketitle"):
            found.append(group[2])
        else:
            found.append(after)
    return found


def group_contexts(doc: TexDocument, ctx: Context, definitions: Definitions,
                   spans: list[tuple[int, int]]) -> dict[str, tuple[str, Met]]:
    """Text in the exam's body just before `\\insertgroup{g}` (since the previous insert, heading or
    name field): the context of g's questions, with a warning saying so."""
    text = doc.text
    body = re.search(r"\\begin\s*\{document\}", text)
    start = body.end() if body else 0
    found: dict[str, tuple[str, Met]] = {}
    for token in macro_tokens(text, start, len(text)):
        name = token.group(1)
        if _inside(definitions.spans, token.start()) or _inside(spans, token.start()):
            continue
        if name in _BOUNDARIES or name == "element":
            star = text.startswith("*", token.end())
            name = name + "*" if star and name in ("section", "subsection") else name
            group = read_group(text, token.end() + star)
            if name in ("onecopy", "exemplaire") and group:
                start = group[2] if read_group(text, group[2]) is None else read_group(text, group[2])[0]
            elif name == "element" and group:
                body_group = read_group(text, group[2])
                start = body_group[2] if body_group else group[2]
            else:
                start = group[2] if group and name in ("namefield", "champnom", "section", "subsection", "cleargroup",
                                                       "section*", "subsection*") else token.end()
            continue
        if name not in INSERT_GROUP:
            continue
        optional = read_optional(text, token.end())
        group = read_group(text, optional[2] if optional else token.end())
        if group is None:
            continue
        ctx.met = Met()
        shuffles = [(t.start(), read_group(text, t.end())[2]) for t in macro_tokens(text, start, token.start())
                    if t.group(1) in ("shufflegroup", "melangegroupe") and read_group(text, t.end())]
        context = latex_to_markdown(text, start, token.start(), ctx, doc.line, shuffles)
        paragraphs = context.split("\n\n")
        while paragraphs and is_heading(paragraphs[0]):  # part titles are not a statement
            paragraphs.pop(0)
        context = "\n\n".join(paragraphs)
        group_name = text[group[0]:group[1]].strip()
        if context:
            ctx.warn(doc.line(token.start()), f"the text before \\{name}{{{group_name}}} ({context[:40]!r}...) was put "
                                              f"before each question of group {group_name!r} as its context")
            previous = found.get(group_name)
            found[group_name] = (previous[0] + "\n\n" + context if previous else context, ctx.met)
        start = group[2]
    return found


def is_heading(markdown: str) -> bool:
    """A part title (`**Geography**`, `Part 2 - Optics`) rather than a statement: one short line, no
    formula, image or code, no sentence punctuation at its end."""
    plain = re.sub(r"[*_\\]", "", markdown).strip()
    return ("\n" not in plain and len(plain.split()) <= 8 and not re.search(r"[$`!]|\]\(", markdown)
            and not plain.endswith((".", ":", "?", ";")))


def _with_context(question: AmcQuestion, span: tuple[int, int], groups: list[tuple[str, int, int]],
                  contexts: dict[tuple[str, int], tuple[str, Met]]) -> AmcQuestion:
    parts: list[tuple[str, Met]] = []
    if question.group is not None and (question.group, -1) in contexts:
        parts.append(contexts[(question.group, -1)])
    for name, start, end in groups:
        if start <= span[0] < end and (name, start) in contexts:
            parts.append(contexts[(name, start)])
    if not parts:
        return question
    met = question.met or Met()
    merged = Met(*(getattr(met, f) + [c for _, m in parts for c in getattr(m, f)]
                   for f in ("computed", "missing_images", "images", "pictures")))
    return replace(question, context="\n\n".join(text for text, _ in parts), met=merged)


def _warn_loose_text(doc: TexDocument, ctx: Context, groups: list[tuple[str, int, int]],
                     spans: list[tuple[int, int]], definitions: Definitions) -> None:
    """Text just before a question that is not in an `\\element` (after the previous question, or after
    the start of the copy with a formula, image, code or table in it) reaches no card: say where it is."""
    body = re.search(r"\\begin\s*\{document\}", doc.text)
    floor = body.end() if body else 0
    ends = sorted([e for _, e in spans] + [e + 1 for _, _, e in groups] + boundaries(doc, definitions))
    for start, _ in spans:
        if any(s <= start < e for _, s, e in groups):
            continue
        previous = max([floor, *(e for e in ends if e <= start)])
        ctx.met = Met()
        text = latex_to_markdown(doc.text, previous, start, ctx, doc.line)
        paragraphs = [p for p in text.split("\n\n") if p.strip() and not is_heading(p)]
        after_question = any(e == previous for _, e in spans)
        # Before the first question, instructions ("Duration: 1 hour") are the exam's furniture; data is not.
        if paragraphs and (after_question or re.search(r"[$`|]|\]\(", text)):
            text = "\n\n".join(paragraphs)
            at = doc.text.find(text.split()[0][:8], previous, start) if text.split() else -1
            where = at if at >= 0 else previous
            ctx.warn(doc.line(where), f"text outside any question was not imported: {text[:60]!r}; put it inside the "
                                      "question that needs it, or in an \\element with the questions that share it")


def parse_question(
    doc: TexDocument, ctx: Context, begin: re.Match[str], groups: list[tuple[str, int, int]]
) -> AmcQuestion | None:
    text = doc.text
    env = begin.group(1)
    line = doc.line(begin.start())
    optional = read_optional(text, begin.end())  # \\begin{question}[symbol]{id}
    id_group = read_group(text, optional[2] if optional and text[begin.end():optional[0] - 1].strip() == "" else begin.end())
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
    indicative = False
    for token in macro_tokens(text, body_start, body_end):
        if any(s <= token.start() < e for s, e in skip):
            continue
        name = token.group(1)
        if name == "QuestionIndicative":
            indicative = True
        elif name == "begin":
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
        indicative=indicative,
    )


def parse_choices(doc: TexDocument, ctx: Context, start: int, end: int) -> list[AmcChoice]:
    """`\\correctchoice{...}` / `\\wrongchoice{...}` in a choices body; layout ignored, a choice's own
    `\\scoring` reported (a card has no points)."""
    text = doc.text
    options = read_optional(text, start, end)  # e.g. [o]: keep the order (we always do)
    i = options[2] if options and text[start:options[0] - 1].strip() == "" else start
    choices = []
    pin_last = False
    for token in macro_tokens(text, i, end):
        name = token.group(1)
        if token.start() < i or name not in CORRECT | WRONG | SCORING | LAST_CHOICES:
            continue
        _warn_stray(doc, ctx, i, token.start())
        if name in LAST_CHOICES:
            pin_last, i = True, token.end()
            continue
        label = read_optional(text, token.end(), end) if name not in SCORING else None
        group = read_group(text, label[2] if label else token.end(), end)
        if group is None:
            ctx.error(doc.line(token.start()), f"\\{name} needs its argument in braces: \\{name}{{...}}")
            i = token.end()
            continue
        if name not in SCORING:
            choice = latex_to_markdown(text, group[0], group[1], ctx, doc.line)
            choices.append(AmcChoice(choice, name in CORRECT, doc.line(token.start()), pin_last))
        elif choices and _scoring_contradicts(text[group[0]:group[1]], choices[-1].correct):
            # A "wrong" choice the exam rewards (or a correct one it does not): a card has no points, and
            # its correct/wrong mark may not be what the exam means. Never dropped without a word.
            ctx.warn(doc.line(token.start()), f"\\{name}{{{text[group[0]:group[1]]}}} gives choice "
                     f"{chr(ord('A') + len(choices) - 1)} ({'correct' if choices[-1].correct else 'wrong'}) points "
                     "that contradict its mark, and a card has no points: check which choices the exam rewards")
        i = group[2]
    _warn_stray(doc, ctx, i, end)
    return choices


def _scoring_contradicts(scoring: str, correct: bool) -> bool:
    """Whether a choice's own AMC scoring (`10`, `b=2`, `b=0,m=-1`) rewards a wrong choice with more
    than 0 points, or gives a correct one 0 or less. The points for ticking it are the bare number or `b`."""
    values = dict(part.split("=", 1) if "=" in part else ("", part) for part in scoring.replace(" ", "").split(","))
    ticked = values.get("", values.get("b"))
    try:
        points = float(ticked) if ticked is not None else None
    except ValueError:
        return False  # a formula of AMC's own (e.g. with variables): not ours to judge
    if points is None:
        return False
    return points > 0 if not correct else points <= 0


def _warn_stray(doc: TexDocument, ctx: Context, start: int, end: int) -> None:
    """Layout macros between choices convert to nothing; anything else is worth a warning."""
    stray = latex_to_markdown(doc.text, start, end, ctx, doc.line)
    if stray:
        first = start + len(doc.text[start:end]) - len(doc.text[start:end].lstrip())
        ctx.warn(doc.line(first), f"text in a choices list outside any choice was ignored: {stray[:40]!r}")


def questions_to_cards(questions: list[AmcQuestion], ctx: Context,
                       inserted: set[str] | None = None) -> tuple[list[ImportedCard], list[Topic]]:
    """Cards in exam order, and their topics. An AMC id used twice keeps its card id on the question
    of a group the exam inserts (else the first); the other gets `id-2`, with a warning."""
    topics: dict[str | None, Topic] = {}
    slugs: set[str] = set()
    cards: list[ImportedCard] = []
    used_ids: set[str] = set()
    order = sorted(range(len(questions)), key=lambda k: (inserted is not None and questions[k].group not in inserted, k))
    ids: dict[int, str] = {}
    first_line: dict[str, object] = {}
    for k in order:
        question = questions[k]
        duplicate = question.amc_id in first_line
        card_id = _card_id(question, k + 1, used_ids, ctx, quiet=duplicate)
        if duplicate:
            ctx.warn(question.line, f"question id {question.amc_id!r} is used twice (also at {first_line[question.amc_id]}"
                                    f"{'' if inserted is None or question.group in inserted else '; this one is in a group the exam never inserts'}):"
                                    f" this one is imported as {card_id!r}")
        else:
            path = getattr(question.line, "path", ctx.path)
            first_line[question.amc_id] = f"line {int(question.line)}" + ("" if path == ctx.path else f" of {path}")
        ids[k] = card_id
    for k, question in enumerate(questions):
        if question.group not in topics:
            topic = _topic(question.group)
            topics[question.group] = Topic(unique_slug(topic.slug, slugs, "group"), topic.title)
        card = question_to_card(question, ids[k], topics[question.group].slug, ctx)
        if card is not None:
            cards.append(card)
    return cards, list(topics.values())


def question_to_card(question: AmcQuestion, card_id: str, topic: str, ctx: Context) -> ImportedCard | None:
    """The card for one question, by the rules in the module docstring."""
    card = _question_to_card(question, card_id, topic, ctx)
    if card is None:
        return None
    if question.context:
        card = _replace(card, question=question.context + "\n\n" + card.question)
    met = question.met or Met()
    notes: list[str] = [card.notes] if card.notes else []
    if met.computed:
        names = ", ".join(dict.fromkeys(met.computed))
        notes.append(f"Values computed when LaTeX compiles the exam cannot be known from its source: {names}. "
                     "They are shown as their LaTeX name; write the values the compiled exam shows, then remove "
                     "`status: draft`.")
        ctx.warn(question.line, f"question {question.amc_id!r} uses values computed at compile time ({names}): "
                                "imported as a draft")
    for name in dict.fromkeys(met.missing_images):
        notes.append(f"Image {name!r} (\\includegraphics in the exam) was not found: put the file next to the exam and "
                     "import again, or replace the placeholder, then remove `status: draft`.")
    for name in dict.fromkeys(met.pictures):
        notes.append(f"The exam draws a figure with LaTeX ({name}); the card shows its source. Replace it with an image "
                     "(![caption](images/FILE)) or a generated figure, then remove `status: draft`.")
    if question.indicative:
        notes.append("AMC marks this question \\QuestionIndicative: it is not scored (e.g. a survey), so it may have no "
                     "answer to learn. Keep it only if it teaches something, then remove `status: draft`.")
    if len(notes) == (1 if card.notes else 0):
        return card
    return _replace(card, status="draft", notes="\n\n".join(notes))


def true_false_answer(choices: tuple[AmcChoice, ...]) -> bool | None:
    """For two choices that say true and false in one language (see TRUE_FALSE), one of them correct:
    whether the correct one is the true one; else None."""
    if len(choices) != 2 or sum(c.correct for c in choices) != 1:
        return None
    words = [re.sub(r"[*_\s.!]", "", c.text).casefold() for c in choices]
    for true, false in TRUE_FALSE:
        if sorted(words) == sorted((true, false)):
            correct = next(w for w, c in zip(words, choices) if c.correct)
            return correct == true
    return None


def _question_to_card(question: AmcQuestion, card_id: str, topic: str, ctx: Context) -> ImportedCard | None:
    file = "questions.yaml" if topic == NO_GROUP.slug else f"{'deck-' if topic == 'deck' else ''}{topic}.yaml"
    base = ImportedCard(id=card_id, type="open", topics=(topic,), question=question.question or "(no text)",
                        file=file, line=question.line)
    if not question.question:
        ctx.warn(question.line, f"question {question.amc_id!r} has no text")
    if question.open_answer is not None or not question.choices:
        return _open_card(question, base, ctx)
    correct = [c for c in question.choices if c.correct]
    answer = true_false_answer(question.choices)
    if answer is not None:
        return _replace(base, type="truefalse", answer=answer, explanation=question.explanation)
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
    choices = [ImportedChoice(c.text, c.correct, c.pin_last) for c in question.choices]
    multiple, notes = question.multiple, ""
    if len(choices) < 2:
        ctx.error(question.line, f"question {question.amc_id!r} has a single choice: an mcq needs at least two")
        return None
    if not correct and not multiple:
        ctx.error(question.line, f"question {question.amc_id!r} has no \\correctchoice")
        return None
    if not correct:
        # What AMC's `completemulti` prints: the box to tick when no other answer is right.
        choices.append(ImportedChoice(NONE_CORRECT, True, pin_last=True))
        notes = f"No choice is correct in the AMC source: the choice {NONE_CORRECT!r} was added."
        ctx.warn(question.line, f"questionmult {question.amc_id!r} has no correct choice: "
                                f"added {NONE_CORRECT!r} as the correct one")
    elif len(correct) > 1 and not multiple:
        if not question.indicative:
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
    return Topic(slugify(group), topic_title(group))


def _card_id(question: AmcQuestion, index: int, used: set[str], ctx: Context, quiet: bool = False) -> str:
    """The AMC id as a card id: stable across imports as long as the AMC id is."""
    card_id = slugify(question.amc_id, keep_underscore=True)
    if not card_id:
        card_id = f"q{index}"
        ctx.warn(question.line, f"question id {question.amc_id!r} gives no usable card id: using {card_id!r}")
    taken = card_id in used
    card_id = unique_slug(card_id, used, card_id)
    if taken and not quiet:
        ctx.warn(question.line, f"question id {question.amc_id!r} gives the same card id as another one: using {card_id!r}")
    return card_id


def _all_text(card: ImportedCard) -> str:
    return "\n".join([card.question, card.explanation, card.answer if isinstance(card.answer, str) else "",
                      *(c.text for c in card.choices)])


@dataclass(frozen=True)
class FoundFormula:
    """A formula our converter wrote in a text field: where it is, its TeX, display or inline."""

    start: int
    end: int
    tex: str
    display: bool

    def placeholder(self) -> str:
        """The formula's source, shown as typewriter text in a formula MathJax can typeset."""
        from .latex import code_in_math

        if self.display:
            return "$$\n" + code_in_math(re.sub(r"\s*\n\s*", " ", self.tex.strip())) + "\n$$"
        return "$" + code_in_math(self.tex.strip()) + "$"


def repair_formulas(cards: list[ImportedCard], ctx: Context) -> list[ImportedCard]:
    """Formulas that Anki's MathJax would refuse (an unknown macro, a package it lacks) are shown as
    their source in typewriter (`\\mathtt{...}`), and their card becomes a draft whose notes name the
    error: an import's output always passes `examdeck check`."""
    from ..mathcheck import Formula, MathCheckUnavailable, check_formulas, lint_formula, structural_errors

    found = [(k, field, f) for k, card in enumerate(cards) for field, text in _text_fields(card) for f in formulas_in(text)]
    formulas = [Formula(f.tex, f.display) for _, _, f in found]
    if not formulas:
        return cards
    try:
        errors = list(check_formulas(formulas).errors)
    except MathCheckUnavailable:
        errors = ["; ".join(structural_errors(f.tex)) or None for f in formulas]
    broken: dict[int, list[tuple[str, FoundFormula, str]]] = {}
    for (k, field, formula), error in zip(found, errors):
        messages = ([error] if error else []) + lint_formula(formula.tex)
        if messages:
            broken.setdefault(k, []).append((field, formula, "; ".join(messages)))
    out = list(cards)
    for k, problems in broken.items():
        card = _replace_fields(out[k], problems)
        reasons = "; ".join(f"${f.tex.strip()[:60]}$: {message}" for _, f, message in problems)
        ctx.warn(card.line, f"card {card.id!r}: {len(problems)} formula(s) Anki cannot typeset ({reasons}): "
                            "shown as LaTeX source, the card is a draft")
        note = (f"Formulas Anki's MathJax cannot typeset were replaced by their LaTeX source ({reasons}): rewrite them "
                "with what MathJax knows, then remove `status: draft`.")
        out[k] = _replace(card, status="draft", notes=(card.notes + "\n\n" + note).strip())
    return out


_FORMULA = re.compile(r"(?<![\\$])(?:(?P<display>\$\$)(?P<dtex>.+?)\$\$|\$(?P<itex>[^$]+?)\$)", re.DOTALL)


def formulas_in(text: str) -> list[FoundFormula]:
    """The formulas our converter wrote in `text` (code spans and blocks skipped)."""
    masked = re.sub(r"(?ms)^(`{3,}).*?^\1|(`+).*?\2", lambda m: " " * len(m.group()), text)
    found = []
    for m in _FORMULA.finditer(masked):
        group = "dtex" if m.group("display") else "itex"
        found.append(FoundFormula(m.start(), m.end(), text[m.start(group):m.end(group)], bool(m.group("display"))))
    return found


def _text_fields(card: ImportedCard) -> list[tuple[str, str]]:
    fields = [("question", card.question), ("explanation", card.explanation)]
    if isinstance(card.answer, str):
        fields.append(("answer", card.answer))
    fields += [(f"choice{i}", c.text) for i, c in enumerate(card.choices)]
    return fields


def _replace_fields(card: ImportedCard, problems: list[tuple[str, FoundFormula, str]]) -> ImportedCard:
    """`card` with each broken formula replaced by its placeholder, field by field."""
    by_field: dict[str, list[FoundFormula]] = {}
    for field, formula, _ in problems:
        by_field.setdefault(field, []).append(formula)

    def apply(text: str, formulas: list[FoundFormula]) -> str:
        for formula in sorted(formulas, key=lambda f: f.start, reverse=True):
            text = text[:formula.start] + formula.placeholder() + text[formula.end:]
        return text

    changes: dict[str, object] = {}
    for field in ("question", "explanation", "answer"):
        if field in by_field:
            changes[field] = apply(getattr(card, field), by_field[field])
    if any(f.startswith("choice") for f in by_field):
        changes["choices"] = tuple(replace(c, text=apply(c.text, by_field.get(f"choice{i}", [])))
                                   for i, c in enumerate(card.choices))
    return _replace(card, **changes)


def _replace(card: ImportedCard, **changes: object) -> ImportedCard:
    return replace(card, **changes)  # type: ignore[arg-type]
