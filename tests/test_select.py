"""Subsets of the real deck: every filter, their combinations and the query language."""

from __future__ import annotations

import pytest

from conftest import REPO
from examdeck.pipeline import load_decks
from examdeck.select import QueryError, Selection, parse_ranges, select


@pytest.fixture(scope="module")
def deck():
    (deck,) = load_decks(REPO / "cards")
    return deck


def ids(cards) -> set[str]:
    return {c.id for c in cards}


def chosen(deck, **filters) -> set[str]:
    return ids(select(deck, deck.cards, Selection(**filters)))


def test_topic_filters_are_or_and_span_secondary_topics(deck):
    kmeans = chosen(deck, topics=("kmeans",))
    gmm = chosen(deck, topics=("gmm-em",))
    assert {"q07", "q08"} <= kmeans
    assert "q08" in gmm  # Q8 is about GMM and K-means: it has both topics
    assert chosen(deck, topics=("kmeans", "gmm-em")) == kmeans | gmm


def test_type_filter(deck):
    assert chosen(deck, types=("mcq",)) == {f"q{n:02d}" for n in range(1, 13)}
    assert all(c.type == "open" for c in deck.cards if c.id in chosen(deck, types=("open",)))


def test_question_ranges_keep_every_part(deck):
    assert chosen(deck, questions="1-12,33") == {f"q{n:02d}" for n in range(1, 13)} | {"q33a", "q33b", "q33c"}


def test_tag_filter_matches_hierarchical_tags(deck):
    assert chosen(deck, tags=("exam::cs433-2024::q08",)) == {"q08"}
    assert chosen(deck, tags=("type",)) == ids(deck.cards)
    assert chosen(deck, tags=("topic::diffusion",)) == chosen(deck, topics=("diffusion",))


def test_exclude_topic_and_combinations(deck):
    everything = ids(deck.cards)
    diffusion = chosen(deck, topics=("diffusion",))
    assert chosen(deck, exclude_topics=("diffusion",)) == everything - diffusion
    gmm_tf = chosen(deck, topics=("gmm-em",), types=("truefalse",))
    assert gmm_tf and all(c.type == "truefalse" and "gmm-em" in c.topics for c in deck.cards if c.id in gmm_tf)
    assert chosen(deck, topics=("gmm-em", "kmeans"), exclude_topics=("kmeans",)) == chosen(deck, topics=("gmm-em",)) - chosen(
        deck, topics=("kmeans",)
    )


def test_query_precedence_and_parentheses(deck):
    gmm, kmeans = chosen(deck, topics=("gmm-em",)), chosen(deck, topics=("kmeans",))
    open_cards = chosen(deck, types=("open",))
    # As in Anki's search, AND binds tighter than OR: the unparenthesised form keeps kmeans' open questions out only.
    assert chosen(deck, query="topic:gmm-em or topic:kmeans and not type:open") == gmm | (kmeans - open_cards)
    assert chosen(deck, query="(topic:gmm-em or topic:kmeans) and not type:open") == (gmm | kmeans) - open_cards
    assert chosen(deck, query="question:1-3 AND NOT question:2") == {"q01", "q03"}
    assert chosen(deck, query="topic:diffusion", types=("open",)) == chosen(deck, topics=("diffusion",))


def test_anki_conventions_implicit_and_minus_and_or(deck):
    gmm, kmeans = chosen(deck, topics=("gmm-em",)), chosen(deck, topics=("kmeans",))
    mcq, open_cards = chosen(deck, types=("mcq",)), chosen(deck, types=("open",))
    assert chosen(deck, query="topic:gmm-em type:mcq") == chosen(deck, query="topic:gmm-em and type:mcq") == gmm & mcq
    assert chosen(deck, query="(topic:gmm-em or topic:kmeans) -type:open") == (gmm | kmeans) - open_cards
    assert chosen(deck, query="topic:gmm-em OR topic:kmeans type:mcq") == gmm | (kmeans & mcq)
    assert chosen(deck, query="-(topic:gmm-em or type:open) topic:kmeans") == kmeans - gmm - open_cards
    assert chosen(deck, query="q:1-3 -q:2") == {"q01", "q03"}
    assert chosen(deck, query="topic:gmm-em -topic:kmeans") == gmm - kmeans  # '-' inside a slug stays part of it


