"""The build cache changes how much is redone, never what is built."""

from __future__ import annotations

import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from examdeck import cache as cache_module
from examdeck import cli, mathcheck, pipeline, sources
from examdeck.cache import CACHE_FILE, card_key, open_cache
from examdeck.cli import main
from examdeck.pipeline import BuildOptions, build, check

REPO = Path(__file__).resolve().parent.parent
EPOCH = "1700000000"
CACHED_TABLES = ("sources", "files", "renders", "heads", "cards")  # what a build without the math check caches


def corpus(root: Path, n: int = 60, per_file: int = 25) -> Path:
    """A deck shaped like the benchmark corpus (fast-path Markdown) plus cards that need markdown-it."""
    deck = root / "cards" / "bench"
    deck.mkdir(parents=True)
    (deck / "deck.yaml").write_text("key: bench\ntitle: Bench\nsource: test\ntopics:\n  - slug: ml\n    title: ML\n")
    for start in range(0, n, per_file):
        body = ["cards:"]
        for i in range(start, min(n, start + per_file)):
            extra = "\n      See [a link](https://example.org) and _emphasis_." if i % 5 == 0 else ""
            body.append(
                f"  - id: c{i:05d}\n    type: open\n    topics: [ml]\n    question: |\n"
                f"      Card {i}: what is the **lasso** objective for $w \\in \\mathbb{{R}}^{{{i % 50 + 1}}}$?{extra}\n"
                f"    answer: |\n      The objective (variant {i}) is\n\n"
                f"      $$\\frac{{1}}{{2}}\\|Xw - y\\|_2^2 + \\lambda \\|w\\|_1$$\n\n"
                f"      - it is **convex** in $w$ when $\\lambda_{{{i}}} \\ge 0$\n"
                f"      - see `numpy.linalg.lstsq`\n\n      ```python\n      w = solve(X, {i})\n      ```\n"
            )
        (deck / f"part-{start // per_file:04d}.yaml").write_text("\n".join(body))
    return root / "cards"


def package_rows(path: Path, tmp: Path) -> dict[str, list[tuple]]:
    """Every row of the package's collection, read with sqlite (only to compare builds of ours)."""
    with zipfile.ZipFile(path) as archive:
        db = tmp / f"{path.stem}-{len(list(tmp.iterdir()))}.anki2"
        db.write_bytes(archive.read("collection.anki2"))
    conn = sqlite3.connect(db)
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in ("col", "notes", "cards")
        }
    finally:
        conn.close()


def build_package(cards: Path, out: Path, cache_dir: Path | None, figures_dir: Path, **kwargs) -> Path:
    options = BuildOptions(out_dir=out, figures_dir=figures_dir, math_check=False, cache_dir=cache_dir, **kwargs)
    built, _ = build(cards, options)
    return built[0].path


@pytest.fixture
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def test_cold_warm_and_uncached_builds_are_identical(tmp_path, figures_dir, epoch, monkeypatch):
    monkeypatch.setattr(pipeline, "PARALLEL_RENDER_MIN", 10)  # exercise the two-process render too
    monkeypatch.setattr(sources, "PARALLEL_PARSE_MIN_BYTES", 1)  # and the two-process parse
    cards = corpus(tmp_path, per_file=12)
    plain = build_package(cards, tmp_path / "plain", None, figures_dir)
    cold = build_package(cards, tmp_path / "cold", tmp_path / "cache", figures_dir)
    warm = build_package(cards, tmp_path / "warm", tmp_path / "cache", figures_dir)
    assert (tmp_path / "cache" / CACHE_FILE).is_file()
    assert plain.read_bytes() == cold.read_bytes() == warm.read_bytes()
    rows = package_rows(plain, tmp_path)
    assert len(rows["notes"]) == 60 and len(rows["cards"]) == 60


def test_the_shipped_deck_is_identical_from_the_cache(tmp_path, figures_dir, epoch):
    plain = build_package(REPO / "cards", tmp_path / "plain", None, figures_dir, include_nullified=True)
    build_package(REPO / "cards", tmp_path / "cold", tmp_path / "cache", figures_dir, include_nullified=True)
    warm = build_package(REPO / "cards", tmp_path / "warm", tmp_path / "cache", figures_dir, include_nullified=True)
    assert plain.read_bytes() == warm.read_bytes()


