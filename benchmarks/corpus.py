#!/usr/bin/env python3
"""corpus.py N OUTDIR [PER_FILE=500] -- the shared benchmark corpus as an examdeck cards directory.

Writes OUTDIR/deck.yaml and OUTDIR/part-KKKK.yaml (PER_FILE cards each): card i is an `open`
card, id c{i+1:05d}, whose question and answer are `card_md(i)` from
../shared/bench/make_corpus.py, so examdeck, ankdown and the genanki floor build the same cards.
`examdeck build OUTDIR` builds it. Only benchmarks use ../shared: the product never does.
From a checkout elsewhere (e.g. a git worktree), point EXAMDECK_BENCH_SHARED at that directory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

SHARED_BENCH = Path(os.environ.get("EXAMDECK_BENCH_SHARED") or Path(__file__).resolve().parent.parent.parent / "shared" / "bench")

DECK_YAML = """\
key: bench
title: Bench
source: make_corpus.py
topics:
  - slug: ml
    title: Machine learning
"""


def card_md(i: int) -> tuple[str, str]:
    """Card i as (question, answer) Markdown, from the shared generator."""
    if str(SHARED_BENCH) not in sys.path:
        sys.path.insert(0, str(SHARED_BENCH))
    from make_corpus import card_md as shared_card_md

    return shared_card_md(i)


def card_id(i: int) -> str:
    return f"c{i + 1:05d}"


def _block(text: str, indent: str = "      ") -> str:
    # A `|` block keeps backslashes literal; blank lines stay blank (no trailing spaces).
    return "\n".join(indent + line if line else "" for line in text.split("\n"))


def card_yaml(i: int, source: Callable[[int], tuple[str, str]] = card_md) -> str:
    question, answer = source(i)
    return (
        f"  - id: {card_id(i)}\n    type: open\n    topics: [ml]\n"
        f"    question: |\n{_block(question)}\n    answer: |\n{_block(answer)}\n"
    )


def write_corpus(
    n: int, outdir: Path, per_file: int = 500, source: Callable[[int], tuple[str, str]] = card_md
) -> list[Path]:
    """Write the deck (cards from `source`, by default the shared `card_md`); return the card files."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "deck.yaml").write_text(DECK_YAML, encoding="utf-8")
    paths = []
    for start in range(0, n, per_file):
        path = outdir / f"part-{start // per_file:04d}.yaml"
        body = "".join(card_yaml(i, source) for i in range(start, min(n, start + per_file)))
        path.write_text("cards:\n" + body, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3):
        sys.exit("usage: corpus.py N OUTDIR [PER_FILE]")
    write_corpus(int(argv[0]), Path(argv[1]), *map(int, argv[2:3]))


if __name__ == "__main__":
    main(sys.argv[1:])
