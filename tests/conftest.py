"""Shared test helpers: the repository's paths and a real Anki collection (the official library)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIGURES_DIR = REPO / "figures"


@pytest.fixture
def basic_deck(tmp_path: Path) -> Path:
    """A writable copy of the small fixture deck, as a cards directory holding one deck."""
    cards = tmp_path / "cards"
    shutil.copytree(FIXTURES / "basic", cards / "basic")
    return cards


@pytest.fixture(autouse=True)
def isolated_check_cache(tmp_path_factory, monkeypatch):
    """`examdeck check` keeps its cache in ./build/.cache: one per test, never the repository's."""
    from examdeck import cli

    monkeypatch.setattr(cli, "CHECK_CACHE_DIR", tmp_path_factory.mktemp("check-cache"))


@pytest.fixture(scope="session")
def figures_dir(tmp_path_factory) -> Path:
    """A copy of the committed figures, so a test run never writes into the repository."""
    copy = tmp_path_factory.mktemp("figures")
    if FIGURES_DIR.is_dir():
        shutil.copytree(FIGURES_DIR, copy, dirs_exist_ok=True)
    return copy


@pytest.fixture
def collection(tmp_path: Path):
    from anki.collection import Collection

    (tmp_path / "student").mkdir()
    col = Collection(str(tmp_path / "student" / "collection.anki2"))
    yield col
    col.close()


def import_package(col, path: Path):
    """Import an .apkg the way a student does, with Anki's default options."""
    from anki.collection import ImportAnkiPackageRequest

    options = col._backend.get_import_anki_package_presets()
    log = col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=options))
    col.models._clear_cache()
    return log