def test_an_edit_rerenders_only_that_card_and_matches_a_clean_build(tmp_path, figures_dir, epoch):
    cards = corpus(tmp_path)
    build_package(cards, tmp_path / "first", tmp_path / "cache", figures_dir)
    part = cards / "bench" / "part-0001.yaml"
    part.write_text(part.read_text().replace("Card 30: what", "Card 30: which"))
    steps: list[str] = []
    options = BuildOptions(out_dir=tmp_path / "warm", figures_dir=figures_dir, math_check=False,
                           cache_dir=tmp_path / "cache")
    built, _ = build(cards, options, progress=steps.append)
    assert "rendering bench (1 of 60 cards changed)" in steps
    plain = build_package(cards, tmp_path / "plain", None, figures_dir)
    assert built[0].path.read_bytes() == plain.read_bytes()
    assert "Card 30: which" in str(package_rows(plain, tmp_path)["notes"])


def test_a_corrupt_cache_is_ignored_and_replaced(tmp_path, figures_dir, epoch):
    cards = corpus(tmp_path, n=10)
    plain = build_package(cards, tmp_path / "plain", None, figures_dir)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / CACHE_FILE).write_bytes(b"this is not a database" * 100)
    again = build_package(cards, tmp_path / "again", tmp_path / "cache", figures_dir)
    assert again.read_bytes() == plain.read_bytes()
    with sqlite3.connect(tmp_path / "cache" / CACHE_FILE) as conn:
        assert conn.execute("SELECT count(*) FROM cards").fetchone()[0] == 10


def poison(cache_file: Path, *, fingerprint: str | None = None) -> None:
    """Replace every cached value by well-formed but wrong data, or by malformed data."""
    conn = sqlite3.connect(cache_file)
    with conn:
        for table in CACHED_TABLES:
            conn.execute(f"UPDATE {table} SET value = replace(value, 'objective', 'POISON')")
        if fingerprint is not None:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'fingerprint'", (fingerprint,))
    conn.close()


def test_a_cache_from_another_version_is_never_used(tmp_path, figures_dir, epoch):
    cards = corpus(tmp_path, n=10)
    plain = build_package(cards, tmp_path / "plain", None, figures_dir)
    build_package(cards, tmp_path / "first", tmp_path / "cache", figures_dir)
    shutil.copytree(tmp_path / "cache", tmp_path / "same-version")
    poison(tmp_path / "cache" / CACHE_FILE, fingerprint="examdeck 0.0.1")
    again = build_package(cards, tmp_path / "again", tmp_path / "cache", figures_dir)
    assert again.read_bytes() == plain.read_bytes()
    # The same poison under this version's fingerprint is read: the test above is not vacuous.
    poison(tmp_path / "same-version" / CACHE_FILE)
    poisoned = build_package(cards, tmp_path / "poisoned", tmp_path / "same-version", figures_dir)
    assert "POISON" in str(package_rows(poisoned, tmp_path)["notes"])


@pytest.mark.parametrize("value", ["{not json", "[]", '{"card_id": 1}', '{"fields": {"Id": 3}, "formulas": []}',
                                   '{"card_id": "c00000", "fields": {}, "formulas": [["x", "yes", 1, "q"]], '
                                   '"figures": [], "problems": []}'])
def test_malformed_entries_are_misses(tmp_path, figures_dir, epoch, value):
    cards = corpus(tmp_path, n=10)
    plain = build_package(cards, tmp_path / "plain", None, figures_dir)
    build_package(cards, tmp_path / "first", tmp_path / "cache", figures_dir)
    conn = sqlite3.connect(tmp_path / "cache" / CACHE_FILE)
    with conn:
        for table in CACHED_TABLES:
            conn.execute(f"UPDATE {table} SET value = ?", (value,))
    conn.close()
    again = build_package(cards, tmp_path / "again", tmp_path / "cache", figures_dir)
    assert again.read_bytes() == plain.read_bytes()


def test_an_unwritable_cache_warns_and_builds(tmp_path, figures_dir, epoch):
    cards = corpus(tmp_path, n=5)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    options = BuildOptions(out_dir=tmp_path / "out", figures_dir=figures_dir, math_check=False, cache_dir=blocker)
    built, warnings = build(cards, options)
    assert built[0].path.is_file()
    assert any(w.startswith("build cache ignored") for w in warnings)


