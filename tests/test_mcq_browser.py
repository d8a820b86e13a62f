"""Choices on the card, in headless Chromium: the HTML the official anki library renders for the built
deck, shown as Anki desktop/AnkiMobile show it (the back replaces the front in one page) and as
AnkiDroid may (the back as a fresh page), with Anki's MathJax and the note type's CSS.

tests/browser/cards.cjs drives Chromium (playwright-core, `npm ci --prefix tests/browser`) and reports
what the student sees; the assertions are here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import REPO, import_package
from examdeck.pipeline import BuildOptions, build
from examdeck.preview import _mathjax_config_js, mathjax_dir

pytest.importorskip("anki")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NODE = shutil.which("node")
DRIVER = REPO / "tests" / "browser" / "cards.cjs"
PLAYWRIGHT = REPO / "tests" / "browser" / "node_modules" / "playwright-core"
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(NODE is None, reason="Node.js is not installed"),
    pytest.mark.skipif(not PLAYWRIGHT.is_dir(), reason="playwright-core is not installed: npm ci --prefix tests/browser"),
]

DECK = """\
key: choices-fixture
title: Choices fixture
topics:
  - {slug: stats, title: Statistics}
"""

CARDS = r"""
cards:
  - id: median
    type: mcq
    topics: [stats]
    question: Which value is the median of $\{7, 1, 4, 9, 3\}$?
    choices:
      - {text: "$1$", correct: false}
      - {text: "$3$", correct: false}
      - {text: "$4$", correct: true}
      - {text: "$7$", correct: false}
      - {text: "$\\frac{24}{5}$", correct: false}
    explanation: Sorted, the values are $1, 3, 4, 7, 9$; the middle one is $4$. The mean is $24/5$.
  - id: unbiased
    type: mcq
    multiple: true
    topics: [stats]
    question: Which estimators are unbiased for the mean $\mu$ of i.i.d. samples $x_1, \dots, x_n$?
    choices:
      - {text: "$\\bar x = \\frac{1}{n}\\sum_i x_i$", correct: true}
      - {text: "$x_1$ alone", correct: true}
      - {text: "$\\max_i x_i$", correct: false}
      - {text: "$\\frac{1}{n+1}\\sum_i x_i$", correct: false}
      - text: All of the above.
        correct: false
        pin: last
    explanation: Both the sample mean and a single sample have expectation $\mu$; the maximum and the shrunk mean do not.
  - id: ordered
    type: mcq
    shuffle: false
    topics: [stats]
    question: How many parameters does a Gaussian in $\mathbb{R}^2$ have?
    choices:
      - {text: "$4$", correct: false}
      - {text: "$5$", correct: true}
      - {text: "$6$", correct: false}
    explanation: Option B, because the mean has $2$ and the symmetric covariance $3$.
  - id: variance-shift
    type: truefalse
    topics: [stats]
    question: Adding a constant to every sample changes the sample variance.
    answer: false
    explanation: The variance measures spread around the mean, which moves with the samples.
  - id: variance-scale
    type: truefalse
    topics: [stats]
    question: Doubling every sample multiplies the sample variance by $4$.
    answer: true
  - id: iqr
    type: open
    topics: [stats]
    question: Define the interquartile range.
    answer: $Q_3 - Q_1$, the spread of the middle half of the data.
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, figures_dir: Path) -> dict[str, dict[str, str]]:
    """Each note of the built fixture deck, imported with the official library: its sides and CSS."""
    root = tmp_path_factory.mktemp("choices")
    (root / "cards" / "choices").mkdir(parents=True)
    (root / "cards" / "choices" / "deck.yaml").write_text(DECK, encoding="utf-8")
    (root / "cards" / "choices" / "cards.yaml").write_text(textwrap.dedent(CARDS), encoding="utf-8")
    (built,), _ = build(root / "cards", BuildOptions(out_dir=root / "build", figures_dir=figures_dir, math_check=False))
    return imported_sides(built.path, root / "student")


