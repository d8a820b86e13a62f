"""Instructors' own images: files of the deck folder that a card's text shows with `![alt](path)`.

An image is a PNG, JPEG, GIF, WebP or SVG file (told by its first bytes, not its name) inside
the deck folder; an SVG must not hold scripts (Anki shows it in the card's page). It ships under
a content-hashed name, ``examdeck-img-<sha256[:16]>.<type>``, so that versions never clash and
an unchanged file keeps its name.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .errors import Problem

__all__ = ["image_problem", "image_type", "media_name"]

_SVG_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]", re.DOTALL | re.IGNORECASE)
_SVG_ACTIVE = re.compile(rb"<script|\son[a-z]+\s*=|javascript:|<foreignObject|<iframe|<embed|<object", re.IGNORECASE)
MAX_IMAGE_BYTES = 20 * 1024 * 1024


def image_type(data: bytes) -> str | None:
    """The file type told by an image's first bytes (`png`, `jpg`, `gif`, `webp`, `svg`), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if _SVG_START.match(data.removeprefix(b"\xef\xbb\xbf")[:4096]):
        return "svg"
    return None


def resolve(deck_dir: Path, path: str) -> Path:
    """The file of an image path written relative to the deck folder."""
    return deck_dir / path


def image_problem(deck_dir: Path, path: str) -> str | None:
    """Why the image `path` (relative to `deck_dir`) cannot ship, or None when it can."""
    folder = deck_dir.resolve()
    file = resolve(deck_dir, path)
    try:
        real = file.resolve()
    except (OSError, RuntimeError):
        return f"image {path!r} cannot be read"
    if not real.is_relative_to(folder):
        return f"image {path!r} is outside the deck folder {deck_dir}: copy it into the deck folder (e.g. images/)"
    if not real.is_file():
        return f"image {path!r} not found: no file {file} (paths are relative to the deck folder, where deck.yaml is)"
    try:
        data = real.read_bytes()
    except OSError as exc:
        return f"image {path!r} cannot be read: {exc.strerror}"
    if len(data) > MAX_IMAGE_BYTES:
        return f"image {path!r} is too large ({len(data)} bytes, limit {MAX_IMAGE_BYTES}): shrink it"
    kind = image_type(data)
    if kind is None:
        return f"{path!r} is not a PNG, JPEG, GIF, WebP or SVG image (its first bytes say otherwise)"
    if kind == "svg" and _SVG_ACTIVE.search(data):
        return f"SVG image {path!r} holds a script or an event handler, which Anki would run: remove it"
    return None


def image_problems(deck_dir: Path, card_path: str, images: tuple) -> list[Problem]:
    """The problems of the images (``render.ImageRef``) of one card, located."""
    problems = []
    for image in images:
        message = image_problem(deck_dir, image.path)
        if message is not None:
            problems.append(Problem(card_path, image.line, image.field, message))
    return problems


def media_name(file: Path) -> str:
    """The name an image ships under: a hash of its bytes, and its type."""
    data = file.read_bytes()
    return f"examdeck-img-{hashlib.sha256(data).hexdigest()[:16]}.{image_type(data) or 'bin'}"