def test_previously_checked_formulas_start_no_mathjax(tmp_path, monkeypatch):
    cards = corpus(tmp_path, n=6)
    batches: list[int] = []

    def fake_mathjax(node_path, runner, formulas, timeout, measure=False):
        batches.append(len(formulas))
        return [(None, 1.0)] * len(formulas)

    monkeypatch.setattr(mathcheck, "_runner_problem", lambda *args: None)
    monkeypatch.setattr(mathcheck.shutil, "which", lambda name: "/usr/bin/node")
    monkeypatch.setattr(mathcheck, "_run_mathjax", fake_mathjax)
    check(cards, cache_dir=tmp_path / "cache")
    check(cards, cache_dir=tmp_path / "cache")
    assert len(batches) == 1 and batches[0] > 0  # identical formulas once, then nothing new
    part = cards / "bench" / "part-0000.yaml"
    part.write_text(part.read_text().replace("\\ge 0$", "\\ge 1$", 1))
    check(cards, cache_dir=tmp_path / "cache")
    assert batches[1:] == [1]


def test_card_key_ignores_the_path_and_sees_every_field():
    from examdeck.pipeline import load_decks

    deck = load_decks(REPO / "tests" / "fixtures")[0]
    card = deck.cards[0]
    from dataclasses import replace

    assert card_key(card, "src") == card_key(replace(card, path="elsewhere.yaml"), "src")
    assert card_key(card, "src") != card_key(card, "other source")
    assert card_key(card, "src") != card_key(replace(card, line=card.line + 1), "src")
    assert card_key(card, "src") != card_key(replace(card, notes="changed"), "src")


def test_rendered_entries_round_trip(tmp_path):
    from examdeck.pipeline import load_decks
    from examdeck.render import render_card

    deck = load_decks(REPO / "cards")[0]
    cache = open_cache(tmp_path)
    rendered = {card_key(c, deck.source): render_card(c, deck.source) for c in deck.cards}
    for key, value in rendered.items():
        cache.store_rendered(key, value)
    cache.save()
    cache.close()
    assert open_cache(tmp_path).rendered_cards(rendered) == rendered


def test_cli_no_cache_writes_no_cache_and_cache_dir_is_used(tmp_path, figures_dir, monkeypatch):
    cards = corpus(tmp_path, n=3)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    args = ["build", str(cards), "--figures-dir", str(figures_dir), "--no-math-check"]
    result = runner.invoke(main, [*args, "--out", "a", "--no-cache"], catch_exceptions=False)
    assert result.exit_code == 0 and not (tmp_path / "a" / ".cache").exists()
    result = runner.invoke(main, [*args, "--out", "b"], catch_exceptions=False)
    assert result.exit_code == 0 and (tmp_path / "b" / ".cache" / CACHE_FILE).is_file()
    result = runner.invoke(main, [*args, "--out", "c", "--cache-dir", "elsewhere"], catch_exceptions=False)
    assert result.exit_code == 0 and (tmp_path / "elsewhere" / CACHE_FILE).is_file()
    monkeypatch.setattr(cli, "CHECK_CACHE_DIR", Path("build") / ".cache")  # conftest isolates it elsewhere
    result = runner.invoke(main, ["check", str(cards), "--no-math-check"], catch_exceptions=False)
    assert result.exit_code == 0 and (tmp_path / "build" / ".cache" / CACHE_FILE).is_file()
    result = runner.invoke(main, ["check", str(cards), "--no-math-check", "--no-cache", "--cache-dir", "x"],
                           catch_exceptions=False)
    assert result.exit_code == 0 and not (tmp_path / "x").exists()


def test_old_entries_are_pruned(tmp_path, monkeypatch):
    cache = open_cache(tmp_path)
    for i in range(1500):
        cache.store_rendered(f"old-{i}", _tiny_rendered())
    cache.save()
    cache.close()
    cache = open_cache(tmp_path)
    cache.store_rendered("new", _tiny_rendered())
    cache.save()
    cache.close()
    with sqlite3.connect(tmp_path / CACHE_FILE) as conn:
        assert conn.execute("SELECT key FROM cards").fetchall() == [("new",)]


