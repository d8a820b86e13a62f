"""benchmarks/corpus.py writes a cards directory that examdeck builds, card for card."""

from __future__ import annotations

import importlib.util
import sqlite3
import zipfile
from pathlib import Path

import pytest

from examdeck.pipeline import BuildOptions, build

REPO = Path(__file__).resolve().parent.parent


def load_corpus_module():
    spec = importlib.util.spec_from_file_location("bench_corpus", REPO / "benchmarks" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stand_in(i: int) -> tuple[str, str]:
    """The shape of ../shared/bench's card_md, so that this test does not need ../shared."""
    question = f"Card {i}: what is the **lasso** objective for $w \\in \\mathbb{{R}}^{{{i + 1}}}$?"
    answer = f"The objective (variant {i}) is\n\n$$\\|w\\|_1$$\n\n- it is **convex**\n- see `lstsq`"
    if i % 2:
        answer += f"\n\n```python\nw = solve(X, {i})\n```"
    return question, answer


def notes_of(path: Path, tmp: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(path) as archive:
        (tmp / "c.anki2").write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(tmp / "c.anki2") as conn:
        # (Id, Question): note types v2 put the question first, then the id
        return [tuple(flds.split("\x1f")[1::-1]) for (flds,) in conn.execute("SELECT flds FROM notes ORDER BY id")]


def test_corpus_builds_one_open_card_per_index(tmp_path, figures_dir):
    corpus = load_corpus_module()
    files = corpus.write_corpus(7, tmp_path / "cards", per_file=3, source=stand_in)
    assert [f.name for f in files] == ["part-0000.yaml", "part-0001.yaml", "part-0002.yaml"]
    built, _ = build(tmp_path / "cards", BuildOptions(out_dir=tmp_path / "out", figures_dir=figures_dir,
                                                      math_check=False))
    notes = notes_of(built[0].path, tmp_path)
    assert [card_id for card_id, _ in notes] == [f"c{i:05d}" for i in range(1, 8)]
    assert notes[3][1] == ("<p>Card 3: what is the <strong>lasso</strong> objective for "
                           "\\(w \\in \\mathbb{R}^{4}\\)?</p>")


def test_corpus_from_the_shared_generator_builds(tmp_path, figures_dir):
    corpus = load_corpus_module()
    if not (corpus.SHARED_BENCH / "make_corpus.py").is_file():
        pytest.skip("../shared/bench is not beside this checkout (only the benchmarks need it)")
    corpus.write_corpus(20, tmp_path / "cards", per_file=8)
    built, _ = build(tmp_path / "cards", BuildOptions(out_dir=tmp_path / "out", figures_dir=figures_dir,
                                                      math_check=False))
    notes = notes_of(built[0].path, tmp_path)
    assert len(notes) == 20 and notes[19][1].startswith("<p>Card 19: ")