def imported_sides(apkg: Path, student: Path) -> dict[str, dict[str, str]]:
    """Each note of `apkg` imported into a new collection with the official library: its sides, CSS and type."""
    from anki.collection import Collection

    student.mkdir()
    col = Collection(str(student / "collection.anki2"))
    try:
        import_package(col, apkg)
        sides = {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            cards = note.cards()
            if not cards:  # a retired note ships without cards
                continue
            output = cards[0].render_output(reload=True)
            sides[note["Id"]] = {"front": output.question_text, "back": output.answer_text, "css": output.css,
                                 "type": note.note_type()["name"], "media": col.media.dir()}
        return sides
    finally:
        col.close()


def run_driver(tmp_path: Path, sides: dict[str, dict[str, str]], cards: list[dict], sweep: list[dict] = ()) -> dict:
    css = next(iter(sides.values()))["css"]
    plan = {
        "chromium": CHROMIUM,
        "css": css,
        "mathjaxConfig": _mathjax_config_js(),
        "mathjaxDir": str(mathjax_dir() / "es5"),
        "mediaDir": next(iter(sides.values()))["media"],
        "cards": [{**card, "front": sides[card["name"]]["front"], "back": sides[card["name"]]["back"]} for card in cards],
        "sweep": [{**card, "front": sides[card["name"]]["front"], "back": sides[card["name"]]["back"]} for card in sweep],
    }
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    proc = subprocess.run([NODE, str(DRIVER), str(plan_file)], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def report(rendered: dict[str, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> dict:
    cards = [
        # Tap the 2nd choice shown (then, on the desktop, press 4: the pick is the 4th one shown).
        {"name": "median", "type": "mcq", "clicks": [1], "keys": ["4"], "reviews": 12},
        # Tap the 1st, 2nd and 5th shown (5th: the pinned "All of the above").
        {"name": "unbiased", "type": "mcq", "clicks": [0, 1, 4], "reviews": 12},
        {"name": "ordered", "type": "mcq", "clicks": [1], "reviews": 6, "night": True},
        {"name": "variance-shift", "type": "truefalse", "clicks": [0]},  # True, but the statement is false
        {"name": "variance-scale", "type": "truefalse", "clicks": [], "keys": ["t"]},
        {"name": "iqr", "type": "open", "clicks": []},
    ]
    return run_driver(tmp_path_factory.mktemp("driver"), rendered, cards)


# --- the HTML: no front holds the answer ------------------------------------------------------------


def test_no_front_holds_the_answer(rendered: dict[str, dict[str, str]]) -> None:
    for card_id, sides in rendered.items():
        front = sides["front"].split("<script>")[0]  # the script is the same on both sides and reads the back's key
        assert "correct" not in front.lower(), card_id
        assert "data-correct" in sides["back"] or "mcq" not in sides["type"] and "data-correct" not in sides["back"]


def test_no_script_error_on_any_card(report: dict) -> None:
    assert report["errors"] == []


# --- multiple choice ------------------------------------------------------------------------------


@pytest.mark.parametrize("client", ["fresh", "desktop", "desktopNoStorage"])
def test_pick_survives_to_the_back_in_the_same_order_and_is_graded(report: dict, client: str) -> None:
    seen = report["cards"]["median"]
    front, back = seen[f"{client}Front"], seen[f"{client}Back"]
    assert front["js"] and set(front["roles"]) == {"radio"}
    assert sorted(front["order"]) == ["1", "2", "3", "4", "5"]
    picked_index = 3 if client == "desktop" else 1  # the desktop run also pressed 4 after the tap
    assert front["checked"] == ["true" if i == picked_index else "false" for i in range(5)]
    assert not front["hasCorrectClass"] and front["verdict"] is None
    assert back["order"] == front["order"] and back["checked"] == front["checked"]
    picked = front["order"][picked_index]
    correct_at = back["order"].index("3")
    assert "correct" in back["classes"][correct_at] and "\u2714" in back["marks"][correct_at]
    if picked == "3":
        assert back["verdict"] == "Right." and back["verdictClass"].endswith("right")
    else:
        at = back["order"].index(picked)
        assert "wrong" in back["classes"][at] and "your pick" in back["marks"][at]
        letter = "ABCDE"[correct_at]
        assert back["verdict"] == f"Wrong: you picked {'ABCDE'[at]}; the answer is {letter}."
    # The Answer line's letter follows the order shown.
    assert back["letters"] == [["3", "ABCDE"[correct_at]]]
    assert back["typeset"] >= 6 and back["mathErrors"] == 0


def test_multiple_answers_are_checkboxes_and_missed_ones_are_shown(report: dict) -> None:
    seen = report["cards"]["unbiased"]
    for client in ("fresh", "desktop", "desktopNoStorage"):
        front, back = seen[f"{client}Front"], seen[f"{client}Back"]
        assert set(front["roles"]) == {"checkbox"} and front["hint"] == "Select all that apply."
        assert front["order"][-1] == "5", "the choice pinned last stays last"
        assert front["checked"] == ["true", "true", "false", "false", "true"]
        assert back["order"] == front["order"] and back["checked"] == front["checked"]
        picked = {front["order"][i] for i in (0, 1, 4)}
        for at, n in enumerate(back["order"]):
            classes = back["classes"][at].split()
            assert ("correct" in classes) == (n in {"1", "2"})
            assert ("wrong" in classes) == (n in picked - {"1", "2"})
            assert ("missed" in classes) == (n in {"1", "2"} - picked)
        assert back["verdict"].startswith("Not quite: ") and "wrong: " in back["verdict"]
        assert ("missed: " in back["verdict"]) == bool({"1", "2"} - picked)


def test_a_new_order_at_every_review_with_pinned_and_fixed_choices_kept(report: dict) -> None:
    median = report["cards"]["median"]["orders"]
    assert len(median) == 12 and len({tuple(order) for order in median}) > 1
    unbiased = report["cards"]["unbiased"]["orders"]
    assert all(order[-1] == "5" for order in unbiased) and len({tuple(o) for o in unbiased}) > 1
    assert report["cards"]["ordered"]["orders"] == [["1", "2", "3"]] * 6
    assert report["cards"]["ordered"]["freshBack"]["order"] == ["1", "2", "3"]


def test_back_alone_shows_the_answer_and_no_pick(report: dict) -> None:
    back = report["cards"]["median"]["backAlone"]
    assert back["order"] == ["1", "2", "3", "4", "5"] and back["checked"] == ["false"] * 5
    assert back["verdict"] == "Not answered on the front: the answer is C."


def test_without_scripts_the_back_highlights_the_correct_choice_in_source_order(report: dict) -> None:
    for name, correct in (("median", {"3"}), ("unbiased", {"1", "2"}), ("ordered", {"2"})):
        front, back = report["cards"][name]["noScriptFront"], report["cards"][name]["noScriptBack"]
        assert not back["js"] and back["order"] == sorted(back["order"], key=int)
        assert front["order"] == back["order"] and not front["hasCorrectClass"]
        assert len(set(front["backgrounds"])) == 1, "nothing on the front tells the correct choice"
        plain = {bg for n, bg in zip(back["order"], back["backgrounds"]) if n not in correct}
        marked = {bg for n, bg in zip(back["order"], back["backgrounds"]) if n in correct}
        assert len(marked) == 1 and not marked & plain, (name, back["backgrounds"])
        assert all(("\u2714" in after) == (n in correct) for n, after in zip(back["order"], back["after"]))
        assert back["verdict"] is None


# --- true or false ---------------------------------------------------------------------------------


def test_true_false_buttons_pick_and_grade(report: dict) -> None:
    shift = report["cards"]["variance-shift"]
    for client in ("fresh", "desktop", "desktopNoStorage"):
        front, back = shift[f"{client}Front"], shift[f"{client}Back"]
        assert front["tfShown"] and [b["checked"] for b in front["tf"]] == ["true", "false"]
        assert [b["checked"] for b in back["tf"]] == ["true", "false"]
        assert "wrong" in back["tf"][0]["classes"] and "correct" in back["tf"][1]["classes"]
        assert back["verdict"] == "Wrong: you picked True; the statement is false."
    scale = report["cards"]["variance-scale"]
    assert [b["checked"] for b in scale["desktopFront"]["tf"]] == ["true", "false"]  # the T key
    assert scale["desktopBack"]["verdict"] == "Right: the statement is true."
    assert scale["freshBack"]["verdict"] == "No answer picked: the statement is true."
    assert not scale["noScriptFront"]["tfShown"] and scale["noScriptBack"]["verdict"] is None


# --- the real deck -----------------------------------------------------------------------------------


def test_every_card_of_the_default_deck_runs_without_script_errors(tmp_path: Path, figures_dir: Path) -> None:
    """Front then back of every card, in one desktop page: no script error, the pick kept, nothing on a front."""
    (built,), _ = build(REPO / "cards", BuildOptions(out_dir=tmp_path / "build", figures_dir=figures_dir, math_check=False))
    sides = imported_sides(built.path, tmp_path / "student")
    sweep = [{"name": card_id, "type": "truefalse" if "true or false" in s["type"] else "mcq", "clicks": [0]}
             for card_id, s in sorted(sides.items()) if "open" not in s["type"]]
    assert len(sweep) > 20
    report = run_driver(tmp_path, sides, [], sweep)
    assert report["errors"] == []
    for card_id, seen in report["sweep"].items():
        front, back = seen["front"], seen["back"]
        assert front["js"] and back["js"] and not front["hasCorrectClass"], card_id
        assert back["order"] == front["order"] and back["checked"] == front["checked"], card_id
        assert (front["checked"] or [b["checked"] for b in front["tf"]])[0] == "true", card_id
        assert back["verdict"] and back["verdict"].split(":")[0].split(".")[0] in {"Right", "Wrong", "Not quite"}, card_id
        assert back["mathErrors"] == 0, card_id
