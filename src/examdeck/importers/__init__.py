"""Importers: exams as instructors write them (AMC LaTeX, PDF-extracted text) to deck folders.

Each importer returns an `ImportResult` (cards, topics, warnings); `write_deck` writes it as a
deck folder, merging into one that exists. The click group is `examdeck.importers.cli.import_group`.
"""

from .amc import import_amc, parse_amc
from .model import (
    DeckMeta,
    ImportedCard,
    ImportedChoice,
    ImportResult,
    ImportWarning,
    slugify,
)
from .text import import_text, parse_exam_text
from .write import BASELINE_FILE, MergeReport, write_deck

__all__ = [
    "BASELINE_FILE",
    "DeckMeta",
    "ImportResult",
    "ImportWarning",
    "ImportedCard",
    "ImportedChoice",
    "MergeReport",
    "import_amc",
    "import_text",
    "parse_amc",
    "parse_exam_text",
    "slugify",
    "write_deck",
]
