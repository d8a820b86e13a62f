#!/usr/bin/env python3
"""writers.py [N ...] -- examdeck's collection writer against genanki's public API, same notes, in process.

    python benchmarks/writers.py                 # N = 1,000 and 10,000 corpus cards; 7 runs each
    python benchmarks/writers.py 10000 --repeat 3

The notes are the benchmark corpus's (benchmarks/corpus.py), validated, rendered and assembled
once. Then, in alternation, each writer fills a fresh collection database (as
examdeck.package does: no journal, no fsync):

- examdeck: ``examdeck.collection.write_decks`` (the note rows, one ``executemany`` per table);
- genanki: one ``genanki.Note`` per note added to the same ``genanki.Deck`` objects, then
  ``genanki.Package(decks).write_to_db`` (genanki's public API).

Both write the same database (checked here after the runs; tests/test_collection.py compares
them table by table). Prints the median CPU time of each (on a shared machine, wall time measures
the other processes too), their difference and ratio.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TIMESTAMP = 1.7e9


def assembled_corpus(n: int, work: Path):
    import corpus

    from examdeck.assemble import assemble
    from examdeck.pipeline import load_decks
    from examdeck.render import render_card

    corpus.write_corpus(n, work / "cards")
    deck = load_decks(work / "cards")[0]
    rendered = {card.id: render_card(card, deck.source) for card in deck.cards}
    return assemble(deck, deck.cards, rendered, {})


def connect(path: Path) -> sqlite3.Connection:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    return conn


def write_examdeck(assembled, path: Path) -> None:
    from examdeck.collection import write_decks

    conn = connect(path)
    write_decks(conn.cursor(), list(assembled.decks), TIMESTAMP, itertools.count(int(TIMESTAMP * 1000)))
    conn.commit()
    conn.close()


def write_genanki(assembled, path: Path) -> None:
    import genanki

    decks = []
    for group in assembled.decks:
        deck = genanki.Deck(group.deck.deck_id, group.deck.name, group.deck.description)
        deck.models = dict(group.deck.models)  # the same note types, in the same order
        for row in group.notes:
            deck.add_note(genanki.Note(model=deck.models[row.model_id], fields=list(row.fields), tags=row.tags.split(),
                                       guid=row.guid, sort_field=row.sort_field))
        decks.append(deck)
    conn = connect(path)
    genanki.Package(decks).write_to_db(conn.cursor(), TIMESTAMP, itertools.count(int(TIMESTAMP * 1000)))
    conn.commit()
    conn.close()


def same_database(a: Path, b: Path) -> bool:
    def dump(path: Path) -> list[object]:
        with sqlite3.connect(path) as conn:
            return list(conn.iterdump())

    return dump(a) == dump(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    from importlib.metadata import version

    print(f"genanki {version('genanki')}; CPU time (user + system) of one process, median of {args.repeat} runs in "
          f"alternation, the garbage collector paused as during a build; load average before: {os.getloadavg()[0]:.2f}")
    print("| notes | examdeck writer | genanki public API | difference | ratio |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="examdeck-writers-") as tmp:
        work = Path(tmp)
        for n in args.sizes:
            assembled = assembled_corpus(n, work / f"n{n}")
            times: dict[str, list[float]] = {"examdeck": [], "genanki": []}
            writers = {"examdeck": write_examdeck, "genanki": write_genanki}
            for run in range(args.repeat + 1):
                for name, writer in writers.items():
                    gc.collect()
                    gc.disable()
                    start = time.process_time()
                    writer(assembled, work / f"{name}.anki2")
                    elapsed = time.process_time() - start
                    gc.enable()
                    if run:  # the first round is untimed
                        times[name].append(elapsed)
            assert same_database(work / "examdeck.anki2", work / "genanki.anki2"), "the writers disagree"
            ours, theirs = statistics.median(times["examdeck"]), statistics.median(times["genanki"])
            print(f"| {n:,} | {ours:.3f} s | {theirs:.3f} s | +{theirs - ours:.3f} s | {theirs / ours:.1f}× |")


if __name__ == "__main__":
    main()