def test_subset_title_is_in_words(deck):
    from examdeck.select import subset_title

    titles = {t.slug: t.title for t in deck.topics}
    title = subset_title(deck, Selection(query="(topic:gmm-em or topic:kmeans) -type:open"))
    assert title == f"{deck.title} (({titles['gmm-em']} or {titles['kmeans']}), without open questions)"
    assert subset_title(deck, Selection(topics=("kmeans",), types=("mcq",))) == f"{deck.title} ({titles['kmeans']}, multiple choice)"
    mixed = subset_title(deck, Selection(query="topic:kmeans type:mcq or q:3"))
    assert mixed == f"{deck.title} (({titles['kmeans']}, multiple choice) or question 3)"
    assert "::" not in subset_title(deck, Selection(tags=("exam::cs433-2024::q08",)))  # '::' would nest decks in Anki
    assert subset_title(deck, Selection(questions="8")) == f"{deck.title} (question 8)"
    assert subset_title(deck, Selection()) == deck.title


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("topic:gmm-em or", "ends too early"),
        ("(topic:gmm-em", "missing ')'"),
        ("topic:gmm-em )", "unexpected ')'"),
        ("()", "unexpected ')'"),
        ("topic:gmm-em -", "ends too early"),
        ("topic:gmm-em or or type:mcq", "unexpected 'or'"),
        ("and type:mcq", "unexpected 'and'"),
        ("gmm", "is not a term"),
        ("colour:red", "unknown field 'colour'"),
        ("topic:nope", "unknown topic 'nope'"),
        ("type:essay", "unknown type 'essay'"),
        ("question:9-3", "goes backwards"),
        ("", "empty query"),
    ],
)
def test_malformed_queries_give_clear_errors(deck, query, message):
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        select(deck, deck.cards, Selection(query=query))


def test_empty_selection_lists_the_topics(deck):
    with pytest.raises(QueryError) as error:
        select(deck, deck.cards, Selection(topics=("diffusion",), types=("mcq",)))
    assert "no card matches" in str(error.value) and "gmm-em" in str(error.value)


def test_parse_ranges():
    assert parse_ranges("1-3, 7,q9") == {1, 2, 3, 7, 9}


def test_implicit_and_selects_the_same_notes_as_and_and_as_anki_search(basic_deck, tmp_path, figures_dir, collection):
    """Exported subsets, imported with the official anki library, hold exactly what Anki's own search finds."""
    from anki.collection import Collection
    from click.testing import CliRunner

    from conftest import import_package
    from examdeck.cli import main

    def run(*args):
        result = CliRunner().invoke(main, [*args, "--figures-dir", str(figures_dir), "--no-math-check"], catch_exceptions=False)
        assert result.exit_code == 0, result.output

    run("build", str(basic_deck), "--out", str(tmp_path / "full"))
    import_package(collection, tmp_path / "full" / "fixture-basic.apkg")

    def anki_ids(col, search):
        return {col.get_note(n)["Id"] for n in col.find_notes(search)}

    cases = [
        ("topic:losses type:truefalse", "topic:losses and type:truefalse", "tag:topic::losses tag:type::truefalse"),
        ("topic:linalg -type:open", "topic:linalg and not type:open", "tag:topic::linalg -tag:type::open"),
        ("(topic:linalg or type:mcq) -topic:losses", "(topic:linalg or type:mcq) and not topic:losses",
         "(tag:topic::linalg or tag:type::mcq) -tag:topic::losses"),
    ]
    for number, (implicit, explicit, anki_search) in enumerate(cases):
        exported = []
        for query in (implicit, explicit):
            out = tmp_path / f"subset-{number}-{len(exported)}.apkg"
            run("export", str(basic_deck), "--query", query, "--out", str(out))
            (tmp_path / out.stem).mkdir()
            col = Collection(str(tmp_path / out.stem / "collection.anki2"))
            try:
                import_package(col, out)
                exported.append(anki_ids(col, ""))
            finally:
                col.close()
        assert exported[0] == exported[1] == anki_ids(collection, anki_search) != set(), implicit
