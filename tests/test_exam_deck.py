"""The CS-433 2024 deck as students get it: complete, correctly answered, rendering in Anki."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from conftest import REPO, import_package
from examdeck.pipeline import BuildOptions, build, check, load_decks

CARDS = REPO / "cards"
EXPLANATORY_FIGURES = {
    "q05": "logreg-weight-norm", "q18": "mse-mae-outlier", "q22": "svm-support-vectors",
    "q24": "em-local-optima", "q34b": "gelu-relu", "q39": "diffusion-forward",
}


@pytest.fixture(scope="module")
def deck():
    (deck,) = load_decks(CARDS)
    return deck


@pytest.fixture(scope="module")
def imported(tmp_path_factory, figures_dir):
    """The default deck and the one with nullified questions, each imported into a fresh collection."""
    from anki.collection import Collection

    result = {}
    for label, include in (("default", False), ("all", True)):
        root = tmp_path_factory.mktemp(label)
        built, _ = build(CARDS, BuildOptions(out_dir=root / "build", figures_dir=figures_dir, include_nullified=include))
        col = Collection(str(root / "collection.anki2"))
        import_package(col, built[0].path)
        result[label] = col
    yield result
    for col in result.values():
        col.close()


def notes(col):
    return [col.get_note(n) for n in col.find_notes("")]


def question_numbers(col) -> set[int]:
    tags = {t for note in notes(col) for t in note.tags}
    return {int(m.group(1)) for t in tags if (m := re.fullmatch(r"exam::cs433-2024::q(\d\d)", t))}


def test_every_question_is_present(imported):
    assert question_numbers(imported["all"]) == set(range(1, 43))
    assert question_numbers(imported["default"]) == set(range(1, 43)) - {20, 26}


def test_type_counts_and_atomic_parts(imported):
    default = notes(imported["default"])
    types = Counter(t.split("::")[1] for n in default for t in n.tags if t.startswith("type::"))
    assert types["mcq"] == 12 and types["truefalse"] == 18
    ids = {n["Id"] for n in default}
    assert {"q33a", "q33b", "q33c", "q34a", "q34b", "q34c"} <= ids
    for q in ("q33", "q34"):
        parts = [n for n in default if n["Id"].startswith(q)]
        assert len(parts) == 3
        assert all(f"exam::cs433-2024::{q}" in n.tags for n in parts)


def test_nullified_questions_are_tagged(imported):
    nullified = {n["Id"] for n in notes(imported["all"]) if "status::nullified" in n.tags}
    assert nullified == {"q20", "q26"}


def test_every_mcq_has_one_correct_choice_matching_its_answer(deck, imported):
    by_id = {n["Id"]: n for n in notes(imported["default"])}
    for card in (c for c in deck.cards if c.type == "mcq"):
        assert sum(c.correct for c in card.choices) == 1, card.id
        note = by_id[card.id]
        assert not re.search(r'(class|data-[a-z]+)="[^"]*correct', note["Choices"]), "the front's field never tells the answer"
        n = [c.correct for c in card.choices].index(True) + 1
        assert note["Correct"] == str(n)  # the back's key
        correct = re.findall(rf'<li data-n="{n}"[^>]*>(.*?)</li>', note["Choices"], re.DOTALL)
        assert len(correct) == 1
        letter = "ABCDEFGHIJ"[n - 1]
        assert note["Answer"] == f'<span class="mcq-letter" data-n="{n}">{letter}</span>. {correct[0]}'


def test_every_card_renders_without_template_errors(imported):
    col = imported["all"]
    for note in notes(col):
        for card in note.cards():
            output = card.render_output(reload=True)
            for side in (output.question_text, output.answer_text):
                assert "{{" not in side
                assert not re.search(r"(?<!\\)\$", side), f"{note['Id']}: a $ reached the card"
            assert note["Question"] in output.answer_text


def test_every_card_has_topic_source_and_points(deck):
    for card in deck.cards:
        assert card.topics
        assert card.source is not None and card.source.question is not None
        if card.type != "open":
            assert card.source.points == (2 if card.type == "mcq" else 1.5), card.id
    q8 = next(c for c in deck.cards if c.id == "q08")
    assert {"gmm-em", "kmeans"} <= set(q8.topics)


def test_figures_are_on_the_cards_they_illustrate(imported):
    by_id = {n["Id"]: n for n in notes(imported["default"])}
    for card_id in ("q01", "q02"):
        assert "examdeck-loss-datasets-" in by_id[card_id]["Figure"]
    assert "examdeck-gmm-datasets-" in by_id["q08"]["Figure"]
    for card_id, figure in EXPLANATORY_FIGURES.items():
        note = by_id[card_id]
        assert f"examdeck-{figure}-" in note["Explanation"] + note["Answer"], card_id


def test_every_formula_passes_the_mathjax_check():
    report = check(CARDS)
    formulas = sum(len(r.formulas) for d in report.decks for r in d.rendered.values())
    assert formulas > 500


# -- a deck that fits a phone (issue 16) ---------------------------------------------------------

import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from html import unescape  # noqa: E402

from examdeck.mathcheck import default_runner_dir  # noqa: E402

# The 44 ids published before the review of issue 16: none may disappear or change type.
PUBLISHED = {f"q{n:02d}": "mcq" for n in range(1, 13)} | {f"q{n}": "truefalse" for n in range(13, 33)} | {
    "q33a": "open", "q33b": "open", "q33c": "open", "q34a": "open", "q34b": "open", "q34c": "open",
    **{f"q{n}": "open" for n in range(35, 43)},
}
Q41_STEPS = {"q41-score-identity", "q41-cross-term", "q41-complete-square"}

# How wide a formula may be on a 360 px phone card, as Anki shows it there: a line of text is
# 360 - 2 * 20 (reviewer margin) - 2 * 0.2 * 17 (card padding) = 313.2 px, less the explanation
# panel's or the choices list's padding. MathJax scales its math to the text's x-height (about
# 0.53 em on phones, against 0.442 em in the TeX fonts): 1 em of MathJax is 1.2 * 17 px. A
# display formula must fit the line; an inline one, which MathJax never breaks, half of it, unless
# it is a whole choice by itself. (The first estimate, 18.5 em and 9 em, ignored the 1.2
# scale; Chromium shows 1 em of MathJax at 20 px there.)
LINE_PX = 313.2
FIELD_LINE_PX = {"Question": LINE_PX, "Answer": LINE_PX, "Explanation": LINE_PX - 1.6 * 17, "Choices": LINE_PX - 2.8 * 17}
MATH_PX_PER_EM = 1.2 * 17
# MathJax's SVG output gives widths in ex of its TeX font, whose x-height is 0.442 em.
TEX_X_HEIGHT_EM = 0.442
SIDE_MAX_CHARS = 1600

# Typesets each formula with MathJax 3.2.2 (the packages Anki loads, minus textmacros) and prints
# its width in ex, one per input.
WIDTH_JS = r"""
const { createRequire } = require("node:module");
const req = createRequire(process.argv[1] + "/package.json");
const { mathjax } = req("mathjax-full/js/mathjax.js");
const { TeX } = req("mathjax-full/js/input/tex.js");
const { SVG } = req("mathjax-full/js/output/svg.js");
const { liteAdaptor } = req("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = req("mathjax-full/js/handlers/html.js");
const { AllPackages } = req("mathjax-full/js/input/tex/AllPackages.js");
const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const tex = new TeX({ packages: AllPackages.filter((p) => p !== "textmacros") });
const doc = mathjax.document("", { InputJax: tex, OutputJax: new SVG({ fontCache: "none" }) });
const items = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = items.map((it) => {
  const node = doc.convert(it.tex, { display: it.display, em: 16, ex: 8, containerWidth: 100000 });
  return parseFloat(adaptor.getAttribute(adaptor.firstChild(node), "width"));
});
process.stdout.write(JSON.stringify(out));
"""


def _text(field) -> str:
    """The Markdown of an optional text field ("" for none or a true/false answer)."""
    return field.text if field is not None and not isinstance(field, bool) else ""


def _widths_em(items: list[dict]) -> list[float]:
    runner = default_runner_dir()
    node = shutil.which("node")
    if node is None or not (runner / "node_modules" / "mathjax-full").is_dir():
        pytest.skip("Node.js and mathjax/node_modules are needed to measure formulas")
    formulas = [{"tex": it["tex"], "display": it["display"]} for it in items]
    done = subprocess.run([node, "-e", WIDTH_JS, str(runner)], input=json.dumps(formulas), capture_output=True,
                          text=True, check=True, timeout=300)
    return [ex * TEX_X_HEIGHT_EM for ex in json.loads(done.stdout)]


def test_the_width_measure_is_in_em():
    assert _widths_em([{"tex": r"\quad", "display": False}, {"tex": r"\qquad", "display": True}]) == pytest.approx([1, 2], abs=0.01)


def test_every_formula_fits_a_phone_card(imported):
    items = []
    for note in notes(imported["all"]):
        mcq = "type::mcq" in note.tags
        for field, room in FIELD_LINE_PX.items():
            if field not in note.keys() or (mcq and field == "Answer"):
                continue  # the correct choice again, after its letter: judged as a choice
            for m in re.finditer(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", note[field], re.DOTALL):
                display = m.group(2) is not None
                alone = field == "Choices" and re.search(r"<li[^>]*>\s*$", note[field][:m.start()]) is not None
                items.append({"tex": unescape(m.group(2) if display else m.group(1)), "display": display,
                              "room": room if display or alone else room / 2, "where": f"{note['Id']} {field}"})
    assert len(items) > 900
    too_wide = [(it["where"], round(w * MATH_PX_PER_EM), round(it["room"]), it["tex"][:60])
                for it, w in zip(items, _widths_em(items), strict=True) if w * MATH_PX_PER_EM > it["room"]]
    assert too_wide == []


def test_choices_are_inline_math(deck):
    for card in deck.cards:
        for choice in card.choices:
            assert "$$" not in choice.text, card.id


def test_every_card_side_fits_about_one_phone_screen(deck):
    for card in deck.cards:
        front = len(card.question.text.strip()) + sum(len(c.text) for c in card.choices)
        back = len(_text(card.answer)) + len(_text(card.explanation))
        assert front <= SIDE_MAX_CHARS and back <= SIDE_MAX_CHARS, (card.id, front, back)


def test_no_published_id_disappears_or_changes_type(deck):
    by_id = {c.id: c for c in deck.cards}
    assert {i: by_id[i].type for i in PUBLISHED} == PUBLISHED
    assert set(by_id) == set(PUBLISHED) | Q41_STEPS


def test_q41_is_split_into_steps_of_question_41(imported):
    parts = [n for n in notes(imported["default"]) if n["Id"] in Q41_STEPS | {"q41"}]
    assert len(parts) == 4
    assert all("exam::cs433-2024::q41" in n.tags and "type::open" in n.tags for n in parts)


def test_true_false_stems_leave_the_prompt_to_the_template(deck):
    for card in (c for c in deck.cards if c.type == "truefalse"):
        assert "true or false" not in card.question.text.lower(), card.id


def test_exam_figures_say_they_are_redrawn(deck):
    for card in (c for c in deck.cards if c.figure):
        assert "redrawn from the exam's description" in card.question.text, card.id


def test_no_card_gives_another_cards_answer(deck):
    by_id = {c.id: c for c in deck.cards}
    assert "MAE" not in _text(by_id["q01"].explanation) and "MSE" not in _text(by_id["q02"].explanation)
    assert "intractable" not in by_id["q41"].question.text
    # q08's stem must not single out dataset D (its figure shows the data).
    assert not re.search(r"\bD has\b|\bD:|dataset D", by_id["q08"].question.text, re.IGNORECASE)
    # q12: BERT masks input tokens; the causal -infinity mask is GPT's.
    assert "[MASK]" in _text(by_id["q12"].explanation) and "causal" in _text(by_id["q12"].explanation)


def test_mcq_explanations_never_name_a_choice_by_letter_or_position(deck):
    pattern = re.compile(r"\b(option|choice|answer)\s*\(?[A-H]\b\)?|\((?:[a-h])\)|\b(first|second|third|fourth|last) (option|choice|one)\b")
    for card in (c for c in deck.cards if c.type == "mcq"):
        assert not pattern.search(_text(card.explanation)), card.id
