"""Write an .apkg atomically and, given a fixed timestamp, byte for byte reproducibly."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sqlite3
import tempfile
import time
import zipfile
from pathlib import Path

from .assemble import AssembledDeck

ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can hold


def build_timestamp(environ: dict[str, str] | None = None) -> float:
    """SOURCE_DATE_EPOCH when set (reproducible releases), else now (so a rebuild updates students' notes)."""
    env = os.environ if environ is None else environ
    value = env.get("SOURCE_DATE_EPOCH", "").strip()
    if value:
        try:
            return float(int(value))
        except ValueError:
            raise ValueError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, got {value!r}") from None
    return time.time()


def write_package(assembled: AssembledDeck, out_path: Path, timestamp: float) -> None:
    """Write to a temporary file beside `out_path`, then rename: a failure leaves the old package intact."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".examdeck-", dir=out_path.parent) as tmp:
        db_path = Path(tmp) / "collection.anki2"
        _write_collection(assembled, db_path, timestamp)
        zip_path = Path(tmp) / "package.apkg"
        _write_zip(assembled, db_path, zip_path, timestamp)
        os.replace(zip_path, out_path)


def _write_collection(assembled: AssembledDeck, db_path: Path, timestamp: float) -> None:
    from .collection import write_decks

    conn = sqlite3.connect(db_path)
    try:
        cursor = conn.cursor()
        # A scratch file, zipped then deleted: no rollback journal, no fsync (same bytes, less time).
        cursor.execute("PRAGMA journal_mode=OFF")
        cursor.execute("PRAGMA synchronous=OFF")
        # genanki's rows through a leaner path (see examdeck.collection).
        write_decks(cursor, list(assembled.decks), timestamp, itertools.count(int(timestamp * 1000)))
        conn.commit()
    finally:
        conn.close()


def _write_zip(assembled: AssembledDeck, db_path: Path, zip_path: Path, timestamp: float) -> None:
    date_time = time.gmtime(max(int(timestamp), ZIP_EPOCH))[:6]

    def entry(name: str, deflate: bool = True) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=date_time)
        info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    media_index = {str(i): m.name for i, m in enumerate(assembled.media)}
    with zipfile.ZipFile(zip_path, "w") as archive:
        collection = entry("collection.anki2")
        # Level 1: a third of the time of the default level, for a few percent more bytes
        # (ZipInfo's attribute is private before Python 3.13, public as compress_level after).
        collection._compresslevel = 1  # type: ignore[attr-defined]
        with open(db_path, "rb") as db, archive.open(collection, "w") as packed:
            shutil.copyfileobj(db, packed, 1 << 20)  # streamed: the database is never whole in memory
        archive.writestr(entry("media"), json.dumps(media_index, sort_keys=True))
        for index, media in enumerate(assembled.media):
            # PNG and JPEG are compressed already: deflating them again costs time and saves nothing.
            stored = media.source.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif", ".webp")
            archive.writestr(entry(str(index), deflate=not stored), media.source.read_bytes())
