"""Packages: atomic writes, byte-reproducible with SOURCE_DATE_EPOCH, current time without it."""

from __future__ import annotations

import socket
import zipfile

import pytest

from examdeck import package as package_module
from examdeck.pipeline import BuildOptions, build


def build_once(cards, out, figures_dir):
    built, _ = build(cards, BuildOptions(out_dir=out, figures_dir=figures_dir, math_check=False))
    return built[0].path


def test_same_sources_and_epoch_give_byte_identical_packages(basic_deck, tmp_path, figures_dir, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build_once(basic_deck, tmp_path / "a", figures_dir).read_bytes()
    second = build_once(basic_deck, tmp_path / "b", figures_dir).read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a" / "fixture-basic.apkg") as archive:
        assert [i.filename for i in archive.infolist()] == ["collection.anki2", "media", "0", "1", "2", "3"]  # 4 variants
        assert {i.date_time for i in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_without_epoch_the_build_carries_the_current_time(basic_deck, tmp_path, figures_dir, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setattr(package_module.time, "time", lambda: 1800000000.0)
    path = build_once(basic_deck, tmp_path / "a", figures_dir)
    with zipfile.ZipFile(path) as archive:
        assert archive.infolist()[0].date_time[0] == 2027


def test_invalid_epoch_is_a_clear_error(monkeypatch):
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH must be a whole number"):
        package_module.build_timestamp({"SOURCE_DATE_EPOCH": "yesterday"})


def test_failed_write_leaves_the_previous_package_byte_identical(basic_deck, tmp_path, figures_dir, monkeypatch):
    out = tmp_path / "build"
    previous = build_once(basic_deck, out, figures_dir).read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(package_module, "_write_zip", crash)
    (basic_deck / "basic" / "cards.yaml").write_text(
        (basic_deck / "basic" / "cards.yaml").read_text().replace("multiplicity", "EDITED")
    )
    with pytest.raises(OSError, match="disk full"):
        build_once(basic_deck, out, figures_dir)
    assert (out / "fixture-basic.apkg").read_bytes() == previous
    assert [p.name for p in out.iterdir()] == ["fixture-basic.apkg"]


def test_build_uses_no_network(basic_deck, tmp_path, figures_dir, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the build tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert build_once(basic_deck, tmp_path / "a", figures_dir).is_file()