def test_a_table_this_run_did_not_look_at_is_not_pruned(tmp_path):
    cache = open_cache(tmp_path)
    verdicts = cache.verdicts([], "ns")
    for i in range(1500):
        verdicts[f"True:x_{i}"] = None
    cache.store_verdicts(verdicts, "ns")
    cache.save()
    cache.close()
    cache = open_cache(tmp_path)  # a --no-math-check build: cards only
    cache.store_rendered("new", _tiny_rendered())
    cache.save()
    cache.close()
    assert len(open_cache(tmp_path).verdicts([f"True:x_{i}" for i in range(1500)], "ns")) == 1500


def _tiny_rendered():
    from examdeck.render import RenderedCard

    return RenderedCard("x", {"Id": "x"}, (), (), ())


def test_cache_module_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, examdeck.cache, examdeck.pipeline; "
            "print(sorted(m for m in ('matplotlib', 'numpy', 'markdown_it', 'yaml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert cache_module.FORMAT >= 1


def test_copied_cache_dir_still_works(tmp_path, figures_dir, epoch):
    cards = corpus(tmp_path, n=5)
    build_package(cards, tmp_path / "a", tmp_path / "cache", figures_dir)
    shutil.copytree(tmp_path / "cache", tmp_path / "copy")
    plain = build_package(cards, tmp_path / "p", None, figures_dir)
    assert build_package(cards, tmp_path / "b", tmp_path / "copy", figures_dir).read_bytes() == plain.read_bytes()


def test_stale_figures_drawn_on_two_cores_are_the_figures(tmp_path):
    from examdeck import figures

    names = ["gelu-relu", "svm-support-vectors"]
    paths = figures.ensure_figures(names, tmp_path)
    assert all(figures.is_current(name, tmp_path) for name in names)
    for name in names:
        drawn = figures.draw(name)
        assert {v: p.read_bytes() for v, p in paths[name].images.items()} == drawn.images


# -- the cache's column encoding (examdeck.codec) ----------------------------------------------


def every_kind_of_card():
    """Cards of every type and status, with and without choices, sources, figures and retirement."""
    from dataclasses import replace

    from examdeck.model import Retirement, SourceRef
    from examdeck.pipeline import load_decks

    cards = [*load_decks(REPO / "tests" / "fixtures")[0].cards, *load_decks(REPO / "cards")[0].cards]
    cards.append(replace(cards[0], id="gone", status="retired", retirement=Retirement("r2", "Ambiguous."),
                         source=SourceRef(3, "b", 0.5), multiple=True))
    return cards


def test_cards_and_rendered_cards_round_trip_through_json():
    import json

    from examdeck.codec import decode_cards, decode_rendered, encode_cards, encode_rendered
    from examdeck.render import render_card

    cards = every_kind_of_card()
    by_file: dict[str, list] = {}
    for card in cards:
        by_file.setdefault(card.path, []).append(card)
    for path, file_cards in by_file.items():
        assert decode_cards(json.loads(json.dumps(encode_cards(file_cards))), path) == file_cards
    rendered = [render_card(card, "source") for card in cards]
    assert any(r.figures for r in rendered) and any(r.formulas for r in rendered)
    decoded = decode_rendered(json.loads(json.dumps(encode_rendered(rendered))))
    assert decoded == rendered
    assert {type(f).__name__ for r in decoded for f in r.formulas} == {"FormulaRef"}  # not bare tuples
    assert decode_cards(encode_cards([]), "x") == [] and decode_rendered(encode_rendered([])) == []


@pytest.mark.parametrize("damage", [
    lambda e: e.update(line=[True] * len(e["line"])),  # a boolean is not a line number
    lambda e: e.update(id=e["id"][:-1]),  # columns of different lengths
    lambda e: e["question"].__setitem__(0, ["question", "text"]),
    lambda e: e["answer"].__setitem__(0, "a string"),
    lambda e: e["topics"].__setitem__(0, "ml"),
    lambda e: e["choices"].__setitem__(0, [["a", "yes", 3]]),
    lambda e: e["source"].__setitem__(0, [1, 2, 3]),
    lambda e: e.pop("status"),
])
def test_malformed_card_columns_are_refused(damage):
    import json

    from examdeck.codec import decode_cards, encode_cards

    cards = [c for c in every_kind_of_card() if c.path == every_kind_of_card()[0].path]
    entry = json.loads(json.dumps(encode_cards(cards)))
    damage(entry)
    with pytest.raises((TypeError, ValueError, KeyError)):
        decode_cards(entry, cards[0].path)


