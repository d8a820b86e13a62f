"""Any input, however broken, gives located problems and exit 1, or a package Anki imports."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import import_package
from examdeck.cli import main

CORPUS = Path(__file__).parent / "fuzz_corpus"
PROBLEM_LINE = re.compile(r"^[^\s:][^:]*(?::\d+)?: (?:[\w\[\].-]+: )?\S.*$")
DECK = {"key": "fuzz", "title": "Fuzz deck", "topics": [{"slug": "a", "title": "A"}, {"slug": "b", "title": "B"}]}
VALID_CARDS = [
    {"id": "m1", "type": "mcq", "topics": ["a"], "question": "Pick $x_1$.",
     "choices": [{"text": "$x_1$", "correct": True}, {"text": "$x_2$", "correct": False}], "explanation": "Because."},
    {"id": "t1", "type": "truefalse", "topics": ["b", "a"], "question": "$1 < 2$", "answer": True},
    {"id": "o1", "type": "open", "topics": ["a"], "question": "Derive $\\nabla f$.", "answer": "$$\\nabla f = 0$$",
     "source": {"question": 3, "points": 1}},
]


def write_deck(root: Path, cards_text: str | bytes, deck_text: str | None = None) -> Path:
    deck_dir = root / "cards" / "fuzz"
    deck_dir.mkdir(parents=True, exist_ok=True)
    (deck_dir / "deck.yaml").write_text(deck_text if deck_text is not None else yaml.safe_dump(DECK))
    target = deck_dir / "cards.yaml"
    target.write_bytes(cards_text if isinstance(cards_text, bytes) else cards_text.encode())
    return root / "cards"


def assert_clean_failure_or_importable(root: Path, collection=None) -> None:
    """The property: a build either writes a package Anki imports, or reports located problems."""
    out = root / "build"
    result = CliRunner().invoke(main, ["build", str(root / "cards"), "--out", str(out)])
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        problems = [line for line in result.output.splitlines() if not line.endswith("nothing was written.")]
        assert problems and all(PROBLEM_LINE.match(line) for line in problems), result.output
        assert not out.exists() or not list(out.glob("*.apkg"))
    elif collection is not None:
        log = import_package(collection, out / "fuzz.apkg")
        assert len(log.log.new) >= 1


@pytest.mark.parametrize(
    ("cards_text", "expected"),
    [
        (b"\x00\x01\xff\xfe binary", "not UTF-8"),
        ("", "a card file must be a mapping"),
        ("cards: []\n", "the deck has no cards"),
        ("cards: 7\n", "must be a list"),
        ("cards:\n  - 12\n", "a card must be a mapping"),
        ("cards:\n  - {id: 5, type: open, topics: [a], question: q, answer: a}\n", "id: must be non-empty text"),
        ("cards:\n  - {id: x, type: [mcq], topics: [a], question: q}\n", "type: must be non-empty text"),
        ("cards:\n  - {id: x, type: open, topics: {a: 1}, question: q, answer: a}\n", "topics: must be a non-empty list"),
        ("cards:\n  - {id: x, type: open, topics: [a], question: [1, 2], answer: a}\n", "question: must be text"),
        ("cards:\n  - {id: x, type: mcq, topics: [a], question: q, choices: {text: a}}\n", "choices: an mcq needs a list"),
        ("cards:\n  - {id: x, type: mcq, topics: [a], question: q, choices: [a, b]}\n", "a choice must be a mapping"),
        ("cards:\n  - {id: x, type: mcq, topics: [a], question: q, choices: [{text: a, correct: yes please}, {text: b, correct: true}]}\n",
         "correct: must be true or false"),
        ("cards:\n  - {id: x, type: open, topics: [a], question: q, answer: a, source: 3}\n", "source: must be a mapping"),
        ("cards:\n  - {id: x, type: open, topics: [a], question: q, answer: a, source: {question: -1}}\n", "source.question"),
        ("cards:\n  - {id: x, type: open, topics: [a], question: q, answer: a, status: gone}\n", "unknown status"),
        ("cards:\n  - {id: x, type: open, topics: [a], question: q, answer: a, figure: ../../etc/passwd}\n", "unknown figure"),
        ("cards:\n  - {id: x, type: open, topics: [a], question: q, answer: a, figure: /etc/passwd}\n", "unknown figure"),
        ("cards:\n  - {id: x, type: open, topics: [a], question: '![x](../../etc/passwd)', answer: a}\n", "is outside the deck folder"),
        ("cards:\n  - {id: x, type: open, topics: [a], question: '![x](/etc/passwd)', answer: a}\n", "is not a file of the deck folder"),
        ("cards:\n  - {id: x, type: open, topics: [a], question: '![x](deck.yaml)', answer: a}\n", "is not a PNG, JPEG"),
        ("cards: !!python/object/apply:os.system ['echo hacked']\n", "invalid YAML"),
        ("cards:\n  - &a [*a]\n", "a card must be a mapping"),
        ("cards:\n  - {id: x, type: open, topics: [a], question: q, answer: a}\n  - {id: x, type: open, topics: [a], question: r, answer: b}\n",
         "duplicate id 'x'"),
    ],
)
def test_bad_input_gives_located_problems(tmp_path, monkeypatch, cards_text, expected):
    monkeypatch.chdir(tmp_path)
    write_deck(tmp_path, cards_text)
    result = CliRunner().invoke(main, ["check", "cards", "--no-math-check"])
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    for line in result.output.splitlines()[:-1]:
        assert line.startswith("cards/fuzz/") and PROBLEM_LINE.match(line), line


def test_duplicate_ids_across_files_name_both_places(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_deck(tmp_path, yaml.safe_dump({"cards": VALID_CARDS}))
    (tmp_path / "cards" / "fuzz" / "more.yaml").write_text(yaml.safe_dump({"cards": VALID_CARDS[:1]}))
    result = CliRunner().invoke(main, ["check", "cards", "--no-math-check"])
    assert result.exit_code == 1
    assert "cards/fuzz/more.yaml:2: id: duplicate id 'm1' (first defined at cards/fuzz/cards.yaml:" in result.output


def test_huge_file_is_refused_cleanly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_deck(tmp_path, "cards:\n" + "# padding\n" * 600_000)
    result = CliRunner().invoke(main, ["check", "cards", "--no-math-check"])
    assert result.exit_code == 1 and "file is too large" in result.output


def test_deck_without_topics_or_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_deck(tmp_path, yaml.safe_dump({"cards": VALID_CARDS}), deck_text="title: [oops\n")
    result = CliRunner().invoke(main, ["check", "cards", "--no-math-check"])
    assert result.exit_code == 1 and "cards/fuzz/deck.yaml:" in result.output and "invalid YAML" in result.output


def test_internal_error_is_one_line_unless_verbose(basic_deck, monkeypatch):
    from examdeck import render

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(render, "render_text", broken)
    result = CliRunner().invoke(main, ["check", str(basic_deck), "--no-math-check"])
    assert result.exit_code == 3
    assert result.output.count("\n") == 1 and "please file an issue" in result.output
    verbose = CliRunner().invoke(main, ["-v", "check", str(basic_deck), "--no-math-check"])
    assert verbose.exit_code == 3 and "Traceback" in verbose.output


# --- property-based fuzzing -------------------------------------------------------------

garbage = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 300), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20), st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
markdown_text = st.text(alphabet=st.sampled_from(list("ab $\\_*{}<>&#`[]()!\n-+0123456789")), min_size=1, max_size=40)


@st.composite
def mutated_sources(draw) -> str:
    cards = [dict(card) for card in draw(st.lists(st.sampled_from(VALID_CARDS), min_size=0, max_size=4))]
    for index, card in enumerate(cards):
        card["id"] = f"{card['id']}-{index}"
        for key in list(card):
            action = draw(st.sampled_from(["keep"] * 6 + ["delete", "garbage", "markdown"]))
            if action == "delete":
                del card[key]
            elif action == "garbage":
                card[key] = draw(garbage)
            elif action == "markdown" and isinstance(card[key], str):
                card[key] = draw(markdown_text)
    text = yaml.safe_dump({"cards": cards}, allow_unicode=True)
    if draw(st.booleans()) and text:
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.text(alphabet=":-[]{}\n '\"&*!|>%@`", max_size=5)) + text[cut:]
    return text


# CI runs a fixed, bounded set; EXAMDECK_FUZZ_EXAMPLES=5000 explores new random inputs.
# Save any input that ever fails to tests/fuzz_corpus/ as a regression case.
FUZZ_EXAMPLES = int(os.environ.get("EXAMDECK_FUZZ_EXAMPLES", "40"))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize="EXAMDECK_FUZZ_EXAMPLES" not in os.environ,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(source=mutated_sources())
def test_fuzzed_sources_build_or_fail_cleanly(tmp_path_factory, source):
    root = tmp_path_factory.mktemp("fuzz")
    write_deck(root, source)
    assert_clean_failure_or_importable(root)


@pytest.mark.parametrize("case", sorted(CORPUS.glob("*.yaml")), ids=lambda p: p.name)
def test_fuzz_corpus_regressions(tmp_path, case, collection):
    write_deck(tmp_path, case.read_bytes())
    assert_clean_failure_or_importable(tmp_path, collection)


def test_a_render_crash_still_comes_after_the_sources_problems(tmp_path, monkeypatch):
    """Without a cache, loading renders the valid files in the same pass; a bug in rendering must
    still surface only once the sources are valid, as it did when rendering came after loading."""
    from examdeck import render

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.chdir(tmp_path)
    write_deck(tmp_path, yaml.safe_dump({"cards": VALID_CARDS}))
    (tmp_path / "cards" / "fuzz" / "more.yaml").write_text("cards: 7\n")
    monkeypatch.setattr(render, "render_text", broken)
    result = CliRunner().invoke(main, ["check", "cards", "--no-math-check", "--no-cache"])
    assert result.exit_code == 1 and "cards/fuzz/more.yaml:1: cards: must be a list of cards" in result.output
    (tmp_path / "cards" / "fuzz" / "more.yaml").unlink()
    result = CliRunner().invoke(main, ["check", "cards", "--no-math-check", "--no-cache"])
    assert result.exit_code == 3 and "RuntimeError: boom" in result.output
