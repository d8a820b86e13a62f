"""Instructors' own images: files of the deck folder shipped under content-hashed names with their alt
text, or refused with their line; an image reference never ships as Markdown text."""

from __future__ import annotations

import base64
import textwrap
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import import_package
from examdeck.cli import main
from examdeck.errors import InvalidSources
from examdeck.pipeline import BuildOptions, build

DECK_YAML = "key: pics\ntitle: Pictures\ntopics:\n  - {slug: t, title: Topic}\n"
# A 1x1 PNG, and the first bytes of the other accepted types.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>\n'


def deck_with(root: Path, question: str, files: dict[str, bytes]) -> Path:
    deck = root / "cards" / "pics"
    deck.mkdir(parents=True, exist_ok=True)
    (deck / "deck.yaml").write_text(DECK_YAML)
    for name, data in files.items():
        (deck / name).parent.mkdir(parents=True, exist_ok=True)
        (deck / name).write_bytes(data)
    card = textwrap.indent(question, " " * 6)
    (deck / "cards.yaml").write_text(f"cards:\n  - id: pic\n    type: open\n    topics: [t]\n    question: |\n{card}\n    answer: ok\n")
    return root / "cards"


def build_deck(root: Path) -> Path:
    built, _ = build(root / "cards", BuildOptions(out_dir=root / "build", figures_dir=root / "figures", math_check=False))
    return built[0].path


def test_each_image_type_ships_hashed_with_its_alt_text(tmp_path, collection):
    files = {"images/plot.png": PNG, "images/photo.jpeg": JPEG, "anim.gif": GIF, "images/w.webp": WEBP,
             "images/diagram.svg": SVG, "Lecture 05 - Slide 02.png": PNG + b"\x00"}
    question = "\n\n".join([
        "![the loss curve](images/plot.png)", "![a photo](images/photo.jpeg)", "![an animation](anim.gif)",
        "![webp](images/w.webp)", "![a diagram](images/diagram.svg)", "![slide two](Lecture 05 - Slide 02.png)",
        "![slide two, bracketed](<Lecture 05 - Slide 02.png>)",
    ])
    deck_with(tmp_path, question, files)
    apkg = build_deck(tmp_path)
    with zipfile.ZipFile(apkg) as archive:
        import json

        names = sorted(json.loads(archive.read("media")).values())
    assert len(names) == 6  # the slide once, though shown twice
    assert all(n.startswith("examdeck-img-") for n in names)
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["gif", "jpg", "png", "png", "svg", "webp"]

    import_package(collection, apkg)
    card = collection.get_card(collection.find_cards("")[0])
    front = card.render_output(reload=True).question_text
    assert "![" not in front and "](" not in front
    for alt in ("the loss curve", "a photo", "an animation", "webp", "a diagram", "slide two"):
        assert f'alt="{alt}"' in front
    media_dir = Path(collection.media.dir())
    for name in names:
        assert f'src="{name}"' in front
        assert (media_dir / name).is_file()


def test_an_edited_image_ships_under_a_new_name(tmp_path):
    deck_with(tmp_path, "![p](images/p.png)", {"images/p.png": PNG})
    first = build_deck(tmp_path)
    with zipfile.ZipFile(first) as archive:
        before = archive.read("media")
    (tmp_path / "cards" / "pics" / "images" / "p.png").write_bytes(PNG + b"\x00")
    with zipfile.ZipFile(build_deck(tmp_path)) as archive:
        assert archive.read("media") != before


@pytest.mark.parametrize(
    ("question", "files", "message"),
    [
        ("![gone](images/missing.png)", {}, "image 'images/missing.png' not found"),
        ("![escape](../outside.png)", {}, "is outside the deck folder"),
        ("![text](notes.txt)", {"notes.txt": b"just words"}, "'notes.txt' is not a PNG, JPEG, GIF, WebP or SVG image"),
        ("![renamed](fake.png)", {"fake.png": b"%PDF-1.4"}, "is not a PNG, JPEG, GIF, WebP or SVG image"),
        ("![bad](evil.svg)", {"evil.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'},
         "holds a script or an event handler"),
        ("![bad](click.svg)", {"click.svg": b'<svg onload="alert(1)" xmlns="http://www.w3.org/2000/svg"/>'},
         "holds a script or an event handler"),
        ("![web](http://example.org/x.png)", {}, "is not a file of the deck folder"),
        ("Intro\n\n![broken figure](figure:two words)", {}, "'two words' is not a figure name"),
        ("![no close](images/p.png", {}, "is not a valid Markdown image"),
    ],
)
def test_a_bad_image_is_refused_with_its_line(tmp_path, question, files, message):
    (tmp_path / "outside.png").write_bytes(PNG)
    deck_with(tmp_path, question, files)
    with pytest.raises(InvalidSources) as caught:
        build_deck(tmp_path)
    found = [str(p) for p in caught.value.problems]
    line = 6 + question.count("\n")
    assert any(f"cards.yaml:{line}: question: " in m and message in m for m in found), found
    assert not (tmp_path / "build").exists() or not list((tmp_path / "build").glob("*.apkg"))


def test_check_reports_a_missing_image(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    deck_with(tmp_path, "![gone](images/missing.png)", {})
    result = CliRunner().invoke(main, ["check", "cards", "--no-math-check"])
    assert result.exit_code == 1
    assert "cards/pics/cards.yaml:6: question: image 'images/missing.png' not found" in result.output


def test_cached_and_uncached_builds_with_images_are_identical(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    deck_with(tmp_path, "![p](images/p.png) and $x$", {"images/p.png": PNG})
    options = BuildOptions(out_dir=tmp_path / "a", figures_dir=tmp_path / "figures", math_check=False)
    plain = build(tmp_path / "cards", options)[0][0].path.read_bytes()
    cached = dict(out_dir=tmp_path / "b", figures_dir=tmp_path / "figures", math_check=False, cache_dir=tmp_path / "cache")
    first = build(tmp_path / "cards", BuildOptions(**cached))[0][0].path.read_bytes()
    again = build(tmp_path / "cards", BuildOptions(**cached))[0][0].path.read_bytes()
    assert plain == first == again
    # The cache keeps the rendered card, not the image: a changed image still changes the package.
    (tmp_path / "cards" / "pics" / "images" / "p.png").write_bytes(PNG + b"\x01")
    assert build(tmp_path / "cards", BuildOptions(**cached))[0][0].path.read_bytes() != again