def test_joined_rendered_entries_decode_as_one_and_refuse_shifts():
    from examdeck.codec import decode_rendered, encode_rendered, join_rendered
    from examdeck.render import render_card

    rendered = [render_card(card, "source") for card in every_kind_of_card()]
    assert decode_rendered(join_rendered([encode_rendered([r]) for r in rendered])) == rendered
    with pytest.raises(TypeError):
        join_rendered([encode_rendered(rendered[:2]), encode_rendered([])])  # two cards in one entry
    # One formula moved from an entry to the next: the counts still add up, joined.
    short, long = (encode_rendered([r]) for r in [r for r in rendered if r.formulas][:2])
    for name in ("tex", "display", "formula_line", "formula_field"):
        long[name], short[name] = long[name] + short[name][-1:], short[name][:-1]
    with pytest.raises(TypeError):
        join_rendered([short, long])


def test_note_heads_round_trip():
    import json

    from examdeck.assemble import note_head
    from examdeck.codec import decode_heads, encode_heads
    from examdeck.render import render_card

    heads = [note_head("deck", card, render_card(card, "source")) for card in every_kind_of_card()]
    assert {h.card_ords for h in heads} == {(0,), ()}  # the retired card's note has no card
    decoded = decode_heads(json.loads(json.dumps(encode_heads(heads))))
    assert decoded == heads and {type(h).__name__ for h in decoded} == {"NoteHead"}


# -- the validated cards of unchanged files ----------------------------------------------------


def test_a_rebuild_parses_and_validates_only_the_changed_file(tmp_path, figures_dir, epoch, monkeypatch):
    from examdeck import loading

    cards = corpus(tmp_path)
    build_package(cards, tmp_path / "first", tmp_path / "cache", figures_dir)
    part = cards / "bench" / "part-0001.yaml"
    part.write_text(part.read_text().replace("Card 30: what", "Card 30: which"))
    parsed, validated = [], []
    monkeypatch.setattr(loading, "parse_text", lambda text, shown, problems: parsed.append(shown) or
                        sources.parse_text(text, shown, problems))
    original_validate = loading.validate_card_file
    monkeypatch.setattr(loading, "validate_card_file", lambda source, *args: validated.append(source.path) or
                        original_validate(source, *args))
    warm = build_package(cards, tmp_path / "warm", tmp_path / "cache", figures_dir)
    assert [Path(p).name for p in parsed] == [Path(p).name for p in validated] == ["part-0001.yaml"]
    assert warm.read_bytes() == build_package(cards, tmp_path / "plain", None, figures_dir).read_bytes()


@pytest.mark.parametrize("edit", [
    ("part-0001.yaml", "topics: [ml]", "topics: [nope]"),  # a problem in the changed file
    ("part-0001.yaml", "id: c00030", "id: c00003"),  # a duplicate of a card in an unchanged file
    ("deck.yaml", "slug: ml", "slug: ai"),  # every file's cards invalid: the deck's topics changed
])
def test_problems_are_reported_the_same_with_a_warm_cache(tmp_path, figures_dir, monkeypatch, edit):
    cards = corpus(tmp_path)
    monkeypatch.chdir(tmp_path)
    build_package(cards, tmp_path / "first", tmp_path / "cache", figures_dir)
    name, old, new = edit
    path = cards / "bench" / name
    path.write_text(path.read_text().replace(old, new, 1))
    args = ["check", "cards", "--no-math-check"]
    runner = CliRunner()
    uncached = runner.invoke(main, [*args, "--no-cache"])
    first = runner.invoke(main, [*args, "--cache-dir", "cache"])
    again = runner.invoke(main, [*args, "--cache-dir", "cache"])
    assert uncached.exit_code == first.exit_code == again.exit_code == 1
    assert uncached.output == first.output == again.output
    assert "problem" in uncached.output
